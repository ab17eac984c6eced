/*
 * tls_crl.c: certificate revocation lists for tightbind/tls/crl.py (and the crypto
 * face's CRL and Revoked): read (PEM, DER), written (PEM, DER, text), decoded whole in
 * one call into plain arrays, built and signed in one call from an array of entries,
 * and edited one field at a time the way pyOpenSSL's CRL and Revoked edit them.
 *
 * Every input here may come from the network (a distribution point's CRL): a parse
 * failure is TB_TLS_E_DECODE, a length OpenSSL cannot take TB_TLS_E_TOO_LARGE.
 */
#include <string.h>
#include <time.h>

#include "tls_internal.h"

/* ---------------------------------------------------------------- read, write */

int tb_tls_crl_load(const unsigned char *data, size_t len, int format, X509_CRL **out)
{
    ERR_clear_error();
    int rc = tb_tls_init();
    if (rc != TB_OK)
        return rc;
    if (format != TB_TLS_FORMAT_PEM && format != TB_TLS_FORMAT_DER)
        return TB_E_ARG;
    if (len > TB_TLS_MAX_INPUT)
        return TB_TLS_E_TOO_LARGE;
    X509_CRL *crl = NULL;
    if (format == TB_TLS_FORMAT_PEM) {
        BIO *bio = tb_tls_bio_for(data, len);
        if (bio == NULL)
            return TB_E_NOMEM;
        crl = PEM_read_bio_X509_CRL(bio, NULL, NULL, NULL);
        BIO_free(bio);
    } else {
        const unsigned char *p = data;
        crl = d2i_X509_CRL(NULL, &p, (long)len);
        if (crl != NULL && p != data + len) { /* trailing bytes: not one DER CRL */
            X509_CRL_free(crl);
            crl = NULL;
        }
    }
    if (crl == NULL)
        return TB_TLS_E_DECODE;
    *out = crl;
    return TB_OK;
}

int tb_tls_crl_dump(X509_CRL *crl, int format, tb_tls_buf **out)
{
    ERR_clear_error();
    BIO *bio = BIO_new(BIO_s_mem());
    int ok;
    if (bio == NULL)
        return TB_E_NOMEM;
    if (format == TB_TLS_FORMAT_PEM)
        ok = PEM_write_bio_X509_CRL(bio, crl);
    else if (format == TB_TLS_FORMAT_DER)
        ok = i2d_X509_CRL_bio(bio, crl);
    else if (format == TB_TLS_FORMAT_TEXT)
        ok = X509_CRL_print(bio, crl);
    else
        ok = -1;
    int rc = ok == 1 ? tb_tls_buf_from_bio(bio, out) : ok < 0 ? TB_E_ARG : TB_TLS_E_OPENSSL;
    BIO_free(bio);
    return rc;
}

/* ---------------------------------------------------------------- the decode */

/* POSIX seconds of an ASN1_TIME; TB_TLS_NO_TIME when it is absent or does not convert. */
static int64_t posix_time(const ASN1_TIME *t)
{
    struct tm tm;
    if (t == NULL || ASN1_STRING_length(t) <= 0 || !ASN1_TIME_to_tm(t, &tm))
        return TB_TLS_NO_TIME;
    return (int64_t)timegm(&tm);
}

/* The CRLReason code of an entry: -1 when it has none, -2 when it does not decode. */
static int entry_reason(const X509_REVOKED *entry)
{
    int critical = 0;
    ASN1_ENUMERATED *reason = X509_REVOKED_get_ext_d2i(entry, NID_crl_reason, &critical, NULL);
    if (reason == NULL)
        return critical == -1 ? -1 : -2;
    long code = ASN1_ENUMERATED_get(reason);
    ASN1_ENUMERATED_free(reason);
    return code >= 0 && code <= INT_MAX ? (int)code : -2;
}

/* An integer as upper-case hex, at least two digits ("00" for zero), '-' when negative;
   NULL on no memory. */
