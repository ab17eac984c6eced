/*
 * tls.c: the OpenSSL 3 shim behind tightbind.tls (see tls.h for the contract).
 *
 * Functions return TB_OK or a negative TB_TLS_E_* code and leave OpenSSL's reasons on
 * the thread's error queue; tightbind.tls drains it (tb_tls_drain_errors) into the
 * exception it raises, so nothing stale survives into the next call.
 */
#include <errno.h>
#include <limits.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>

#include "tightbind.h"

#define TB_P12_MAX_DEPTH 8 /* nesting of safeContents bags we follow */

/* ---------------------------------------------------------------- set-up, errors */

static pthread_once_t init_once = PTHREAD_ONCE_INIT;
static int init_status = TB_OK;
static pthread_mutex_t legacy_lock = PTHREAD_MUTEX_INITIALIZER;
static OSSL_PROVIDER *default_provider;
static OSSL_PROVIDER *legacy_provider;

static void do_init(void)
{
    uint64_t opts = OPENSSL_INIT_LOAD_SSL_STRINGS | OPENSSL_INIT_LOAD_CRYPTO_STRINGS;
    if (!OPENSSL_init_ssl(opts, NULL))
        init_status = TB_TLS_E_OPENSSL;
}

int tb_tls_init(void)
{
    pthread_once(&init_once, do_init);
    return init_status;
}

/*
 * Loading any provider explicitly stops OpenSSL from loading the default one on its own,
 * so the default provider is loaded first, then the legacy one beside it.
 */
int tb_tls_load_legacy(void)
{
    int rc = tb_tls_init();
    if (rc != TB_OK)
        return rc;
    pthread_mutex_lock(&legacy_lock);
    if (legacy_provider == NULL) {
        if (default_provider == NULL)
            default_provider = OSSL_PROVIDER_load(NULL, "default");
        if (default_provider == NULL)
            rc = TB_TLS_E_OPENSSL;
        else if ((legacy_provider = OSSL_PROVIDER_load(NULL, "legacy")) == NULL)
            rc = TB_TLS_E_NO_LEGACY;
    }
    pthread_mutex_unlock(&legacy_lock);
    return rc;
}

int tb_tls_legacy_loaded(void)
{
    pthread_mutex_lock(&legacy_lock);
    int loaded = legacy_provider != NULL;
    pthread_mutex_unlock(&legacy_lock);
    return loaded;
}

size_t tb_tls_drain_errors(char *out, size_t cap, unsigned long *first_code)
{
    const char *file, *func, *data;
    int line, flags;
    unsigned long code;
    size_t count = 0, used = 0;

    if (cap > 0)
        out[0] = '\0';
    if (first_code != NULL)
        *first_code = 0;
    while ((code = ERR_get_error_all(&file, &line, &func, &data, &flags)) != 0) {
        char entry[768];
        const char *lib = ERR_lib_error_string(code);
        const char *reason = ERR_reason_error_string(code);
        char reason_buf[32];
        if (reason == NULL) {
            snprintf(reason_buf, sizeof(reason_buf), "error %#lx", code);
            reason = reason_buf;
        }
        int n = snprintf(entry, sizeof(entry), "%s%s%s%s%s%s", lib ? lib : "", lib ? ": " : "",
                         reason, (flags & ERR_TXT_STRING) && data && *data ? " (" : "",
                         (flags & ERR_TXT_STRING) && data ? data : "",
                         (flags & ERR_TXT_STRING) && data && *data ? ")" : "");
        if (n < 0)
            continue;
        if (count == 0 && first_code != NULL)
            *first_code = code;
        count++;
        if (cap > 0 && used + 1 < cap) {
            int written = snprintf(out + used, cap - used, "%s%s", used ? "\n" : "", entry);
            if (written > 0)
                used += (size_t)written < cap - used ? (size_t)written : cap - used - 1;
        }
    }
    return count;
}

/* True when the error code says an algorithm is missing from every loaded provider. */
static int code_is_unsupported(unsigned long code)
{
    if (code == 0)
        return 0;
    int reason = ERR_GET_REASON(code);
    if (reason == ERR_R_UNSUPPORTED || reason == ERR_R_FETCH_FAILED)
        return 1;
    if (ERR_GET_LIB(code) == ERR_LIB_PKCS12)
        return reason == PKCS12_R_UNKNOWN_DIGEST_ALGORITHM ||
               reason == PKCS12_R_UNSUPPORTED_PKCS12_MODE;
    if (ERR_GET_LIB(code) == ERR_LIB_EVP)
        return reason == EVP_R_UNSUPPORTED_ALGORITHM || reason == EVP_R_UNSUPPORTED_CIPHER ||
               reason == EVP_R_UNKNOWN_CIPHER || reason == EVP_R_UNSUPPORTED_PRF ||
               reason == EVP_R_UNSUPPORTED_KEY_DERIVATION_FUNCTION;
    return 0;
}

static int queue_is_unsupported(void)
{
    return code_is_unsupported(ERR_peek_error()) || code_is_unsupported(ERR_peek_last_error());
}

/* ---------------------------------------------------------------- buffers, lists */

void tb_buf_free(tb_buf *buf)
{
    if (buf == NULL)
        return;
    OPENSSL_free(buf->data);
    OPENSSL_free(buf);
}

