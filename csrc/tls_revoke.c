/*
 * tls_revoke.c: revocation for tightbind/tls/revocation.py (the chain doctor's OCSP and
 * CRL checks): a stapled or fetched OCSP response, or a fetched CRL, read and checked in
 * one call into a caller-owned tb_tls_revocation; the OCSP request for a certificate;
 * the must-staple (TLS feature) flag.  Every input here came from the network: nothing
 * is trusted before its signature is checked, and a parse failure is TB_TLS_E_DECODE.
 */
#include <string.h>
#include <time.h>

#include "tls_internal.h"

#define TLS_FEATURE_STATUS_REQUEST 5 /* RFC 7633: the status_request extension's number */

static void clear_result(tb_tls_revocation *out)
{
    memset(out, 0, sizeof(*out));
    out->reason = -1;
}

/* POSIX seconds of an ASN1_TIME; 0 when it does not convert. */
static int to_posix(const ASN1_TIME *t, int64_t *out)
{
    struct tm tm;
    if (t == NULL || !ASN1_TIME_to_tm(t, &tm))
        return 0;
    *out = (int64_t)timegm(&tm);
    return 1;
}

static void name_text(const X509_NAME *name, char *out, size_t cap)
{
    out[0] = '\0';
    if (name != NULL)
        X509_NAME_oneline(name, out, (int)cap);
}

/* The single response in bs that speaks about cert (issued by issuer), whatever hash its
   CertID was made with; NULL when there is none. */
static OCSP_SINGLERESP *find_single(OCSP_BASICRESP *bs, X509 *cert, X509 *issuer)
{
    int count = OCSP_resp_count(bs);
    for (int i = 0; i < count; i++) {
        OCSP_SINGLERESP *single = OCSP_resp_get0(bs, i);
        const OCSP_CERTID *id = OCSP_SINGLERESP_get0_id(single);
        ASN1_OBJECT *md_oid = NULL;
        if (id == NULL || !OCSP_id_get0_info(NULL, &md_oid, NULL, NULL, (OCSP_CERTID *)id))
            continue;
        const EVP_MD *md = EVP_get_digestbyobj(md_oid);
        if (md == NULL)
            continue;
        OCSP_CERTID *mine = OCSP_cert_to_id(md, cert, issuer);
        int same = mine != NULL && OCSP_id_cmp(mine, id) == 0;
        OCSP_CERTID_free(mine);
        if (same)
            return single;
    }
    return NULL;
}

/* Who may sign: the issuer itself, or a certificate the issuer signed with the
   OCSP-signing purpose, verified against store at the caller's time. */
static int check_signer(X509 *signer, X509 *issuer, STACK_OF(X509) *extra, X509_STORE *store,
                        int64_t at_time, int use_time, tb_tls_revocation *out)
{
    if (X509_cmp(signer, issuer) == 0)
        return TB_OK;
    EVP_PKEY *issuer_key = X509_get0_pubkey(issuer);
    if (X509_check_issued(issuer, signer) != X509_V_OK || issuer_key == NULL ||
        X509_verify(signer, issuer_key) != 1 || /* issued by this issuer, not a namesake */
        !(X509_get_extension_flags(signer) & EXFLAG_XKUSAGE) ||
        !(X509_get_extended_key_usage(signer) & XKU_OCSP_SIGN)) {
        out->signature = TB_TLS_SIG_UNAUTHORISED;
        return TB_OK;
    }
    out->delegated = 1;
    if (store == NULL) {
        out->signature = TB_TLS_SIG_UNTRUSTED;
        return TB_OK;
    }
    X509_STORE_CTX *ctx = X509_STORE_CTX_new();
    if (ctx == NULL)
        return TB_E_NOMEM;
    int rc = TB_OK;
    if (!X509_STORE_CTX_init(ctx, store, signer, extra)) {
        rc = TB_TLS_E_OPENSSL;
    } else {
        X509_STORE_CTX_set_purpose(ctx, X509_PURPOSE_OCSP_HELPER);
        if (use_time)
            X509_VERIFY_PARAM_set_time(X509_STORE_CTX_get0_param(ctx), (time_t)at_time);
        if (X509_verify_cert(ctx) != 1) {
            out->signature = TB_TLS_SIG_UNTRUSTED;
            out->verify_error = X509_STORE_CTX_get_error(ctx);
        }
    }
    X509_STORE_CTX_free(ctx);
    return rc;
}