static char *integer_hex(const ASN1_INTEGER *value)
{
    BIGNUM *bn = ASN1_INTEGER_to_BN(value, NULL);
    if (bn == NULL)
        return NULL;
    char *hex = BN_is_zero(bn) ? OPENSSL_strdup("00") : BN_bn2hex(bn);
    BN_free(bn);
    return hex;
}

void tb_tls_crl_info_free(tb_tls_crl_info *info)
{
    if (info == NULL)
        return;
    OPENSSL_free(info->issuer);
    OPENSSL_free(info->crl_number);
    OPENSSL_free(info->revocation_times);
    OPENSSL_free(info->reasons);
    OPENSSL_free(info->serials);
    OPENSSL_free(info);
}

/* Every entry's serial (NUL-terminated hex, one after another), time and reason. */
static int decode_entries(tb_tls_crl_info *info, STACK_OF(X509_REVOKED) *entries)
{
    int count = sk_X509_REVOKED_num(entries);
    if (count <= 0)
        return TB_OK;
    info->revocation_times = OPENSSL_malloc((size_t)count * sizeof(int64_t));
    info->reasons = OPENSSL_malloc((size_t)count * sizeof(int));
    BIO *serials = BIO_new(BIO_s_mem());
    int rc = info->revocation_times && info->reasons && serials ? TB_OK : TB_E_NOMEM;
    for (int i = 0; rc == TB_OK && i < count; i++) {
        const X509_REVOKED *entry = sk_X509_REVOKED_value(entries, i);
        char *hex = integer_hex(X509_REVOKED_get0_serialNumber(entry));
        int len = hex != NULL ? (int)strlen(hex) + 1 : 0;
        if (hex == NULL || BIO_write(serials, hex, len) != len)
            rc = TB_E_NOMEM;
        OPENSSL_free(hex);
        info->revocation_times[i] = posix_time(X509_REVOKED_get0_revocationDate(entry));
        info->reasons[i] = entry_reason(entry);
    }
    if (rc == TB_OK) {
        char *data = NULL;
        long len = BIO_get_mem_data(serials, &data);
        info->serials = OPENSSL_malloc(len > 0 ? (size_t)len : 1);
        if (info->serials == NULL)
            rc = TB_E_NOMEM;
        else if (len > 0)
            memcpy(info->serials, data, (size_t)len);
        info->serials_len = len > 0 ? (size_t)len : 0;
        info->count = (size_t)count;
    }
    BIO_free(serials);
    return rc;
}

int tb_tls_crl_decode(X509_CRL *crl, tb_tls_crl_info **out)
{
    ERR_clear_error();
    tb_tls_crl_info *info = OPENSSL_zalloc(sizeof(*info));
    if (info == NULL)
        return TB_E_NOMEM;
    info->version = (int)X509_CRL_get_version(crl) + 1;
    info->last_update = posix_time(X509_CRL_get0_lastUpdate(crl));
    info->next_update = posix_time(X509_CRL_get0_nextUpdate(crl));
    const ASN1_OBJECT *alg = NULL;
    const X509_ALGOR *sig_alg = NULL;
    X509_CRL_get0_signature(crl, NULL, &sig_alg);
    if (sig_alg != NULL)
        X509_ALGOR_get0(&alg, NULL, NULL, sig_alg);
    int nid = alg != NULL ? OBJ_obj2nid(alg) : NID_undef;
    info->signature_algorithm = nid != NID_undef ? OBJ_nid2ln(nid) : "";
    int rc = TB_OK;
    if ((info->issuer = X509_NAME_oneline(X509_CRL_get_issuer(crl), NULL, 0)) == NULL)
        rc = TB_E_NOMEM;
    int critical = 0;
    ASN1_INTEGER *number = X509_CRL_get_ext_d2i(crl, NID_crl_number, &critical, NULL);
    if (rc == TB_OK && number != NULL && (info->crl_number = integer_hex(number)) == NULL)
        rc = TB_E_NOMEM;
    ASN1_INTEGER_free(number);
    if (rc == TB_OK)
        rc = decode_entries(info, X509_CRL_get_REVOKED(crl));
    if (rc != TB_OK) {
        tb_tls_crl_info_free(info);
        return rc;
    }
    *out = info;
    return TB_OK;
}

