/*
 * tls_x509.c: certificates for tightbind/tls/x509.py: read (DER, PEM, PEM bundles),
 * written, and decoded whole in one call into the fields CPython's getpeercert() shows.
 */
#include <pthread.h>
#include <stdio.h>
#include <string.h>

#include "tls_internal.h"

static int info_add_string(tb_tls_cert_info *info, const void *data, size_t len, size_t *off)
{
    if (len > SIZE_MAX / 2 - info->strings_len - 1)
        return TB_E_NOMEM;
    size_t need = info->strings_len + len + 1;
    if (need > info->strings_cap) {
        size_t cap = info->strings_cap ? info->strings_cap : 512;
        while (cap < need)
            cap *= 2;
        char *strings = OPENSSL_realloc(info->strings, cap);
        if (strings == NULL)
            return TB_E_NOMEM;
        info->strings = strings;
        info->strings_cap = cap;
    }
    if (len > 0 && data != NULL)
        memcpy(info->strings + info->strings_len, data, len);
    *off = info->strings_len;
    info->strings_len += len;
    info->strings[info->strings_len++] = '\0';
    return TB_OK;
}

static int info_add_text(tb_tls_cert_info *info, const char *text, size_t *off, size_t *len)
{
    *len = strlen(text);
    return info_add_string(info, text, *len, off);
}

static tb_tls_cert_item *info_add_item(tb_tls_cert_info *info, int kind, int index, int rdn)
{
    if (info->item_count == info->item_cap) {
        size_t cap = info->item_cap ? info->item_cap * 2 : 32;
        tb_tls_cert_item *items = OPENSSL_realloc(info->items, cap * sizeof(*items));
        if (items == NULL)
            return NULL;
        info->items = items;
        info->item_cap = cap;
    }
    tb_tls_cert_item *item = &info->items[info->item_count++];
    memset(item, 0, sizeof(*item));
    item->kind = kind;
    item->index = index;
    item->rdn = rdn;
    return item;
}

/* The long name of obj, or its dotted form, as OBJ_obj2txt(..., 0) spells it. */
static int info_add_object(tb_tls_cert_info *info, const ASN1_OBJECT *obj, size_t *off, size_t *len)
{
    char small[128];
    int n = OBJ_obj2txt(small, sizeof(small), obj, 0);
    if (n < 0)
        return TB_TLS_E_DECODE;
    if ((size_t)n < sizeof(small)) {
        *len = (size_t)n;
        return info_add_string(info, small, (size_t)n, off);
    }
    char *big = OPENSSL_malloc((size_t)n + 1);
    if (big == NULL)
        return TB_E_NOMEM;
    int m = OBJ_obj2txt(big, n + 1, obj, 0);
    int rc = m < 0 ? TB_TLS_E_DECODE : info_add_string(info, big, (size_t)m, off);
    *len = m < 0 ? 0 : (size_t)m;
    OPENSSL_free(big);
    return rc;
}

/* One item per attribute; RDNs numbered as CPython groups them (set changes). */
static int decode_name(tb_tls_cert_info *info, const X509_NAME *name, int kind, int index)
{
    int rdn = -1, last_set = -1;
    for (int i = 0; i < X509_NAME_entry_count(name); i++) {
        const X509_NAME_ENTRY *entry = X509_NAME_get_entry(name, i);
        int set = X509_NAME_ENTRY_set(entry);
        if (rdn < 0 || set != last_set)
            rdn++;
        last_set = set;
        int number = kind == TB_TLS_CERT_SAN_DIRNAME ? index : rdn;
        tb_tls_cert_item *item = info_add_item(info, kind, number, rdn);
        if (item == NULL)
            return TB_E_NOMEM;
        const ASN1_OBJECT *obj = X509_NAME_ENTRY_get_object(entry);
        const ASN1_STRING *value = X509_NAME_ENTRY_get_data(entry);
        int rc = info_add_object(info, obj, &item->key_off, &item->key_len);
        if (rc != TB_OK)
            return rc;
        rc = info_add_text(info, OBJ_nid2sn(OBJ_obj2nid(obj)), &item->short_off,
                           &item->short_len);
        if (rc != TB_OK)
            return rc;
        rc = info_add_string(info, ASN1_STRING_get0_data(value),
                             (size_t)ASN1_STRING_length(value), &item->raw_off);
        if (rc != TB_OK)
            return rc;
        item->raw_len = (size_t)ASN1_STRING_length(value);
        unsigned char *utf8 = NULL;
        int utf8_len = ASN1_STRING_to_UTF8(&utf8, value);
        if (utf8_len < 0)
            return TB_TLS_E_DECODE;
        rc = info_add_string(info, utf8, (size_t)utf8_len, &item->value_off);
        item->value_len = (size_t)utf8_len;
        OPENSSL_free(utf8);
        if (rc != TB_OK)
            return rc;
    }
    return TB_OK;
}