/* Copy what a memory BIO holds into a new tb_buf. */
static int buf_from_bio(BIO *bio, tb_buf **out)
{
    char *data = NULL;
    long len = BIO_get_mem_data(bio, &data);
    if (len < 0)
        return TB_TLS_E_OPENSSL;
    tb_buf *buf = OPENSSL_zalloc(sizeof(*buf));
    if (buf == NULL)
        return TB_E_NOMEM;
    buf->data = OPENSSL_malloc(len > 0 ? (size_t)len : 1);
    if (buf->data == NULL) {
        OPENSSL_free(buf);
        return TB_E_NOMEM;
    }
    if (len > 0)
        memcpy(buf->data, data, (size_t)len);
    buf->len = (size_t)len;
    *out = buf;
    return TB_OK;
}

void tb_x509_list_free(tb_x509_list *list)
{
    if (list == NULL)
        return;
    for (size_t i = 0; i < list->count; i++)
        X509_free(list->certs[i]);
    OPENSSL_free(list->certs);
    OPENSSL_free(list);
}

static int list_push(tb_x509_list *list, size_t *cap, X509 *cert)
{
    if (list->count == *cap) {
        size_t new_cap = *cap ? *cap * 2 : 4;
        X509 **certs = OPENSSL_realloc(list->certs, new_cap * sizeof(*certs));
        if (certs == NULL)
            return TB_E_NOMEM;
        list->certs = certs;
        *cap = new_cap;
    }
    list->certs[list->count++] = cert;
    return TB_OK;
}

/* A new list holding its own reference to every certificate of sk (NULL: empty). */
static int list_from_stack(const STACK_OF(X509) *sk, tb_x509_list **out)
{
    tb_x509_list *list = OPENSSL_zalloc(sizeof(*list));
    size_t cap = 0;
    if (list == NULL)
        return TB_E_NOMEM;
    for (int i = 0; sk != NULL && i < sk_X509_num(sk); i++) {
        X509 *cert = sk_X509_value(sk, i);
        if (!X509_up_ref(cert) || list_push(list, &cap, cert) != TB_OK) {
            tb_x509_list_free(list);
            return TB_E_NOMEM;
        }
    }
    *out = list;
    return TB_OK;
}

static BIO *bio_for(const unsigned char *data, size_t len)
{
    if (len > INT_MAX)
        return NULL;
    return BIO_new_mem_buf(data, (int)len);
}

/* Passwords: a callback that never prompts on a terminal. */
typedef struct {
    const char *password;
    int asked;
} password_source;

static int password_cb(char *buf, int size, int rwflag, void *u)
{
    password_source *source = u;
    if (source == NULL)
        return -1;
    source->asked = 1;
    if (source->password == NULL)
        return -1;
    size_t len = strlen(source->password);
    if (size < 0 || len > (size_t)size)
        return -1;
    memcpy(buf, source->password, len);
    return (int)len;
}

/* ---------------------------------------------------------------- certificates */

static int info_add_string(tb_cert_info *info, const void *data, size_t len, size_t *off)
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
    if (len > 0)
        memcpy(info->strings + info->strings_len, data, len);
    *off = info->strings_len;
    info->strings_len += len;
    info->strings[info->strings_len++] = '\0';
    return TB_OK;
}

static int info_add_text(tb_cert_info *info, const char *text, size_t *off, size_t *len)
{
    *len = strlen(text);
    return info_add_string(info, text, *len, off);
}

static tb_cert_item *info_add_item(tb_cert_info *info, int kind, int index, int rdn)
{
    if (info->item_count == info->item_cap) {
        size_t cap = info->item_cap ? info->item_cap * 2 : 32;
        tb_cert_item *items = OPENSSL_realloc(info->items, cap * sizeof(*items));
        if (items == NULL)
            return NULL;
        info->items = items;
        info->item_cap = cap;
    }
    tb_cert_item *item = &info->items[info->item_count++];
    memset(item, 0, sizeof(*item));
    item->kind = kind;
    item->index = index;
    item->rdn = rdn;
    return item;
}