int tb_tls_ocsp_check(const unsigned char *data, size_t len, X509 *cert, X509 *issuer,
                      X509 **untrusted, size_t count, X509_STORE *store, int64_t at_time,
                      int use_time, tb_tls_revocation *out)
{
    ERR_clear_error();
    clear_result(out);
    if (cert == NULL || issuer == NULL || (count > 0 && untrusted == NULL))
        return TB_E_ARG;
    if (len > TB_TLS_MAX_INPUT)
        return TB_TLS_E_TOO_LARGE;
    const unsigned char *p = data;
    OCSP_RESPONSE *resp = d2i_OCSP_RESPONSE(NULL, &p, (long)len);
    if (resp != NULL && p != data + len) { /* trailing bytes: not one DER response */
        OCSP_RESPONSE_free(resp);
        resp = NULL;
    }
    if (resp == NULL)
        return TB_TLS_E_DECODE;
    OCSP_BASICRESP *bs = NULL;
    STACK_OF(X509) *extra = NULL;
    int rc = TB_OK;

    out->response_status = OCSP_response_status(resp);
    if (out->response_status != OCSP_RESPONSE_STATUS_SUCCESSFUL) {
        out->status = TB_TLS_REV_REFUSED;
        goto done;
    }
    if ((bs = OCSP_response_get1_basic(resp)) == NULL) {
        rc = TB_TLS_E_DECODE;
        goto done;
    }
    out->entries = OCSP_resp_count(bs);
    if ((extra = sk_X509_new_null()) == NULL || !sk_X509_push(extra, issuer)) {
        rc = TB_E_NOMEM;
        goto done;
    }
    for (size_t i = 0; i < count; i++) {
        if (untrusted[i] == NULL || !sk_X509_push(extra, untrusted[i])) {
            rc = untrusted[i] == NULL ? TB_E_ARG : TB_E_NOMEM;
            goto done;
        }
    }
    X509 *signer = NULL;
    if (!OCSP_resp_get0_signer(bs, &signer, extra) || signer == NULL) {
        out->signature = TB_TLS_SIG_NO_SIGNER;
        const ASN1_OCTET_STRING *key_id = NULL;
        const X509_NAME *by_name = NULL;
        if (OCSP_resp_get0_id(bs, &key_id, &by_name) && by_name != NULL)
            name_text(by_name, out->signer, sizeof(out->signer));
    } else {
        name_text(X509_get_subject_name(signer), out->signer, sizeof(out->signer));
        /* OCSP_NOVERIFY: find the signer and check the signature with its key only; who
           may sign is check_signer's business (with the caller's time). */
        if (OCSP_basic_verify(bs, extra, NULL, OCSP_NOVERIFY) != 1)
            out->signature = TB_TLS_SIG_BAD;
        else
            rc = check_signer(signer, issuer, extra, store, at_time, use_time, out);
        ERR_clear_error();
        if (rc != TB_OK)
            goto done;
    }
    OCSP_SINGLERESP *single = find_single(bs, cert, issuer);
    ERR_clear_error();
    if (single == NULL) {
        out->status = TB_TLS_REV_NO_ANSWER;
        goto done;
    }
    int reason = -1;
    ASN1_GENERALIZEDTIME *revoked_at = NULL, *this_update = NULL, *next_update = NULL;
    int status = OCSP_single_get0_status(single, &reason, &revoked_at, &this_update,
                                         &next_update);
    out->status = status == V_OCSP_CERTSTATUS_GOOD      ? TB_TLS_REV_GOOD
                  : status == V_OCSP_CERTSTATUS_REVOKED ? TB_TLS_REV_REVOKED
                                                        : TB_TLS_REV_UNKNOWN;
    out->reason = reason;
    to_posix(this_update, &out->this_update);
    out->has_next_update = to_posix(next_update, &out->next_update);
    out->has_revocation_time = to_posix(revoked_at, &out->revocation_time);
done:
    sk_X509_free(extra);
    OCSP_BASICRESP_free(bs);
    OCSP_RESPONSE_free(resp);
    return rc;
}