static int add_pair(tb_tls_cert_info *info, int kind, int index, const char *key, const void *value,
                    size_t value_len)
{
    tb_tls_cert_item *item = info_add_item(info, kind, index, 0);
    if (item == NULL)
        return TB_E_NOMEM;
    int rc = info_add_text(info, key, &item->key_off, &item->key_len);
    if (rc != TB_OK)
        return rc;
    item->value_len = value_len;
    return info_add_string(info, value, value_len, &item->value_off);
}

/* One subjectAltName entry, spelt the way CPython's certificate decoder spells it. */
static int decode_general_name(tb_tls_cert_info *info, const GENERAL_NAME *name, int index,
                               BIO *bio)
{
    char buf[2048];
    const ASN1_STRING *text = NULL;
    const char *key = NULL;
    int len;

    switch (name->type) {
    case GEN_DIRNAME: {
        int rc = add_pair(info, TB_TLS_CERT_SAN, index, "DirName", "", 0);
        return rc != TB_OK ? rc : decode_name(info, name->d.dirn, TB_TLS_CERT_SAN_DIRNAME, index);
    }
    case GEN_EMAIL:
        key = "email";
        text = name->d.rfc822Name;
        break;
    case GEN_DNS:
        key = "DNS";
        text = name->d.dNSName;
        break;
    case GEN_URI:
        key = "URI";
        text = name->d.uniformResourceIdentifier;
        break;
    case GEN_RID:
        len = i2t_ASN1_OBJECT(buf, sizeof(buf) - 1, name->d.rid);
        if (len < 0)
            return TB_TLS_E_DECODE;
        if (len >= (int)sizeof(buf) - 1)
            return add_pair(info, TB_TLS_CERT_SAN, index, "Registered ID", "<INVALID>", 9);
        return add_pair(info, TB_TLS_CERT_SAN, index, "Registered ID", buf, (size_t)len);
    case GEN_IPADD: {
        const unsigned char *p = name->d.ip->data;
        if (name->d.ip->length == 4)
            len = snprintf(buf, sizeof(buf), "%d.%d.%d.%d", p[0], p[1], p[2], p[3]);
        else if (name->d.ip->length == 16)
            len = snprintf(buf, sizeof(buf), "%X:%X:%X:%X:%X:%X:%X:%X", p[0] << 8 | p[1],
                           p[2] << 8 | p[3], p[4] << 8 | p[5], p[6] << 8 | p[7],
                           p[8] << 8 | p[9], p[10] << 8 | p[11], p[12] << 8 | p[13],
                           p[14] << 8 | p[15]);
        else
            len = snprintf(buf, sizeof(buf), "<invalid>");
        return add_pair(info, TB_TLS_CERT_SAN, index, "IP Address", buf, (size_t)len);
    }
    default: {
        /* othername, X400, EDI party: OpenSSL's printed form, split at the first ':'. */
        (void)BIO_reset(bio);
        GENERAL_NAME_print(bio, (GENERAL_NAME *)name);
        len = BIO_gets(bio, buf, sizeof(buf) - 1);
        if (len < 0)
            return TB_TLS_E_DECODE;
        buf[len] = '\0';
        char *colon = strchr(buf, ':');
        if (colon == NULL)
            return TB_TLS_E_DECODE;
        *colon = '\0';
        return add_pair(info, TB_TLS_CERT_SAN, index, buf, colon + 1,
                        (size_t)len - (size_t)(colon + 1 - buf));
    }
    }
    return add_pair(info, TB_TLS_CERT_SAN, index, key, ASN1_STRING_get0_data(text),
                    (size_t)ASN1_STRING_length(text));
}

