/*
 * tls_crypto_x509.c: certificates built and read field by field for tightbind/tls/crypto
 * (the stand-in for pyOpenSSL's OpenSSL.crypto.X509, X509Name and X509Extension).
 *
 * A certificate's subject and issuer are edited in place (tb_tls_x509_set_name copies the
 * entries into the certificate's own X509_NAME), so the pointer an X509Name view holds
 * stays valid for the certificate's lifetime: pyOpenSSL instead swapped the name object
 * and had to break every view of the old one.  Text comes back in caller buffers where it
 * is short (a name attribute, a serial number, a time) with the full length, so the
 * caller retries with a bigger buffer in the rare case it did not fit.
 */
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "tls_internal.h"

/* Copy len bytes of text into out (cap bytes, NUL-terminated when it fits); *needed is
   the full length. */
static void copy_text(const void *text, size_t len, char *out, size_t cap, size_t *needed)
{
    *needed = len;
    if (cap > len) {
        memcpy(out, text, len);
        out[len] = '\0';
    }
}

/* ---------------------------------------------------------------- names */

int tb_tls_nid(const char *name)
{
    ERR_set_mark();
    int nid = OBJ_txt2nid(name);
    ERR_pop_to_mark(); /* an unknown name is an answer, not an error */
    return nid;
}

int tb_tls_name_get(const X509_NAME *name, int nid, char *out, size_t cap, size_t *len)
{
    ERR_clear_error();
    int index = X509_NAME_get_index_by_NID(name, nid, -1);
    if (index < 0)
        return TB_TLS_ABSENT;
    const ASN1_STRING *value = X509_NAME_ENTRY_get_data(X509_NAME_get_entry(name, index));
    unsigned char *utf8 = NULL;
    int utf8_len = ASN1_STRING_to_UTF8(&utf8, value);
    if (utf8_len < 0)
        return TB_TLS_E_DECODE;
    copy_text(utf8, (size_t)utf8_len, out, cap, len);
    OPENSSL_free(utf8);
    return TB_OK;
}

int tb_tls_name_set(X509_NAME *name, int nid, const unsigned char *value, size_t len)
{
    ERR_clear_error();
    if (len > INT_MAX)
        return TB_E_ARG;
    /* Check the value first, so that a refused one leaves the name as it was. */
    X509_NAME_ENTRY *entry = X509_NAME_ENTRY_create_by_NID(NULL, nid, MBSTRING_UTF8, value,
                                                           (int)len);
    if (entry == NULL)
        return TB_TLS_E_NAME;
    int index = X509_NAME_get_index_by_NID(name, nid, -1);
    if (index >= 0)
        X509_NAME_ENTRY_free(X509_NAME_delete_entry(name, index));
    int ok = X509_NAME_add_entry(name, entry, -1, 0);
    X509_NAME_ENTRY_free(entry);
    return ok ? TB_OK : TB_E_NOMEM;
}

/* Every attribute as (short name, stored bytes), packed as
   [size_t name length][name][size_t value length][value] ... */
int tb_tls_name_entries(const X509_NAME *name, tb_tls_buf **out)
{
    ERR_clear_error();
    BIO *bio = BIO_new(BIO_s_mem());
    int rc = TB_OK;
    if (bio == NULL)
        return TB_E_NOMEM;
    for (int i = 0; rc == TB_OK && i < X509_NAME_entry_count(name); i++) {
        const X509_NAME_ENTRY *entry = X509_NAME_get_entry(name, i);
        const ASN1_STRING *value = X509_NAME_ENTRY_get_data(entry);
        const char *short_name = OBJ_nid2sn(OBJ_obj2nid(X509_NAME_ENTRY_get_object(entry)));
        if (short_name == NULL)
            short_name = "UNDEF";
        size_t name_len = strlen(short_name);
        size_t value_len = (size_t)ASN1_STRING_length(value);
        if (BIO_write(bio, &name_len, sizeof(name_len)) != (int)sizeof(name_len) ||
            BIO_write(bio, short_name, (int)name_len) != (int)name_len ||
            BIO_write(bio, &value_len, sizeof(value_len)) != (int)sizeof(value_len) ||
            (value_len > 0 &&
             BIO_write(bio, ASN1_STRING_get0_data(value), (int)value_len) != (int)value_len))
            rc = TB_E_NOMEM;
    }
    if (rc == TB_OK)
        rc = tb_tls_buf_from_bio(bio, out);
    BIO_free(bio);
    return rc;
}