/* ---------------------------------------------------------------- building, signing */

static int set_crl_time(X509_CRL *crl, int which, const ASN1_TIME *when)
{
    return which == TB_TLS_CRL_NEXT_UPDATE ? X509_CRL_set1_nextUpdate(crl, when)
                                           : X509_CRL_set1_lastUpdate(crl, when);
}

int tb_tls_crl_set_time(X509_CRL *crl, int which, const char *when)
{
    ERR_clear_error();
    ASN1_TIME *time = ASN1_TIME_new();
    if (time == NULL)
        return TB_E_NOMEM;
    int rc = !ASN1_TIME_set_string(time, when) ? TB_E_ARG
             : set_crl_time(crl, which, time)  ? TB_OK
                                               : TB_E_NOMEM;
    ASN1_TIME_free(time);
    return rc;
}

int tb_tls_crl_set_posix_time(X509_CRL *crl, int which, int64_t seconds)
{
    ERR_clear_error();
    ASN1_TIME *time = ASN1_TIME_adj(NULL, (time_t)seconds, 0, 0); /* UTCTime until 2050 */
    if (time == NULL)
        return TB_E_ARG;
    int rc = set_crl_time(crl, which, time) ? TB_OK : TB_E_NOMEM;
    ASN1_TIME_free(time);
    return rc;
}

int tb_tls_crl_sign(X509_CRL *crl, X509 *issuer, EVP_PKEY *key, const char *digest)
{
    ERR_clear_error();
    const EVP_MD *md = NULL;
    if (digest != NULL && (md = EVP_get_digestbyname(digest)) == NULL)
        return TB_E_ARG;
    if (!X509_CRL_set_issuer_name(crl, X509_get_subject_name(issuer)))
        return TB_E_NOMEM;
    if (!X509_CRL_sort(crl))
        return TB_E_NOMEM;
    return X509_CRL_sign(crl, key, md) > 0 ? TB_OK : TB_TLS_E_OPENSSL;
}

/* The entry described by in: serial (all of it hex), date, reason; NULL with *rc set. */
static X509_REVOKED *make_entry(const tb_tls_crl_entry *in, int *rc)
{
    X509_REVOKED *entry = X509_REVOKED_new();
    ASN1_TIME *date = NULL;
    *rc = entry == NULL ? TB_E_NOMEM : tb_tls_revoked_set_serial(entry, in->serial, 1);
    if (*rc == TB_OK && (date = ASN1_TIME_adj(NULL, (time_t)in->revocation_time, 0, 0)) == NULL)
        *rc = TB_E_ARG;
    if (*rc == TB_OK && !X509_REVOKED_set_revocationDate(entry, date))
        *rc = TB_E_NOMEM;
    if (*rc == TB_OK && in->reason >= 0)
        *rc = tb_tls_revoked_set_reason(entry, in->reason);
    ASN1_TIME_free(date);
    if (*rc != TB_OK) {
        X509_REVOKED_free(entry);
        return NULL;
    }
    return entry;
}

static int add_crl_number(X509_CRL *crl, const char *hex)
{
    BIGNUM *bn = NULL;
    if (BN_hex2bn(&bn, hex) != (int)strlen(hex) || BN_is_negative(bn)) {
        BN_free(bn);
        return TB_E_ARG;
    }
    ASN1_INTEGER *number = BN_to_ASN1_INTEGER(bn, NULL);
    BN_free(bn);
    int ok = number != NULL && X509_CRL_add1_ext_i2d(crl, NID_crl_number, number, 0, 0) == 1;
    ASN1_INTEGER_free(number);
    return ok ? TB_OK : TB_E_NOMEM;
}