static int decode_extensions(tb_tls_cert_info *info, X509 *cert, BIO *bio)
{
    int rc = TB_OK;
    GENERAL_NAMES *names = X509_get_ext_d2i(cert, NID_subject_alt_name, NULL, NULL);
    for (int i = 0; names != NULL && rc == TB_OK && i < sk_GENERAL_NAME_num(names); i++)
        rc = decode_general_name(info, sk_GENERAL_NAME_value(names, i), i, bio);
    GENERAL_NAMES_free(names);
    if (rc != TB_OK)
        return rc;

    AUTHORITY_INFO_ACCESS *access = X509_get_ext_d2i(cert, NID_info_access, NULL, NULL);
    for (int i = 0; access != NULL && rc == TB_OK && i < sk_ACCESS_DESCRIPTION_num(access); i++) {
        ACCESS_DESCRIPTION *ad = sk_ACCESS_DESCRIPTION_value(access, i);
        int nid = OBJ_obj2nid(ad->method);
        if (ad->location->type != GEN_URI || (nid != NID_ad_OCSP && nid != NID_ad_ca_issuers))
            continue;
        const ASN1_IA5STRING *uri = ad->location->d.uniformResourceIdentifier;
        int kind = nid == NID_ad_OCSP ? TB_TLS_CERT_OCSP : TB_TLS_CERT_CA_ISSUERS;
        rc = add_pair(info, kind, i, "URI", uri->data, (size_t)uri->length);
    }
    AUTHORITY_INFO_ACCESS_free(access);
    if (rc != TB_OK)
        return rc;

    CRL_DIST_POINTS *points = X509_get_ext_d2i(cert, NID_crl_distribution_points, NULL, NULL);
    for (int i = 0; points != NULL && rc == TB_OK && i < sk_DIST_POINT_num(points); i++) {
        DIST_POINT *point = sk_DIST_POINT_value(points, i);
        if (point->distpoint == NULL || point->distpoint->type != 0)
            continue;
        GENERAL_NAMES *full = point->distpoint->name.fullname;
        for (int j = 0; rc == TB_OK && j < sk_GENERAL_NAME_num(full); j++) {
            GENERAL_NAME *name = sk_GENERAL_NAME_value(full, j);
            if (name->type != GEN_URI)
                continue;
            const ASN1_IA5STRING *uri = name->d.uniformResourceIdentifier;
            rc = add_pair(info, TB_TLS_CERT_CRL_DP, i, "URI", uri->data, (size_t)uri->length);
        }
    }
    CRL_DIST_POINTS_free(points);
    return rc;
}

/* The first line a printing function wrote to bio, stored as a string. */
static int info_add_bio_line(tb_tls_cert_info *info, BIO *bio, size_t *off, size_t *len)
{
    char buf[2048];
    int n = BIO_gets(bio, buf, sizeof(buf) - 1);
    if (n < 0)
        return TB_TLS_E_DECODE;
    *len = (size_t)n;
    return info_add_string(info, buf, (size_t)n, off);
}

/*
 * The serial number as upper-case hex, two digits per stored byte ("00" for an empty
 * one, "-" before a negative one): i2a_ASN1_INTEGER's text without the backslash-newline
 * it inserts every 35 bytes, so that a serial of any length (RFC 5280 allows 20 octets,
 * OpenSSL parses longer ones) decodes.  Written straight into the strings, no BIO.
 */
static int info_add_serial(tb_tls_cert_info *info, const ASN1_INTEGER *serial)
{
    static const char digits[] = "0123456789ABCDEF";
    const unsigned char *data = ASN1_STRING_get0_data(serial);
    size_t len = (size_t)ASN1_STRING_length(serial);
    int negative = ASN1_STRING_type(serial) == V_ASN1_NEG_INTEGER;
    if (len > (SIZE_MAX - 4) / 2)
        return TB_E_NOMEM;
    size_t text_len = (len ? len * 2 : 2) + (size_t)negative;
    int rc = info_add_string(info, NULL, text_len, &info->serial_off);
    if (rc != TB_OK)
        return rc;
    char *out = info->strings + info->serial_off;
    if (negative)
        *out++ = '-';
    if (len == 0) {
        out[0] = out[1] = '0';
    }
    for (size_t i = 0; i < len; i++) {
        out[2 * i] = digits[data[i] >> 4];
        out[2 * i + 1] = digits[data[i] & 15];
    }
    info->serial_len = text_len;
    return TB_OK;
}

/* The time as ASN1_TIME_print spells it ("Jan  2 03:04:05 2024 GMT"), from its fields;
   a time RFC 5280 forbids (fractional seconds, no "Z") is printed by OpenSSL itself. */