int tb_tls_name_der(const X509_NAME *name, tb_tls_buf **out)
{
    ERR_clear_error();
    BIO *bio = BIO_new(BIO_s_mem());
    int rc;
    if (bio == NULL)
        return TB_E_NOMEM;
    unsigned char *der = NULL;
    int len = i2d_X509_NAME(name, &der);
    if (len < 0)
        rc = TB_TLS_E_OPENSSL;
    else if (BIO_write(bio, der, len) != len)
        rc = TB_E_NOMEM;
    else
        rc = tb_tls_buf_from_bio(bio, out);
    OPENSSL_free(der);
    BIO_free(bio);
    return rc;
}

unsigned long tb_tls_name_hash(const X509_NAME *name)
{
    ERR_set_mark();
    unsigned long hash = X509_NAME_hash_ex(name, NULL, NULL, NULL);
    ERR_pop_to_mark();
    return hash;
}

int tb_tls_name_text(const X509_NAME *name, char *out, size_t cap)
{
    if (cap > INT_MAX)
        cap = INT_MAX;
    return X509_NAME_oneline(name, out, (int)cap) != NULL ? TB_OK : TB_E_NOMEM;
}

static X509_NAME *cert_name(const X509 *cert, int which)
{
    return which == TB_TLS_NAME_ISSUER ? X509_get_issuer_name(cert)
                                       : X509_get_subject_name(cert);
}

X509_NAME *tb_tls_x509_name(const X509 *cert, int which)
{
    return cert_name(cert, which);
}

int tb_tls_x509_set_name(X509 *cert, int which, const X509_NAME *from)
{
    ERR_clear_error();
    X509_NAME *name = cert_name(cert, which);
    if (name == from)
        return TB_OK;
    X509_NAME *copy = X509_NAME_dup(from); /* from may be the other name of this cert */
    if (copy == NULL)
        return TB_E_NOMEM;
    while (X509_NAME_entry_count(name) > 0)
        X509_NAME_ENTRY_free(X509_NAME_delete_entry(name, X509_NAME_entry_count(name) - 1));
    int rc = TB_OK, last_set = -1;
    for (int i = 0; rc == TB_OK && i < X509_NAME_entry_count(copy); i++) {
        const X509_NAME_ENTRY *entry = X509_NAME_get_entry(copy, i);
        int set = X509_NAME_ENTRY_set(entry);
        /* Same RDN as the previous attribute: -1 adds to it; 0 starts a new one. */
        if (!X509_NAME_add_entry(name, entry, -1, i > 0 && set == last_set ? -1 : 0))
            rc = TB_E_NOMEM;
        last_set = set;
    }
    X509_NAME_free(copy);
    return rc;
}

/* ---------------------------------------------------------------- fields */

int tb_tls_x509_serial(const X509 *cert, char *out, size_t cap, size_t *len)
{
    ERR_clear_error();
    BIGNUM *bn = ASN1_INTEGER_to_BN(X509_get0_serialNumber(cert), NULL);
    if (bn == NULL)
        return TB_TLS_E_DECODE;
    char *hex = BN_bn2hex(bn);
    BN_free(bn);
    if (hex == NULL)
        return TB_E_NOMEM;
    copy_text(hex, strlen(hex), out, cap, len);
    OPENSSL_free(hex);
    return TB_OK;
}

int tb_tls_x509_set_serial(X509 *cert, const char *hex)
{
    ERR_clear_error();
    BIGNUM *bn = NULL;
    if (BN_hex2bn(&bn, hex) == 0 || bn == NULL)
        return TB_E_ARG;
    ASN1_INTEGER *serial = BN_to_ASN1_INTEGER(bn, NULL);
    BN_free(bn);
    if (serial == NULL)
        return TB_E_NOMEM;
    int ok = X509_set_serialNumber(cert, serial);
    ASN1_INTEGER_free(serial);
    return ok ? TB_OK : TB_E_NOMEM;
}

static ASN1_TIME *cert_time(X509 *cert, int which)
{
    return which == TB_TLS_TIME_NOT_AFTER ? X509_getm_notAfter(cert) : X509_getm_notBefore(cert);
}