int tb_tls_crl_build(X509 *issuer, EVP_PKEY *key, const char *digest,
                     const tb_tls_crl_entry *entries, size_t count, int64_t last_update,
                     int64_t next_update, const char *crl_number, X509_CRL **out)
{
    ERR_clear_error();
    int rc = tb_tls_init();
    if (rc != TB_OK)
        return rc;
    X509_CRL *crl = X509_CRL_new();
    if (crl == NULL || !X509_CRL_set_version(crl, X509_CRL_VERSION_2))
        rc = TB_E_NOMEM;
    for (size_t i = 0; rc == TB_OK && i < count; i++) {
        X509_REVOKED *entry = make_entry(&entries[i], &rc);
        if (entry != NULL && !X509_CRL_add0_revoked(crl, entry)) {
            X509_REVOKED_free(entry);
            rc = TB_E_NOMEM;
        }
    }
    if (rc == TB_OK)
        rc = tb_tls_crl_set_posix_time(crl, TB_TLS_CRL_LAST_UPDATE, last_update);
    if (rc == TB_OK && next_update != TB_TLS_NO_TIME)
        rc = tb_tls_crl_set_posix_time(crl, TB_TLS_CRL_NEXT_UPDATE, next_update);
    if (rc == TB_OK && crl_number != NULL)
        rc = add_crl_number(crl, crl_number);
    if (rc == TB_OK)
        rc = tb_tls_crl_sign(crl, issuer, key, digest);
    if (rc != TB_OK) {
        X509_CRL_free(crl);
        return rc;
    }
    *out = crl;
    return TB_OK;
}

/* ---------------------------------------------------------------- entries */

int tb_tls_crl_revoked_count(const X509_CRL *crl)
{
    int count = sk_X509_REVOKED_num(X509_CRL_get_REVOKED((X509_CRL *)crl));
    return count > 0 ? count : 0; /* -1 for a CRL without entries */
}

int tb_tls_crl_revoked(const X509_CRL *crl, int index, X509_REVOKED **out)
{
    ERR_clear_error();
    if (index < 0 || index >= tb_tls_crl_revoked_count(crl))
        return TB_E_ARG;
    X509_REVOKED *copy = X509_REVOKED_dup(
        sk_X509_REVOKED_value(X509_CRL_get_REVOKED((X509_CRL *)crl), index));
    if (copy == NULL)
        return TB_E_NOMEM;
    *out = copy;
    return TB_OK;
}

int tb_tls_crl_add_revoked(X509_CRL *crl, const X509_REVOKED *entry)
{
    ERR_clear_error();
    X509_REVOKED *copy = X509_REVOKED_dup(entry);
    if (copy == NULL || !X509_CRL_add0_revoked(crl, copy)) {
        X509_REVOKED_free(copy);
        return TB_E_NOMEM;
    }
    return TB_OK;
}

int tb_tls_revoked_set_serial(X509_REVOKED *entry, const char *hex, int whole)
{
    ERR_clear_error();
    BIGNUM *bn = NULL;
    int used = BN_hex2bn(&bn, hex);
    if (used == 0 || (whole && (size_t)used != strlen(hex))) {
        BN_free(bn);
        return TB_E_ARG;
    }
    ASN1_INTEGER *serial = BN_to_ASN1_INTEGER(bn, NULL);
    BN_free(bn);
    int ok = serial != NULL && X509_REVOKED_set_serialNumber(entry, serial);
    ASN1_INTEGER_free(serial);
    return ok ? TB_OK : TB_E_NOMEM;
}