static int info_add_time(tb_tls_cert_info *info, BIO *bio, const ASN1_TIME *time,
                         const int fields[6], size_t *off, size_t *len)
{
    static const char months[12][4] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                       "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
    const unsigned char *raw = ASN1_STRING_get0_data(time);
    size_t raw_len = (size_t)ASN1_STRING_length(time);
    if (raw_len == 0 || raw[raw_len - 1] != 'Z' || memchr(raw, '.', raw_len) != NULL) {
        (void)BIO_reset(bio);
        ASN1_TIME_print(bio, time);
        return info_add_bio_line(info, bio, off, len);
    }
    char text[64];
    int n = snprintf(text, sizeof(text), "%s %2d %02d:%02d:%02d %d GMT", months[fields[1] - 1],
                     fields[2], fields[3], fields[4], fields[5], fields[0]);
    if (n < 0 || (size_t)n >= sizeof(text))
        return TB_TLS_E_DECODE;
    *len = (size_t)n;
    return info_add_string(info, text, (size_t)n, off);
}

static int time_fields(const ASN1_TIME *time, int fields[6])
{
    struct tm tm;
    if (!ASN1_TIME_to_tm(time, &tm))
        return TB_TLS_E_DECODE;
    fields[0] = tm.tm_year + 1900;
    fields[1] = tm.tm_mon + 1;
    fields[2] = tm.tm_mday;
    fields[3] = tm.tm_hour;
    fields[4] = tm.tm_min;
    fields[5] = tm.tm_sec;
    return TB_OK;
}

static int decode_public_key(tb_tls_cert_info *info, X509 *cert)
{
    char group[80] = "";
    size_t group_len = 0;
    const char *type = "";
    EVP_PKEY *key = X509_get0_pubkey(cert), *owned = NULL;
    int rc;

    ERR_set_mark();
    if (key == NULL) {
        /* A certificate read by tb_tls_cert_read(): its key was left undecoded. */
        unsigned char *spki = NULL;
        int spki_len = i2d_X509_PUBKEY(X509_get_X509_PUBKEY(cert), &spki);
        if (spki_len > 0)
            key = owned = tb_tls_spki_to_pkey(spki, (size_t)spki_len);
        OPENSSL_free(spki);
    }
    if (key != NULL) {
        type = EVP_PKEY_get0_type_name(key);
        if (type == NULL)
            type = OBJ_nid2sn(EVP_PKEY_get_base_id(key));
        info->key_bits = EVP_PKEY_get_bits(key);
        if (!EVP_PKEY_get_utf8_string_param(key, OSSL_PKEY_PARAM_GROUP_NAME, group,
                                            sizeof(group), &group_len))
            group_len = 0;
    }
    rc = info_add_text(info, type ? type : "", &info->key_type_off, &info->key_type_len);
    EVP_PKEY_free(owned); /* after its type name is copied */
    ERR_pop_to_mark();
    if (rc == TB_OK) {
        info->key_group_len = group_len;
        rc = info_add_string(info, group, group_len, &info->key_group_off);
    }
    return rc;
}

static int decode_signature_algorithm(tb_tls_cert_info *info, X509 *cert)
{
    const X509_ALGOR *alg = NULL;
    const ASN1_OBJECT *obj = NULL;
    X509_get0_signature(NULL, &alg, cert);
    X509_ALGOR_get0(&obj, NULL, NULL, alg);
    return obj ? info_add_object(info, obj, &info->sig_alg_off, &info->sig_alg_len)
               : TB_TLS_E_DECODE;
}

void tb_tls_cert_info_free(tb_tls_cert_info *info)
{
    if (info == NULL)
        return;
    OPENSSL_free(info->items);
    OPENSSL_free(info->strings);
    OPENSSL_free(info);
}