int tb_tls_x509_time(X509 *cert, int which, char *out, size_t cap, size_t *len)
{
    ERR_clear_error();
    const ASN1_TIME *time = cert_time(cert, which);
    if (ASN1_STRING_length(time) <= 0)
        return TB_TLS_ABSENT;
    if (ASN1_STRING_type(time) == V_ASN1_GENERALIZEDTIME) {
        copy_text(ASN1_STRING_get0_data(time), (size_t)ASN1_STRING_length(time), out, cap, len);
        return TB_OK;
    }
    ASN1_GENERALIZEDTIME *general = ASN1_TIME_to_generalizedtime(time, NULL);
    if (general == NULL)
        return TB_TLS_E_DECODE;
    copy_text(ASN1_STRING_get0_data(general), (size_t)ASN1_STRING_length(general), out, cap,
              len);
    ASN1_GENERALIZEDTIME_free(general);
    return TB_OK;
}

int tb_tls_x509_set_time(X509 *cert, int which, const char *when)
{
    ERR_clear_error();
    return ASN1_TIME_set_string(cert_time(cert, which), when) ? TB_OK : TB_E_ARG;
}

int tb_tls_x509_adjust_time(X509 *cert, int which, long seconds)
{
    ERR_clear_error();
    return X509_gmtime_adj(cert_time(cert, which), seconds) != NULL ? TB_OK : TB_TLS_E_OPENSSL;
}

int tb_tls_x509_expired(X509 *cert)
{
    ERR_clear_error();
    const ASN1_TIME *not_after = X509_getm_notAfter(cert);
    if (ASN1_STRING_length(not_after) <= 0)
        return TB_E_ARG;
    int cmp = ASN1_TIME_cmp_time_t(not_after, time(NULL));
    if (cmp == -2)
        return TB_E_ARG;
    return cmp < 0;
}

int tb_tls_x509_digest(const X509 *cert, const char *digest, unsigned char *out, size_t cap,
                       size_t *len)
{
    ERR_clear_error();
    unsigned int written = 0;
    const EVP_MD *md = EVP_get_digestbyname(digest);
    if (md == NULL)
        return TB_E_ARG;
    if (cap < EVP_MAX_MD_SIZE)
        return TB_E_ARG;
    if (!X509_digest(cert, md, out, &written))
        return TB_TLS_E_OPENSSL;
    *len = written;
    return TB_OK;
}

const char *tb_tls_x509_signature_algorithm(const X509 *cert)
{
    const ASN1_OBJECT *obj = NULL;
    X509_ALGOR_get0(&obj, NULL, NULL, X509_get0_tbs_sigalg(cert));
    int nid = obj != NULL ? OBJ_obj2nid(obj) : NID_undef;
    return nid == NID_undef ? NULL : OBJ_nid2ln(nid);
}

int tb_tls_x509_sign(X509 *cert, EVP_PKEY *key, const char *digest)
{
    ERR_clear_error();
    const EVP_MD *md = EVP_get_digestbyname(digest);
    if (md == NULL)
        return TB_E_ARG;
    return X509_sign(cert, key, md) > 0 ? TB_OK : TB_TLS_E_OPENSSL;
}

int tb_tls_x509_public_key(X509 *cert, EVP_PKEY **out)
{
    ERR_clear_error();
    EVP_PKEY *key = X509_get_pubkey(cert);
    if (key == NULL)
        return TB_TLS_E_NO_KEY;
    *out = key;
    return TB_OK;
}

int tb_tls_x509_set_public_key(X509 *cert, EVP_PKEY *key)
{
    ERR_clear_error();
    return X509_set_pubkey(cert, key) ? TB_OK : TB_TLS_E_NO_KEY;
}

int tb_tls_x509_text(X509 *cert, tb_tls_buf **out)
{
    ERR_clear_error();
    BIO *bio = BIO_new(BIO_s_mem());
    int rc;
    if (bio == NULL)
        return TB_E_NOMEM;
    rc = X509_print_ex(bio, cert, 0, 0) ? tb_tls_buf_from_bio(bio, out) : TB_TLS_E_OPENSSL;
    BIO_free(bio);
    return rc;
}

/* ---------------------------------------------------------------- extensions */

int tb_tls_x509_add_extensions(X509 *cert, X509_EXTENSION **extensions, size_t count)
{
    ERR_clear_error();
    for (size_t i = 0; i < count; i++) {
        if (!X509_add_ext(cert, extensions[i], -1))
            return TB_TLS_E_OPENSSL;
    }
    return TB_OK;
}