/* The long name of obj, or its dotted form, as OBJ_obj2txt(..., 0) spells it. */
static int info_add_object(tb_cert_info *info, const ASN1_OBJECT *obj, size_t *off, size_t *len)
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
static int decode_name(tb_cert_info *info, const X509_NAME *name, int kind, int index)
{
    int rdn = -1, last_set = -1;
    for (int i = 0; i < X509_NAME_entry_count(name); i++) {
        const X509_NAME_ENTRY *entry = X509_NAME_get_entry(name, i);
        int set = X509_NAME_ENTRY_set(entry);
        if (rdn < 0 || set != last_set)
            rdn++;
        last_set = set;
        tb_cert_item *item = info_add_item(info, kind, kind == TB_CERT_SAN_DIRNAME ? index : rdn,
                                           rdn);
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

static int add_pair(tb_cert_info *info, int kind, int index, const char *key, const void *value,
                    size_t value_len)
{
    tb_cert_item *item = info_add_item(info, kind, index, 0);
    if (item == NULL)
        return TB_E_NOMEM;
    int rc = info_add_text(info, key, &item->key_off, &item->key_len);
    if (rc != TB_OK)
        return rc;
    item->value_len = value_len;
    return info_add_string(info, value, value_len, &item->value_off);
}

/* One subjectAltName entry, spelt the way CPython's certificate decoder spells it. */
static int decode_general_name(tb_cert_info *info, const GENERAL_NAME *name, int index, BIO *bio)
{
    char buf[2048];
    const ASN1_STRING *text = NULL;
    const char *key = NULL;
    int len;

    switch (name->type) {
    case GEN_DIRNAME: {
        int rc = add_pair(info, TB_CERT_SAN, index, "DirName", "", 0);
        return rc != TB_OK ? rc : decode_name(info, name->d.dirn, TB_CERT_SAN_DIRNAME, index);
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
            return add_pair(info, TB_CERT_SAN, index, "Registered ID", "<INVALID>", 9);
        return add_pair(info, TB_CERT_SAN, index, "Registered ID", buf, (size_t)len);
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
        return add_pair(info, TB_CERT_SAN, index, "IP Address", buf, (size_t)len);
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
        return add_pair(info, TB_CERT_SAN, index, buf, colon + 1,
                        (size_t)len - (size_t)(colon + 1 - buf));
    }
    }
    return add_pair(info, TB_CERT_SAN, index, key, ASN1_STRING_get0_data(text),
                    (size_t)ASN1_STRING_length(text));
}

static int decode_extensions(tb_cert_info *info, X509 *cert, BIO *bio)
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
        rc = add_pair(info, nid == NID_ad_OCSP ? TB_CERT_OCSP : TB_CERT_CA_ISSUERS, i, "URI",
                      uri->data, (size_t)uri->length);
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
            rc = add_pair(info, TB_CERT_CRL_DP, i, "URI", uri->data, (size_t)uri->length);
        }
    }
    CRL_DIST_POINTS_free(points);
    return rc;
}