int tb_tls_cert_decode(X509 *cert, int parts, tb_tls_cert_info **out)
{
    ERR_clear_error(); /* this call's reasons only */
    tb_tls_cert_info *info = OPENSSL_zalloc(sizeof(*info));
    BIO *bio = BIO_new(BIO_s_mem());
    int rc = TB_OK;

    if (info == NULL || bio == NULL) {
        rc = TB_E_NOMEM;
        goto done;
    }
    /* An empty first string, so that every unset (offset 0, length 0) field is "". */
    size_t empty;
    if ((rc = info_add_string(info, "", 0, &empty)) != TB_OK)
        goto done;
    if ((parts & TB_TLS_DECODE_KEY) && (rc = decode_public_key(info, cert)) != TB_OK)
        goto done;
    if (!(parts & TB_TLS_DECODE_FIELDS))
        goto done;
    info->version = (int)X509_get_version(cert) + 1;
    if ((rc = decode_name(info, X509_get_subject_name(cert), TB_TLS_CERT_SUBJECT, 0)) != TB_OK ||
        (rc = decode_name(info, X509_get_issuer_name(cert), TB_TLS_CERT_ISSUER, 0)) != TB_OK)
        goto done;
    if ((rc = info_add_serial(info, X509_get0_serialNumber(cert))) != TB_OK ||
        (rc = time_fields(X509_get0_notBefore(cert), info->not_before_tm)) != TB_OK ||
        (rc = time_fields(X509_get0_notAfter(cert), info->not_after_tm)) != TB_OK ||
        (rc = info_add_time(info, bio, X509_get0_notBefore(cert), info->not_before_tm,
                            &info->not_before_off, &info->not_before_len)) != TB_OK ||
        (rc = info_add_time(info, bio, X509_get0_notAfter(cert), info->not_after_tm,
                            &info->not_after_off, &info->not_after_len)) != TB_OK ||
        (rc = decode_extensions(info, cert, bio)) != TB_OK ||
        (rc = decode_signature_algorithm(info, cert)) != TB_OK)
        goto done;

done:
    BIO_free(bio);
    if (rc != TB_OK) {
        tb_tls_cert_info_free(info);
        return rc;
    }
    *out = info;
    return TB_OK;
}

/*
 * Reading certificates.  OpenSSL 3.0's d2i_X509 decodes the public key as it parses, with
 * a decoder chain it builds anew from every provider's decoders for each certificate
 * (about 150 of the 170 us a certificate takes).  tb_tls_cert_read() parses in a library
 * context holding only the null provider, which has no decoders: the certificate is the
 * same (same DER, fields, extensions) in about 20 us, with its key undecoded.  Such a
 * "reader" certificate serves tb_tls_cert_decode() (which decodes the key through the
 * cached decoders of tls_crypto_keys.c) and tb_tls_cert_dump(); for anything else
 * (verification, signatures, key checks) tb_tls_cert_full() parses it again as
 * tb_tls_cert_load() does.
 */
static pthread_once_t reader_once = PTHREAD_ONCE_INIT;
static OSSL_LIB_CTX *reader_ctx; /* NULL when it could not be made: full parses then */

static void reader_init(void)
{
    OSSL_LIB_CTX *ctx = OSSL_LIB_CTX_new();
    if (ctx != NULL && OSSL_PROVIDER_load(ctx, "null") == NULL) {
        OSSL_LIB_CTX_free(ctx);
        ctx = NULL;
    }
    reader_ctx = ctx;
}

/* The DER of the first certificate in data: PEM ("CERTIFICATE" or "X509 CERTIFICATE",
   other blocks skipped) decoded into *owned for the caller to free, DER as it is. */
static int cert_der(const unsigned char *data, size_t len, int pem, const unsigned char **der,
                    long *der_len, unsigned char **owned)
{
    *owned = NULL;
    if (len > TB_TLS_MAX_INPUT)
        return TB_TLS_E_TOO_LARGE;
    if (!pem) {
        *der = data;
        *der_len = (long)len;
        return TB_OK;
    }
    tb_tls_password_source none = {NULL, 0};
    BIO *bio = tb_tls_bio_for(data, len);
    if (bio == NULL)
        return TB_E_NOMEM;
    int found = PEM_bytes_read_bio(owned, der_len, NULL, PEM_STRING_X509, bio,
                                   tb_tls_password_cb, &none);
    BIO_free(bio);
    if (!found)
        return TB_TLS_E_DECODE;
    *der = *owned;
    return TB_OK;
}

X509 *tb_tls_cert_d2i(const unsigned char *der, long len, int reader)
{
    if (reader)
        pthread_once(&reader_once, reader_init);
    return (X509 *)ASN1_item_d2i_ex(NULL, &der, len, ASN1_ITEM_rptr(X509),
                                    reader ? reader_ctx : NULL, NULL);
}

X509 *tb_tls_cert_upgrade(X509 *cert)
{
    unsigned char *der = NULL;
    int len = i2d_X509(cert, &der);
    X509 *full = len > 0 ? tb_tls_cert_d2i(der, len, 0) : NULL;
    OPENSSL_free(der);
    return full;
}