int tb_tls_x509_extension(const X509 *cert, int index, X509_EXTENSION **out)
{
    ERR_clear_error();
    if (index < 0 || index >= X509_get_ext_count(cert))
        return TB_E_ARG;
    X509_EXTENSION *copy = X509_EXTENSION_dup(X509_get_ext(cert, index));
    if (copy == NULL)
        return TB_E_NOMEM;
    *out = copy;
    return TB_OK;
}

int tb_tls_ext_new(const char *name, int critical, const char *value, X509 *subject,
                   X509 *issuer, X509_EXTENSION **out)
{
    ERR_clear_error();
    X509V3_CTX ctx;
    char *text = NULL;
    if (tb_tls_init() != TB_OK)
        return TB_TLS_E_OPENSSL;
    X509V3_set_ctx(&ctx, issuer, subject, NULL, NULL, 0);
    X509V3_set_ctx_nodb(&ctx);
    if (critical) {
        size_t len = strlen(value) + sizeof("critical,");
        if ((text = OPENSSL_malloc(len)) == NULL)
            return TB_E_NOMEM;
        snprintf(text, len, "critical,%s", value);
        value = text;
    }
    X509_EXTENSION *ext = X509V3_EXT_nconf(NULL, &ctx, name, value);
    OPENSSL_free(text);
    if (ext == NULL)
        return TB_TLS_E_EXTENSION;
    *out = ext;
    return TB_OK;
}

const char *tb_tls_ext_short_name(const X509_EXTENSION *ext)
{
    const char *name = OBJ_nid2sn(OBJ_obj2nid(X509_EXTENSION_get_object((X509_EXTENSION *)ext)));
    return name != NULL ? name : "UNDEF";
}

int tb_tls_ext_data(const X509_EXTENSION *ext, const unsigned char **data, size_t *len)
{
    const ASN1_OCTET_STRING *octets = X509_EXTENSION_get_data((X509_EXTENSION *)ext);
    if (octets == NULL)
        return TB_TLS_E_DECODE;
    *data = ASN1_STRING_get0_data(octets);
    *len = (size_t)ASN1_STRING_length(octets);
    return TB_OK;
}

/* subjectAltName as pyOpenSSL wrote it: "DNS:a, email:b, URI:c" with the stored bytes
   (NUL bytes included), other kinds as OpenSSL prints them. */
static int print_alt_names(BIO *bio, X509_EXTENSION *ext)
{
    GENERAL_NAMES *names = X509V3_EXT_d2i(ext);
    if (names == NULL)
        return 0;
    int ok = 1;
    for (int i = 0; ok && i < sk_GENERAL_NAME_num(names); i++) {
        GENERAL_NAME *name = sk_GENERAL_NAME_value(names, i);
        const char *label = name->type == GEN_EMAIL ? "email"
                            : name->type == GEN_DNS ? "DNS"
                            : name->type == GEN_URI ? "URI"
                                                    : NULL;
        if (i > 0)
            ok = BIO_write(bio, ", ", 2) == 2;
        if (!ok)
            break;
        if (label == NULL) {
            ok = GENERAL_NAME_print(bio, name) > 0;
        } else {
            const ASN1_IA5STRING *text = name->d.ia5;
            int len = ASN1_STRING_length(text);
            ok = BIO_printf(bio, "%s:", label) > 0 &&
                 (len == 0 || BIO_write(bio, ASN1_STRING_get0_data(text), len) == len);
        }
    }
    GENERAL_NAMES_free(names);
    return ok;
}

int tb_tls_ext_text(X509_EXTENSION *ext, tb_tls_buf **out)
{
    ERR_clear_error();
    BIO *bio = BIO_new(BIO_s_mem());
    int ok, rc;
    if (bio == NULL)
        return TB_E_NOMEM;
    if (OBJ_obj2nid(X509_EXTENSION_get_object(ext)) == NID_subject_alt_name)
        ok = print_alt_names(bio, ext);
    else
        ok = X509V3_EXT_print(bio, ext, X509V3_EXT_PARSE_UNKNOWN, 0);
    rc = ok ? tb_tls_buf_from_bio(bio, out) : TB_TLS_E_DECODE;
    BIO_free(bio);
    return rc;
}