/* The first line a printing function wrote to bio, stored as a string. */
static int info_add_bio_line(tb_cert_info *info, BIO *bio, size_t *off, size_t *len)
{
    char buf[2048];
    int n = BIO_gets(bio, buf, sizeof(buf) - 1);
    if (n < 0)
        return TB_TLS_E_DECODE;
    *len = (size_t)n;
    return info_add_string(info, buf, (size_t)n, off);
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

static int decode_public_key(tb_cert_info *info, X509 *cert)
{
    char group[80] = "";
    size_t group_len = 0;
    const char *type = "";
    EVP_PKEY *key = X509_get0_pubkey(cert);
    int rc;

    ERR_set_mark();
    if (key != NULL) {
        type = EVP_PKEY_get0_type_name(key);
        if (type == NULL)
            type = OBJ_nid2sn(EVP_PKEY_get_base_id(key));
        info->key_bits = EVP_PKEY_get_bits(key);
        if (!EVP_PKEY_get_utf8_string_param(key, OSSL_PKEY_PARAM_GROUP_NAME, group,
                                            sizeof(group), &group_len))
            group_len = 0;
    }
    ERR_pop_to_mark();
    rc = info_add_text(info, type ? type : "", &info->key_type_off, &info->key_type_len);
    if (rc == TB_OK) {
        info->key_group_len = group_len;
        rc = info_add_string(info, group, group_len, &info->key_group_off);
    }
    if (rc == TB_OK) {
        const X509_ALGOR *alg = NULL;
        const ASN1_OBJECT *obj = NULL;
        X509_get0_signature(NULL, &alg, cert);
        X509_ALGOR_get0(&obj, NULL, NULL, alg);
        rc = obj ? info_add_object(info, obj, &info->sig_alg_off, &info->sig_alg_len)
                 : TB_TLS_E_DECODE;
    }
    return rc;
}

void tb_cert_info_free(tb_cert_info *info)
{
    if (info == NULL)
        return;
    OPENSSL_free(info->items);
    OPENSSL_free(info->strings);
    OPENSSL_free(info);
}

int tb_cert_decode(X509 *cert, tb_cert_info **out)
{
    ERR_clear_error(); /* this call's reasons only */
    tb_cert_info *info = OPENSSL_zalloc(sizeof(*info));
    BIO *bio = BIO_new(BIO_s_mem());
    int rc = TB_OK;

    if (info == NULL || bio == NULL) {
        rc = TB_E_NOMEM;
        goto done;
    }
    info->version = (int)X509_get_version(cert) + 1;
    if ((rc = decode_name(info, X509_get_subject_name(cert), TB_CERT_SUBJECT, 0)) != TB_OK ||
        (rc = decode_name(info, X509_get_issuer_name(cert), TB_CERT_ISSUER, 0)) != TB_OK)
        goto done;

    if (i2a_ASN1_INTEGER(bio, X509_get0_serialNumber(cert)) < 0) {
        rc = TB_TLS_E_DECODE;
        goto done;
    }
    if ((rc = info_add_bio_line(info, bio, &info->serial_off, &info->serial_len)) != TB_OK)
        goto done;
    (void)BIO_reset(bio);
    ASN1_TIME_print(bio, X509_get0_notBefore(cert));
    if ((rc = info_add_bio_line(info, bio, &info->not_before_off, &info->not_before_len)))
        goto done;
    (void)BIO_reset(bio);
    ASN1_TIME_print(bio, X509_get0_notAfter(cert));
    if ((rc = info_add_bio_line(info, bio, &info->not_after_off, &info->not_after_len)))
        goto done;
    if ((rc = time_fields(X509_get0_notBefore(cert), info->not_before_tm)) != TB_OK ||
        (rc = time_fields(X509_get0_notAfter(cert), info->not_after_tm)) != TB_OK ||
        (rc = decode_extensions(info, cert, bio)) != TB_OK ||
        (rc = decode_public_key(info, cert)) != TB_OK)
        goto done;

done:
    BIO_free(bio);
    if (rc != TB_OK) {
        tb_cert_info_free(info);
        return rc;
    }
    *out = info;
    return TB_OK;
}

int tb_cert_load(const unsigned char *data, size_t len, int pem, X509 **out)
{
    ERR_clear_error(); /* this call's reasons only */
    password_source none = {NULL, 0};
    BIO *bio = bio_for(data, len);
    if (bio == NULL)
        return TB_E_NOMEM;
    X509 *cert = pem ? PEM_read_bio_X509(bio, NULL, password_cb, &none) : d2i_X509_bio(bio, NULL);
    BIO_free(bio);
    if (cert == NULL)
        return TB_TLS_E_DECODE;
    *out = cert;
    return TB_OK;
}

int tb_cert_dump(X509 *cert, int pem, tb_buf **out)
{
    ERR_clear_error(); /* this call's reasons only */
    BIO *bio = BIO_new(BIO_s_mem());
    int rc;
    if (bio == NULL)
        return TB_E_NOMEM;
    if (pem ? PEM_write_bio_X509(bio, cert) : i2d_X509_bio(bio, cert))
        rc = buf_from_bio(bio, out);
    else
        rc = TB_TLS_E_OPENSSL;
    BIO_free(bio);
    return rc;
}

int tb_pem_read_certs(const unsigned char *data, size_t len, tb_x509_list **out)
{
    ERR_clear_error(); /* this call's reasons only */
    password_source none = {NULL, 0};
    tb_x509_list *list = OPENSSL_zalloc(sizeof(*list));
    size_t cap = 0;
    int rc = TB_OK;
    BIO *bio = bio_for(data, len);

    if (list == NULL || bio == NULL) {
        rc = TB_E_NOMEM;
        goto done;
    }
    for (;;) {
        ERR_set_mark();
        X509 *cert = PEM_read_bio_X509(bio, NULL, password_cb, &none);
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
        if ((rc = list_push(list, &cap, cert)) != TB_OK) {
            X509_free(cert);
            break;
        }
    }
done:
    BIO_free(bio);
    if (rc != TB_OK) {
        tb_x509_list_free(list);
        return rc;
    }
    *out = list;
    return TB_OK;
}

/* ---------------------------------------------------------------- private keys */

int tb_pkey_load(const unsigned char *data, size_t len, int pem, const char *password,
                 EVP_PKEY **out)
{
    ERR_clear_error();
    password_source source = {password, 0};
    BIO *bio = bio_for(data, len);
    EVP_PKEY *key = NULL;

    if (bio == NULL)
        return TB_E_NOMEM;
    if (pem) {
        key = PEM_read_bio_PrivateKey(bio, NULL, password_cb, &source);
    } else {
        ERR_set_mark();
        key = d2i_PKCS8PrivateKey_bio(bio, NULL, password_cb, &source);
        if (key == NULL && !source.asked) {
            /* Not encrypted PKCS#8: any unencrypted DER private key. */
            ERR_pop_to_mark();
            BIO_free(bio);
            if ((bio = bio_for(data, len)) == NULL)
                return TB_E_NOMEM;
            key = d2i_PrivateKey_bio(bio, NULL);
        } else {
            ERR_clear_last_mark();
        }
    }
    BIO_free(bio);
    if (key == NULL) {
        if (!source.asked)
            return TB_TLS_E_DECODE; /* the decoders' "unsupported" means unrecognised */
        if (password == NULL)
            return TB_TLS_E_NEED_PASSWORD;
        return queue_is_unsupported() ? TB_TLS_E_UNSUPPORTED : TB_TLS_E_PASSWORD;
    }
    *out = key;
    return TB_OK;
}

int tb_pkey_dump(EVP_PKEY *key, int pem, const char *cipher, const char *password,
                 tb_buf **out)
{
    ERR_clear_error();
    EVP_CIPHER *enc = NULL;
    BIO *bio = NULL;
    int ok, rc;
    int pass_len = password ? (int)strlen(password) : 0;

    if (cipher != NULL && (enc = EVP_CIPHER_fetch(NULL, cipher, NULL)) == NULL)
        return TB_E_ARG; /* no provider offers a cipher of that name */
    if ((bio = BIO_new(BIO_s_mem())) == NULL) {
        EVP_CIPHER_free(enc);
        return TB_E_NOMEM;
    }
    if (pem)
        ok = enc ? PEM_write_bio_PKCS8PrivateKey(bio, key, enc, password, pass_len, NULL, NULL)
                 : PEM_write_bio_PrivateKey(bio, key, NULL, NULL, 0, NULL, NULL);
    else
        ok = enc ? i2d_PKCS8PrivateKey_bio(bio, key, enc, password, pass_len, NULL, NULL)
                 : i2d_PrivateKey_bio(bio, key);
    rc = ok ? buf_from_bio(bio, out) : TB_TLS_E_OPENSSL;
    BIO_free(bio);
    EVP_CIPHER_free(enc);
    return rc;
}

int tb_pkey_public_pem(EVP_PKEY *key, tb_buf **out)
{
    ERR_clear_error(); /* this call's reasons only */
    BIO *bio = BIO_new(BIO_s_mem());
    int rc;
    if (bio == NULL)
        return TB_E_NOMEM;
    rc = PEM_write_bio_PUBKEY(bio, key) ? buf_from_bio(bio, out) : TB_TLS_E_OPENSSL;
    BIO_free(bio);
    return rc;
}

/* ---------------------------------------------------------------- PKCS#12 */

typedef struct {
    tb_p12 *p12;
    size_t cap;
    ASN1_OCTET_STRING **cert_ids; /* each certificate's localKeyID, or NULL */
    ASN1_OCTET_STRING *key_id;
    const char *password;
    int has_mac;
} p12_walk;

void tb_p12_free(tb_p12 *p12)
{
    if (p12 == NULL)
        return;
    EVP_PKEY_free(p12->key);
    for (size_t i = 0; i < p12->count; i++) {
        X509_free(p12->certs[i]);
        OPENSSL_free(p12->names[i]);
    }
    OPENSSL_free(p12->certs);
    OPENSSL_free(p12->names);
    OPENSSL_free(p12->key_name);
    OPENSSL_free(p12);
}

static ASN1_OCTET_STRING *bag_key_id(const PKCS12_SAFEBAG *bag)
{
    const ASN1_TYPE *attr = PKCS12_SAFEBAG_get0_attr(bag, NID_localKeyID);
    if (attr == NULL || attr->type != V_ASN1_OCTET_STRING)
        return NULL;
    return ASN1_OCTET_STRING_dup(attr->value.octet_string);
}

static int walk_push_cert(p12_walk *walk, const PKCS12_SAFEBAG *bag)
{
    tb_p12 *p12 = walk->p12;
    if (p12->count == walk->cap) {
        size_t cap = walk->cap ? walk->cap * 2 : 4;
        X509 **certs = OPENSSL_realloc(p12->certs, cap * sizeof(*certs));
        if (certs != NULL)
            p12->certs = certs;
        char **names = OPENSSL_realloc(p12->names, cap * sizeof(*names));
        if (names != NULL)
            p12->names = names;
        ASN1_OCTET_STRING **ids = OPENSSL_realloc(walk->cert_ids, cap * sizeof(*ids));
        if (ids != NULL)
            walk->cert_ids = ids;
        if (certs == NULL || names == NULL || ids == NULL)
            return TB_E_NOMEM;
        walk->cap = cap;
    }
    X509 *cert = PKCS12_SAFEBAG_get1_cert(bag);
    if (cert == NULL)
        return TB_TLS_E_DECODE;
    p12->certs[p12->count] = cert;
    p12->names[p12->count] = PKCS12_get_friendlyname((PKCS12_SAFEBAG *)bag);
    walk->cert_ids[p12->count] = bag_key_id(bag);
    p12->count++;
    return TB_OK;
}

/* A decryption that failed: a missing algorithm, else (without a MAC) the password. */
static int decrypt_failure(const p12_walk *walk)
{
    if (queue_is_unsupported())
        return TB_TLS_E_UNSUPPORTED;
    return walk->has_mac ? TB_TLS_E_DECODE : TB_TLS_E_PASSWORD;
}

static int walk_bags(p12_walk *walk, const STACK_OF(PKCS12_SAFEBAG) *bags, int depth)
{
    int rc = TB_OK;
    for (int i = 0; rc == TB_OK && i < sk_PKCS12_SAFEBAG_num(bags); i++) {
        const PKCS12_SAFEBAG *bag = sk_PKCS12_SAFEBAG_value(bags, i);
        PKCS8_PRIV_KEY_INFO *p8 = NULL;
        switch (PKCS12_SAFEBAG_get_nid(bag)) {
        case NID_keyBag:
        case NID_pkcs8ShroudedKeyBag:
            if (walk->p12->key != NULL)
                break; /* like PKCS12_parse(): the first key wins */
            if (PKCS12_SAFEBAG_get_nid(bag) == NID_keyBag) {
                walk->p12->key = EVP_PKCS82PKEY(PKCS12_SAFEBAG_get0_p8inf(bag));
            } else {
                p8 = PKCS12_decrypt_skey(bag, walk->password, -1);
                if (p8 == NULL)
                    return decrypt_failure(walk);
                walk->p12->key = EVP_PKCS82PKEY(p8);
                PKCS8_PRIV_KEY_INFO_free(p8);
            }
            if (walk->p12->key == NULL)
                return queue_is_unsupported() ? TB_TLS_E_UNSUPPORTED : TB_TLS_E_DECODE;
            walk->p12->key_name = PKCS12_get_friendlyname((PKCS12_SAFEBAG *)bag);
            walk->key_id = bag_key_id(bag);
            break;
        case NID_certBag:
            if (PKCS12_SAFEBAG_get_bag_nid(bag) == NID_x509Certificate)
                rc = walk_push_cert(walk, bag);
            break;
        case NID_safeContentsBag:
            if (depth >= TB_P12_MAX_DEPTH)
                return TB_TLS_E_DECODE;
            rc = walk_bags(walk, PKCS12_SAFEBAG_get0_safes(bag), depth + 1);
            break;
        default:
            break; /* CRL and secret bags are not ours to return */
        }
    }
    return rc;
}

static int walk_safes(p12_walk *walk, PKCS12 *p12)
{
    STACK_OF(PKCS7) *safes = PKCS12_unpack_authsafes(p12);
    int rc = TB_OK;
    if (safes == NULL)
        return TB_TLS_E_NOT_PKCS12;
    for (int i = 0; rc == TB_OK && i < sk_PKCS7_num(safes); i++) {
        PKCS7 *safe = sk_PKCS7_value(safes, i);
        STACK_OF(PKCS12_SAFEBAG) *bags = NULL;
        int nid = OBJ_obj2nid(safe->type);
        if (nid == NID_pkcs7_data)
            bags = PKCS12_unpack_p7data(safe);
        else if (nid == NID_pkcs7_encrypted)
            bags = PKCS12_unpack_p7encdata(safe, walk->password, -1);
        else
            continue; /* public-key enveloped safes need a recipient key */
        if (bags == NULL) {
            rc = nid == NID_pkcs7_encrypted ? decrypt_failure(walk) : TB_TLS_E_DECODE;
            break;
        }
        rc = walk_bags(walk, bags, 0);
        sk_PKCS12_SAFEBAG_pop_free(bags, PKCS12_SAFEBAG_free);
    }
    sk_PKCS7_pop_free(safes, PKCS7_free);
    return rc;
}

/* The certificate the key belongs to: same localKeyID, else the public key matches. */
static void match_key(p12_walk *walk)
{
    tb_p12 *p12 = walk->p12;
    p12->main_index = -1;
    if (p12->key == NULL)
        return;
    for (size_t i = 0; walk->key_id != NULL && i < p12->count; i++) {
        if (walk->cert_ids[i] != NULL &&
            ASN1_OCTET_STRING_cmp(walk->cert_ids[i], walk->key_id) == 0) {
            p12->main_index = (long)i;
            return;
        }
    }
    for (size_t i = 0; i < p12->count; i++) {
        ERR_set_mark();
        int match = X509_check_private_key(p12->certs[i], p12->key);
        ERR_pop_to_mark();
        if (match == 1) {
            p12->main_index = (long)i;
            return;
        }
    }
}

/* Check the MAC and settle which empty password (NULL or "") the file was made with. */
static int check_mac(PKCS12 *p12, const char **password)
{
    if (*password == NULL || **password == '\0') {
        if (PKCS12_verify_mac(p12, NULL, 0)) {
            *password = NULL;
        } else if (PKCS12_verify_mac(p12, "", 0)) {
            *password = "";
        } else {
            return queue_is_unsupported() ? TB_TLS_E_UNSUPPORTED : TB_TLS_E_PASSWORD;
        }
    } else if (!PKCS12_verify_mac(p12, *password, -1)) {
        return queue_is_unsupported() ? TB_TLS_E_UNSUPPORTED : TB_TLS_E_PASSWORD;
    }
    ERR_clear_error(); /* a failed first try of the empty password is not an error */
    return TB_OK;
}

static int p12_parse_once(const unsigned char *data, size_t len, const char *password,
                          int flags, tb_p12 **out)
{
    const unsigned char *cursor = data;
    p12_walk walk = {0};
    int rc;

    if (len > LONG_MAX)
        return TB_E_ARG;
    PKCS12 *p12 = d2i_PKCS12(NULL, &cursor, (long)len);
    if (p12 == NULL)
        return TB_TLS_E_NOT_PKCS12;
    walk.has_mac = PKCS12_mac_present(p12);
    if (!walk.has_mac) {
        rc = (flags & TB_P12_ALLOW_NO_MAC) ? TB_OK : TB_TLS_E_NO_MAC;
        if (password != NULL && *password == '\0')
            password = NULL;
    } else {
        rc = check_mac(p12, &password);
    }
    if (rc != TB_OK) {
        PKCS12_free(p12);
        return rc;
    }
    walk.password = password;
    if ((walk.p12 = OPENSSL_zalloc(sizeof(tb_p12))) == NULL) {
        PKCS12_free(p12);
        return TB_E_NOMEM;
    }
    walk.p12->has_mac = walk.has_mac;
    rc = walk_safes(&walk, p12);
    if (rc == TB_OK)
        match_key(&walk);
    for (size_t i = 0; i < walk.p12->count; i++)
        ASN1_OCTET_STRING_free(walk.cert_ids[i]);
    OPENSSL_free(walk.cert_ids);
    ASN1_OCTET_STRING_free(walk.key_id);
    PKCS12_free(p12);
    if (rc != TB_OK) {
        tb_p12_free(walk.p12);
        return rc;
    }
    *out = walk.p12;
    return TB_OK;
}

int tb_p12_parse(const unsigned char *data, size_t len, const char *password, int flags,
                 tb_p12 **out)
{
    ERR_clear_error();
    int rc = tb_tls_init();
    if (rc != TB_OK)
        return rc;
    int had_legacy = tb_tls_legacy_loaded();
    rc = p12_parse_once(data, len, password, flags, out);
    if (rc == TB_TLS_E_UNSUPPORTED && !had_legacy) {
        /* RC2, RC4, DES: load the legacy provider (beside the default) and try again. */
        ERR_clear_error();
        rc = tb_tls_load_legacy();
        if (rc == TB_OK)
            rc = p12_parse_once(data, len, password, flags, out);
    }
    return rc;
}

int tb_p12_create(EVP_PKEY *key, X509 *cert, X509 **cas, size_t ca_count,
                  const char *password, const char *name, int legacy, tb_buf **out)
{
    ERR_clear_error();
    STACK_OF(X509) *ca = NULL;
    PKCS12 *p12 = NULL;
    BIO *bio = NULL;
    int rc = tb_tls_init();

    if (rc == TB_OK && legacy)
        rc = tb_tls_load_legacy();
    if (rc != TB_OK)
        return rc;
    if (password == NULL)
        password = "";
    if (ca_count > 0) {
        if ((ca = sk_X509_new_null()) == NULL)
            return TB_E_NOMEM;
        for (size_t i = 0; i < ca_count; i++) {
            if (!sk_X509_push(ca, cas[i])) {
                sk_X509_free(ca);
                return TB_E_NOMEM;
            }
        }
    }
    /* nid 0 means OpenSSL 3's defaults: AES-256-CBC with PBKDF2; the MAC is set below. */
    p12 = PKCS12_create(password, name, key, cert, ca,
                        legacy ? NID_pbe_WithSHA1And3_Key_TripleDES_CBC : 0,
                        legacy ? NID_pbe_WithSHA1And40BitRC2_CBC : 0, PKCS12_DEFAULT_ITER, -1,
                        0);
    if (p12 == NULL) {
        rc = queue_is_unsupported() ? TB_TLS_E_UNSUPPORTED : TB_TLS_E_OPENSSL;
        goto done;
    }
    if (!PKCS12_set_mac(p12, password, -1, NULL, 0, PKCS12_DEFAULT_ITER,
                        legacy ? EVP_sha1() : EVP_sha256())) {
        rc = TB_TLS_E_OPENSSL;
        goto done;
    }
    if ((bio = BIO_new(BIO_s_mem())) == NULL) {
        rc = TB_E_NOMEM;
        goto done;
    }
    rc = i2d_PKCS12_bio(bio, p12) ? buf_from_bio(bio, out) : TB_TLS_E_OPENSSL;
done:
    BIO_free(bio);
    PKCS12_free(p12);
    sk_X509_free(ca);
    return rc;
}

/* ---------------------------------------------------------------- verification */

static int is_ip_literal(const char *host)
{
    ERR_set_mark();
    ASN1_OCTET_STRING *ip = a2i_IPADDRESS(host);
    ERR_pop_to_mark();
    ASN1_OCTET_STRING_free(ip);
    return ip != NULL;
}

static int set_expected_host(X509_VERIFY_PARAM *param, const char *host)
{
    if (is_ip_literal(host))
        return X509_VERIFY_PARAM_set1_ip_asc(param, host);
    return X509_VERIFY_PARAM_set1_host(param, host, 0);
}

int tb_verify_chain(X509_STORE *store, X509 *leaf, X509 **intermediates, size_t count,
                    const char *hostname, int64_t at_time, int use_time, tb_x509_list **chain,
                    int *error, int *depth)
{
    ERR_clear_error();
    X509_STORE_CTX *ctx = NULL;
    STACK_OF(X509) *untrusted = NULL;
    int rc = tb_tls_init();

    *error = 0;
    *depth = -1;
    if (rc != TB_OK)
        return rc;
    if ((ctx = X509_STORE_CTX_new()) == NULL || (untrusted = sk_X509_new_null()) == NULL) {
        rc = TB_E_NOMEM;
        goto done;
    }
    for (size_t i = 0; i < count; i++) {
        if (!sk_X509_push(untrusted, intermediates[i])) {
            rc = TB_E_NOMEM;
            goto done;
        }
    }
    if (!X509_STORE_CTX_init(ctx, store, leaf, untrusted)) {
        rc = TB_TLS_E_OPENSSL;
        goto done;
    }
    X509_VERIFY_PARAM *param = X509_STORE_CTX_get0_param(ctx);
    if (use_time)
        X509_VERIFY_PARAM_set_time(param, (time_t)at_time);
    if (hostname != NULL && !set_expected_host(param, hostname)) {
        rc = TB_E_ARG;
        goto done;
    }
    int ok = X509_verify_cert(ctx);
    if (ok == 1) {
        rc = list_from_stack(X509_STORE_CTX_get0_chain(ctx), chain);
    } else if (ok == 0) {
        *error = X509_STORE_CTX_get_error(ctx);
        *depth = X509_STORE_CTX_get_error_depth(ctx);
        ERR_clear_error(); /* the verify code says it all */
        rc = TB_TLS_E_VERIFY;
    } else {
        rc = TB_TLS_E_OPENSSL;
    }
done:
    X509_STORE_CTX_free(ctx);
    sk_X509_free(untrusted);
    return rc;
}

/* ---------------------------------------------------------------- TLS client */

int tb_tls_ctx_new(const char *cafile, const char *capath, SSL_CTX **out)
{
    ERR_clear_error();
    int rc = tb_tls_init();
    if (rc != TB_OK)
        return rc;
    SSL_CTX *ctx = SSL_CTX_new(TLS_client_method());
    if (ctx == NULL)
        return TB_E_NOMEM;
    /* Verification runs during the handshake and its result is read afterwards, so an
     * untrusted chain is still seen; callers decide whether to refuse it. */
    SSL_CTX_set_verify(ctx, SSL_VERIFY_NONE, NULL);
    SSL_CTX_set_mode(ctx, SSL_MODE_ENABLE_PARTIAL_WRITE | SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER);
    if (!SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION)) {
        rc = TB_TLS_E_OPENSSL;
    } else if (cafile != NULL || capath != NULL) {
        if (!SSL_CTX_load_verify_locations(ctx, cafile, capath))
            rc = TB_TLS_E_CA_LOCATIONS;
    } else if (!SSL_CTX_set_default_verify_paths(ctx)) {
        rc = TB_TLS_E_CA_LOCATIONS;
    }
    if (rc != TB_OK) {
        SSL_CTX_free(ctx);
        return rc;
    }
    *out = ctx;
    return TB_OK;
}