static int cert_parse(const unsigned char *data, size_t len, int pem, int reader, X509 **out)
{
    const unsigned char *der;
    unsigned char *owned;
    long der_len;
    int rc = cert_der(data, len, pem, &der, &der_len, &owned);
    if (rc != TB_OK)
        return rc;
    X509 *cert = tb_tls_cert_d2i(der, der_len, reader);
    OPENSSL_free(owned);
    if (cert == NULL)
        return TB_TLS_E_DECODE;
    *out = cert;
    return TB_OK;
}

int tb_tls_cert_load(const unsigned char *data, size_t len, int pem, X509 **out)
{
    ERR_clear_error(); /* this call's reasons only */
    return cert_parse(data, len, pem, 0, out);
}

int tb_tls_cert_read(const unsigned char *data, size_t len, int pem, X509 **out)
{
    ERR_clear_error();
    return cert_parse(data, len, pem, 1, out);
}

int tb_tls_cert_full(X509 *cert, X509 **out)
{
    ERR_clear_error();
    X509 *full = tb_tls_cert_upgrade(cert);
    if (full == NULL)
        return TB_TLS_E_DECODE;
    *out = full;
    return TB_OK;
}

int tb_tls_cert_dump(X509 *cert, int pem, tb_tls_buf **out)
{
    ERR_clear_error(); /* this call's reasons only */
    BIO *bio = BIO_new(BIO_s_mem());
    int rc;
    if (bio == NULL)
        return TB_E_NOMEM;
    if (pem ? PEM_write_bio_X509(bio, cert) : i2d_X509_bio(bio, cert))
        rc = tb_tls_buf_from_bio(bio, out);
    else
        rc = TB_TLS_E_OPENSSL;
    BIO_free(bio);
    return rc;
}

int tb_tls_pem_read_certs(const unsigned char *data, size_t len, tb_tls_x509_list **out)
{
    ERR_clear_error(); /* this call's reasons only */
    if (len > TB_TLS_MAX_INPUT)
        return TB_TLS_E_TOO_LARGE;
    tb_tls_password_source none = {NULL, 0};
    tb_tls_x509_list *list = OPENSSL_zalloc(sizeof(*list));
    size_t cap = 0;
    int rc = TB_OK;
    BIO *bio = tb_tls_bio_for(data, len);

    if (list == NULL || bio == NULL) {
        rc = TB_E_NOMEM;
        goto done;
    }
    for (;;) {
        ERR_set_mark();
        X509 *cert = PEM_read_bio_X509(bio, NULL, tb_tls_password_cb, &none);
        if (cert == NULL) {
            unsigned long code = ERR_peek_last_error();
            if (list->count > 0 && ERR_GET_LIB(code) == ERR_LIB_PEM &&
                ERR_GET_REASON(code) == PEM_R_NO_START_LINE) {
                ERR_pop_to_mark(); /* the normal end of the bundle */
            } else {
                ERR_clear_last_mark();
                rc = TB_TLS_E_DECODE;
            }
            break;
        }
        ERR_clear_last_mark();
        if ((rc = tb_tls_list_push(list, &cap, cert)) != TB_OK) {
            X509_free(cert);
            break;
        }
    }
done:
    BIO_free(bio);
    if (rc != TB_OK) {
        tb_tls_x509_list_free(list);
        return rc;
    }
    *out = list;
    return TB_OK;
}

/*
 * The certificates of a DER PKCS#7 SignedData (a "certs-only" .p7c, as CAs publish behind
 * AIA caIssuers URLs), in the order the structure holds them.  TB_TLS_E_DECODE when the
 * data is not such a structure or holds no certificate.
 */
int tb_tls_p7_certs(const unsigned char *data, size_t len, tb_tls_x509_list **out)
{
    ERR_clear_error();
    if (len > TB_TLS_MAX_INPUT)
        return TB_TLS_E_TOO_LARGE;
    int rc = tb_tls_init();
    if (rc != TB_OK)
        return rc;
    const unsigned char *cursor = data;
    PKCS7 *p7 = d2i_PKCS7(NULL, &cursor, (long)len);
    if (p7 == NULL)
        return TB_TLS_E_DECODE;
    STACK_OF(X509) *certs = NULL;
    if (PKCS7_type_is_signed(p7) && p7->d.sign != NULL)
        certs = p7->d.sign->cert;
    if (certs == NULL || sk_X509_num(certs) <= 0)
        rc = TB_TLS_E_DECODE;
    else
        rc = tb_tls_list_from_stack(certs, out);
    PKCS7_free(p7);
    return rc;
}