int tb_tls_ocsp_request(X509 *cert, X509 *issuer, tb_tls_buf **out)
{
    ERR_clear_error();
    if (cert == NULL || issuer == NULL)
        return TB_E_ARG;
    OCSP_REQUEST *req = OCSP_REQUEST_new();
    OCSP_CERTID *id = OCSP_cert_to_id(NULL, cert, issuer);
    BIO *bio = BIO_new(BIO_s_mem());
    int rc = TB_OK;
    if (req == NULL || id == NULL || bio == NULL) {
        rc = TB_E_NOMEM;
    } else if (OCSP_request_add0_id(req, id) == NULL) {
        rc = TB_TLS_E_OPENSSL;
    } else {
        id = NULL; /* the request owns it */
        rc = i2d_OCSP_REQUEST_bio(bio, req) == 1 ? tb_tls_buf_from_bio(bio, out)
                                                  : TB_TLS_E_OPENSSL;
    }
    OCSP_CERTID_free(id);
    OCSP_REQUEST_free(req);
    BIO_free(bio);
    return rc;
}

static X509_CRL *read_crl(const unsigned char *data, size_t len)
{
    static const char pem_start[] = "-----BEGIN";
    size_t skip = 0;
    while (skip < len && (data[skip] == ' ' || data[skip] == '\t' || data[skip] == '\r' ||
                          data[skip] == '\n'))
        skip++;
    if (len - skip >= sizeof(pem_start) - 1 &&
        memcmp(data + skip, pem_start, sizeof(pem_start) - 1) == 0) {
        BIO *bio = tb_tls_bio_for(data, len);
        if (bio == NULL)
            return NULL;
        X509_CRL *crl = PEM_read_bio_X509_CRL(bio, NULL, NULL, NULL);
        BIO_free(bio);
        return crl;
    }
    const unsigned char *p = data;
    X509_CRL *crl = d2i_X509_CRL(NULL, &p, (long)len);
    if (crl != NULL && p != data + len) { /* trailing bytes: not one DER CRL */
        X509_CRL_free(crl);
        return NULL;
    }
    return crl;
}

int tb_tls_crl_check(const unsigned char *data, size_t len, X509 *cert, X509 *issuer,
                     tb_tls_revocation *out)
{
    ERR_clear_error();
    clear_result(out);
    if (cert == NULL || issuer == NULL)
        return TB_E_ARG;
    if (len > TB_TLS_MAX_INPUT)
        return TB_TLS_E_TOO_LARGE;
    X509_CRL *crl = read_crl(data, len);
    if (crl == NULL)
        return TB_TLS_E_DECODE;
    name_text(X509_CRL_get_issuer(crl), out->signer, sizeof(out->signer));
    EVP_PKEY *key = X509_get0_pubkey(issuer);
    if (X509_NAME_cmp(X509_CRL_get_issuer(crl), X509_get_subject_name(issuer)) != 0)
        out->signature = TB_TLS_SIG_UNAUTHORISED;
    else if (key == NULL || X509_CRL_verify(crl, key) != 1)
        out->signature = TB_TLS_SIG_BAD;
    ERR_clear_error();
    to_posix(X509_CRL_get0_lastUpdate(crl), &out->this_update);
    out->has_next_update = to_posix(X509_CRL_get0_nextUpdate(crl), &out->next_update);
    STACK_OF(X509_REVOKED) *revoked = X509_CRL_get_REVOKED(crl);
    out->entries = revoked == NULL ? 0 : sk_X509_REVOKED_num(revoked);
    X509_REVOKED *entry = NULL;
    if (X509_CRL_get0_by_cert(crl, &entry, cert) == 1 && entry != NULL) {
        out->status = TB_TLS_REV_REVOKED;
        out->has_revocation_time =
            to_posix(X509_REVOKED_get0_revocationDate(entry), &out->revocation_time);
        int critical = 0;
        ASN1_ENUMERATED *reason = X509_REVOKED_get_ext_d2i(entry, NID_crl_reason, &critical,
                                                           NULL);
        if (reason != NULL) {
            long value = ASN1_ENUMERATED_get(reason);
            out->reason = value >= 0 && value <= 10 ? (int)value : -1;
            ASN1_ENUMERATED_free(reason);
        }
    }
    ERR_clear_error();
    X509_CRL_free(crl);
    return TB_OK;
}

int tb_tls_must_staple(X509 *cert)
{
    TLS_FEATURE *features = X509_get_ext_d2i(cert, NID_tlsfeature, NULL, NULL);
    int found = 0;
    for (int i = 0; features != NULL && i < sk_ASN1_INTEGER_num(features); i++)
        if (ASN1_INTEGER_get(sk_ASN1_INTEGER_value(features, i)) == TLS_FEATURE_STATUS_REQUEST)
            found = 1;
    TLS_FEATURE_free(features);
    ERR_clear_error();
    return found;
}