int tb_tls_conn_new(SSL_CTX *ctx, int fd, const char *sni, const char *check_host, SSL **out)
{
    ERR_clear_error();
    SSL *ssl = SSL_new(ctx);
    int rc = TB_OK;
    if (ssl == NULL)
        return TB_E_NOMEM;
    if (!SSL_set_fd(ssl, fd))
        rc = TB_TLS_E_OPENSSL;
    else if (sni != NULL && !is_ip_literal(sni) && !SSL_set_tlsext_host_name(ssl, sni))
        rc = TB_E_ARG;
    else if (check_host != NULL && !set_expected_host(SSL_get0_param(ssl), check_host))
        rc = TB_E_ARG;
    if (rc != TB_OK) {
        SSL_free(ssl);
        return rc;
    }
    SSL_set_connect_state(ssl);
    *out = ssl;
    return TB_OK;
}

int tb_tls_step(SSL *ssl, int op, unsigned char *buf, size_t len, size_t *done, int *sys_errno)
{
    size_t n = 0;
    int r;

    *done = 0;
    *sys_errno = 0;
    ERR_clear_error();
    errno = 0;
    switch (op) {
    case TB_TLS_OP_HANDSHAKE:
        r = SSL_do_handshake(ssl);
        break;
    case TB_TLS_OP_READ:
        r = SSL_read_ex(ssl, buf, len, &n);
        break;
    case TB_TLS_OP_WRITE:
        r = SSL_write_ex(ssl, buf, len, &n);
        break;
    case TB_TLS_OP_SHUTDOWN:
        r = SSL_shutdown(ssl);
        if (r >= 0)
            return TB_TLS_IO_DONE; /* close_notify sent; not waiting for the peer's */
        break;
    default:
        return TB_E_ARG;
    }
    if (r == 1) {
        *done = n;
        return TB_TLS_IO_DONE;
    }
    int saved_errno = errno;
    switch (SSL_get_error(ssl, r)) {
    case SSL_ERROR_WANT_READ:
        return TB_TLS_IO_WANT_READ;
    case SSL_ERROR_WANT_WRITE:
        return TB_TLS_IO_WANT_WRITE;
    case SSL_ERROR_ZERO_RETURN:
        return TB_TLS_IO_EOF;
    case SSL_ERROR_SYSCALL:
        if (ERR_peek_error() == 0 && saved_errno == 0)
            return TB_TLS_IO_RAGGED_EOF;
        *sys_errno = saved_errno;
        return saved_errno ? TB_TLS_E_SYSCALL : TB_TLS_E_PROTOCOL;
    case SSL_ERROR_SSL: {
        unsigned long code = ERR_peek_last_error();
        if (ERR_GET_LIB(code) == ERR_LIB_SSL &&
            ERR_GET_REASON(code) == SSL_R_UNEXPECTED_EOF_WHILE_READING) {
            ERR_clear_error();
            return TB_TLS_IO_RAGGED_EOF;
        }
        return TB_TLS_E_PROTOCOL;
    }
    default:
        return TB_TLS_E_PROTOCOL;
    }
}

int tb_tls_peer_chains(SSL *ssl, tb_x509_list **sent, tb_x509_list **verified, long *result)
{
    *result = SSL_get_verify_result(ssl);
    int rc = list_from_stack(SSL_get_peer_cert_chain(ssl), sent);
    if (rc != TB_OK)
        return rc;
    rc = list_from_stack(*result == X509_V_OK ? SSL_get0_verified_chain(ssl) : NULL, verified);
    if (rc != TB_OK) {
        tb_x509_list_free(*sent);
        *sent = NULL;
    }
    return rc;
}