int tb_tls_revoked_serial(const X509_REVOKED *entry, tb_tls_buf **out)
{
    ERR_clear_error();
    char *hex = integer_hex(X509_REVOKED_get0_serialNumber(entry));
    if (hex == NULL)
        return TB_E_NOMEM;
    int rc = tb_tls_buf_from_bytes(hex, strlen(hex), out);
    OPENSSL_free(hex);
    return rc;
}

int tb_tls_revoked_set_date(X509_REVOKED *entry, const char *when)
{
    ERR_clear_error();
    ASN1_TIME *time = ASN1_TIME_new();
    if (time == NULL)
        return TB_E_NOMEM;
    int rc = !ASN1_TIME_set_string(time, when)            ? TB_E_ARG
             : X509_REVOKED_set_revocationDate(entry, time) ? TB_OK
                                                           : TB_E_NOMEM;
    ASN1_TIME_free(time);
    return rc;
}

/* The date as ASN.1 GeneralizedTime text ("YYYYMMDDhhmmssZ"), TB_TLS_ABSENT when unset. */
int tb_tls_revoked_date(const X509_REVOKED *entry, tb_tls_buf **out)
{
    ERR_clear_error();
    const ASN1_TIME *date = X509_REVOKED_get0_revocationDate(entry);
    if (date == NULL || ASN1_STRING_length(date) <= 0)
        return TB_TLS_ABSENT;
    if (ASN1_STRING_type(date) == V_ASN1_GENERALIZEDTIME)
        return tb_tls_buf_from_bytes(ASN1_STRING_get0_data(date),
                                     (size_t)ASN1_STRING_length(date), out);
    ASN1_GENERALIZEDTIME *general = ASN1_TIME_to_generalizedtime(date, NULL);
    if (general == NULL)
        return TB_TLS_E_DECODE;
    int rc = tb_tls_buf_from_bytes(ASN1_STRING_get0_data(general),
                                   (size_t)ASN1_STRING_length(general), out);
    ASN1_GENERALIZEDTIME_free(general);
    return rc;
}

int tb_tls_revoked_set_reason(X509_REVOKED *entry, int reason)
{
    ERR_clear_error();
    if (reason < -1 || reason > 10 || reason == 7) /* 7 is unused in RFC 5280 */
        return TB_E_ARG;
    int index = X509_REVOKED_get_ext_by_NID(entry, NID_crl_reason, -1);
    if (index >= 0)
        X509_EXTENSION_free(X509_REVOKED_delete_ext(entry, index));
    if (reason < 0)
        return TB_OK;
    ASN1_ENUMERATED *code = ASN1_ENUMERATED_new();
    int ok = code != NULL && ASN1_ENUMERATED_set(code, reason) &&
             X509_REVOKED_add1_ext_i2d(entry, NID_crl_reason, code, 0, 0) == 1;
    ASN1_ENUMERATED_free(code);
    return ok ? TB_OK : TB_E_NOMEM;
}

/* The reason as OpenSSL prints it ("Key Compromise"), TB_TLS_ABSENT when there is none. */
int tb_tls_revoked_reason(const X509_REVOKED *entry, tb_tls_buf **out)
{
    ERR_clear_error();
    int index = X509_REVOKED_get_ext_by_NID(entry, NID_crl_reason, -1);
    if (index < 0)
        return TB_TLS_ABSENT;
    X509_EXTENSION *ext = X509_REVOKED_get_ext(entry, index);
    BIO *bio = BIO_new(BIO_s_mem());
    if (bio == NULL)
        return TB_E_NOMEM;
    int ok = X509V3_EXT_print(bio, ext, 0, 0) == 1;
    if (!ok) { /* a value that does not decode: its bytes as OpenSSL prints them */
        ERR_clear_error();
        ok = ASN1_STRING_print(bio, X509_EXTENSION_get_data(ext)) == 1;
    }
    int rc = ok ? tb_tls_buf_from_bio(bio, out) : TB_TLS_E_DECODE;
    BIO_free(bio);
    return rc;
}
