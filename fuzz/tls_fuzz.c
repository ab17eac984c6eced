/*
 * libFuzzer harness for the TLS shim's parsers (csrc/tls.c, tls_x509.c, tls_pkcs12.c,
 * tls_verify.c), linked against the system's OpenSSL.  The first input byte chooses the
 * entry point (and, in its high bit, the PKCS#12 "allow a missing MAC" flag), the second
 * the password; the rest is the file:
 *
 *   0  tb_tls_p12_parse, then everything it returned is decoded, re-encoded and verified
 *   1  tb_tls_cert_load (DER)        3  tb_tls_pem_read_certs (a PEM bundle)
 *   2  tb_tls_cert_load (PEM)        4  tb_tls_pkey_load (PEM)   5  tb_tls_pkey_load (DER)
 *   6  tb_tls_p7_certs (a DER PKCS#7, as caIssuers URLs serve)
 *   7  tb_tls_ocsp_check (an OCSP response, as servers staple and responders answer)
 *   8  tb_tls_crl_check (a CRL, DER or PEM, as distribution points serve)
 *   9  tb_tls_req_load (a certificate request; PEM when the second byte is odd), then
 *      dumped three ways, read again, its extensions, key and signature checked
 *  10  tb_tls_spki_decode (base64 Netscape SPKI), re-encoded, key and signature checked
 *  11  tb_tls_p7_load (PKCS#7; PEM when the second byte is odd) and its type
 *  12  tb_tls_crl_load (DER when the password byte is odd, else PEM), then the CRL is
 *      decoded, written in every format, read back, and used in a store verification
 *
 * The OCSP and CRL targets check the bytes against a certificate made at start-up (its
 * own issuer, so a response about it may be signed by it) and the untrusted store.
 *
 * Every result is checked against the shim's contract (a known status code; outputs set
 * exactly on success; decoded strings inside their buffer; a DER round trip that gives
 * the same certificate) and any violation aborts, so the fuzzer reports it beside
 * AddressSanitizer's and UBSan's findings.  scripts/fuzz-tls builds and runs it.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "tightbind.h"

#define CHECK(cond) \
    do {            \
        if (!(cond)) \
            abort(); \
    } while (0)

static const char *const passwords[] = {NULL, "", "pw", "s3cret p\xc3\xa4ssword", "p\xe4ss"};
static X509_STORE *store; /* trusts nothing: every verification fails, after the work */
static X509 *self_signed; /* the certificate OCSP responses and CRLs are checked against */

/* A P-256 self-signed certificate, serial 1, CN=fuzz. */
static X509 *make_self_signed(void)
{
    EVP_PKEY *key = EVP_EC_gen("P-256");
    X509 *cert = X509_new();
    CHECK(key != NULL && cert != NULL);
    X509_NAME *name = X509_get_subject_name(cert);
    CHECK(X509_set_version(cert, X509_VERSION_3) &&
          ASN1_INTEGER_set(X509_get_serialNumber(cert), 1) &&
          X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC, (const unsigned char *)"fuzz",
                                     -1, -1, 0) &&
          X509_set_issuer_name(cert, name) && X509_gmtime_adj(X509_getm_notBefore(cert), 0) &&
          X509_gmtime_adj(X509_getm_notAfter(cert), 86400) && X509_set_pubkey(cert, key) &&
          X509_sign(cert, key, EVP_sha256()) > 0);
    EVP_PKEY_free(key);
    return cert;
}

static int known_status(int rc)
{
    return rc == TB_OK || rc == TB_E_NOMEM || rc == TB_E_ARG ||
           (rc <= TB_TLS_E_OPENSSL && rc >= TB_TLS_E_TOO_COSTLY) ||
           rc == TB_TLS_E_SIGNATURE || rc == TB_TLS_E_KEY_MISMATCH;
}

static void check_revocation(int rc, const tb_tls_revocation *out)
{
    CHECK(known_status(rc));
    if (rc != TB_OK)
        return;
    CHECK(out->status >= TB_TLS_REV_GOOD && out->status <= TB_TLS_REV_REFUSED);
    CHECK(out->signature >= TB_TLS_SIG_OK && out->signature <= TB_TLS_SIG_UNTRUSTED);
    CHECK(out->reason >= -1 && out->reason <= 10 && out->entries >= 0);
    CHECK(memchr(out->signer, '\0', sizeof(out->signer)) != NULL);
    CHECK(out->has_revocation_time == 0 || out->status == TB_TLS_REV_REVOKED);
}

static void check_range(const tb_tls_cert_info *info, size_t off, size_t len)
{
    CHECK(off <= info->strings_len && len <= info->strings_len - off);
}

static void check_info(const tb_tls_cert_info *info)
{
    CHECK(info->strings != NULL && info->strings_len > 0 &&
          info->strings[info->strings_len - 1] == '\0');
    CHECK(info->item_count <= info->item_cap);
    check_range(info, info->serial_off, info->serial_len);
    check_range(info, info->not_before_off, info->not_before_len);
    check_range(info, info->not_after_off, info->not_after_len);
    check_range(info, info->sig_alg_off, info->sig_alg_len);
    check_range(info, info->key_type_off, info->key_type_len);
    check_range(info, info->key_group_off, info->key_group_len);
    for (size_t i = 0; i < info->item_count; i++) {
        const tb_tls_cert_item *item = &info->items[i];
        CHECK(item->kind >= TB_TLS_CERT_SUBJECT && item->kind <= TB_TLS_CERT_CRL_DP);
        check_range(info, item->key_off, item->key_len);
        check_range(info, item->short_off, item->short_len);
        check_range(info, item->value_off, item->value_len);
        check_range(info, item->raw_off, item->raw_len);
    }
}

static void exercise_cert(X509 *cert)
{
    tb_tls_cert_info *info = NULL;
    int rc = tb_tls_cert_decode(cert, TB_TLS_DECODE_FIELDS | TB_TLS_DECODE_KEY, &info);
    CHECK(known_status(rc) && (rc == TB_OK) == (info != NULL));
    if (info != NULL) {
        check_info(info);
        tb_tls_cert_info_free(info);
    }
    for (int pem = 0; pem <= 1; pem++) {
        tb_tls_buf *buf = NULL;
        rc = tb_tls_cert_dump(cert, pem, &buf);
        CHECK(known_status(rc) && (rc == TB_OK) == (buf != NULL));
        if (buf == NULL)
            continue;
        X509 *again = NULL;
        rc = tb_tls_cert_load(buf->data, buf->len, pem, &again);
        CHECK(known_status(rc));
        if (again != NULL) {
            CHECK(X509_cmp(cert, again) == 0);
            X509_free(again);
        }
        tb_tls_buf_free(buf);
    }
    tb_tls_x509_list *chain = NULL;
    int error = 0, depth = 0;
    rc = tb_tls_verify_chain(store, cert, NULL, 0, "localhost", 0, 0, &chain, &error, &depth);
    CHECK(known_status(rc) && (rc == TB_OK) == (chain != NULL));
    tb_tls_x509_list_free(chain);
}

static void exercise_key(EVP_PKEY *key)
{
    tb_tls_buf *buf = NULL;
    int rc = tb_tls_pkey_public_pem(key, &buf);
    CHECK(known_status(rc) && (rc == TB_OK) == (buf != NULL));
    tb_tls_buf_free(buf);
    buf = NULL;
    rc = tb_tls_pkey_dump(key, 0, NULL, NULL, &buf);
    CHECK(known_status(rc) && (rc == TB_OK) == (buf != NULL));
    tb_tls_buf_free(buf);
}

/* A CRL from tb_tls_crl_load: the decode inside its arrays, every dump, the DER read back
   as the same CRL, and a CRL-checked verification of the start-up certificate. */
static void exercise_crl(X509_CRL *crl)
{
    tb_tls_crl_info *info = NULL;
    int rc = tb_tls_crl_decode(crl, &info);
    CHECK(known_status(rc) && (rc == TB_OK) == (info != NULL));
    if (info != NULL) {
        CHECK(info->issuer != NULL && info->signature_algorithm != NULL);
        CHECK(info->count == 0 || (info->serials != NULL && info->serials_len > 0 &&
                                   info->serials[info->serials_len - 1] == '\0'));
        size_t texts = 0;
        for (size_t i = 0; i < info->serials_len; i++)
            texts += info->serials[i] == '\0';
        CHECK(texts == info->count);
        for (size_t i = 0; i < info->count; i++)
            CHECK(info->reasons[i] >= -2);
        tb_tls_crl_info_free(info);
    }
    for (int format = TB_TLS_FORMAT_PEM; format <= TB_TLS_FORMAT_TEXT; format++) {
        tb_tls_buf *buf = NULL;
        rc = tb_tls_crl_dump(crl, format, &buf);
        CHECK(known_status(rc) && (rc == TB_OK) == (buf != NULL));
        if (buf != NULL && format == TB_TLS_FORMAT_DER) {
            X509_CRL *again = NULL;
            rc = tb_tls_crl_load(buf->data, buf->len, TB_TLS_FORMAT_DER, &again);
            CHECK(rc == TB_OK && X509_CRL_cmp(crl, again) == 0);
            X509_CRL_free(again);
        }
        tb_tls_buf_free(buf);
    }
    X509_STORE *trusting = NULL;
    CHECK(tb_tls_store_new(&trusting) == TB_OK);
    CHECK(tb_tls_store_add_cert(trusting, self_signed) == TB_OK);
    tb_tls_x509_list *chain = NULL;
    tb_tls_verify_failure failure;
    rc = tb_tls_store_verify(trusting, self_signed, NULL, 0, &crl, 1,
                             X509_V_FLAG_CRL_CHECK | X509_V_FLAG_CRL_CHECK_ALL, NULL, 0, 0,
                             &chain, &failure);
    CHECK(known_status(rc) && (rc == TB_OK) == (chain != NULL));
    CHECK(rc == TB_TLS_E_VERIFY || failure.cert == NULL);
    tb_tls_x509_list_free(chain);
    X509_free(failure.cert);
    X509_STORE_free(trusting);
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    CHECK(tb_tls_init() == TB_OK);
    CHECK((store = X509_STORE_new()) != NULL);
    self_signed = make_self_signed();
    tb_tls_buf *request = NULL;
    CHECK(tb_tls_ocsp_request(self_signed, self_signed, &request) == TB_OK && request != NULL);
    tb_tls_buf_free(request);
    return 0;
}

static void exercise_request(X509_REQ *req)
{
    for (int format = TB_TLS_FORMAT_PEM; format <= TB_TLS_FORMAT_TEXT; format++) {
        tb_tls_buf *buf = NULL;
        int rc = tb_tls_req_dump(req, format, &buf);
        CHECK(known_status(rc) && (rc == TB_OK) == (buf != NULL));
        if (buf == NULL || format == TB_TLS_FORMAT_TEXT) {
            tb_tls_buf_free(buf);
            continue;
        }
        X509_REQ *again = NULL;
        rc = tb_tls_req_load(buf->data, buf->len, format == TB_TLS_FORMAT_PEM, &again);
        CHECK(known_status(rc));
        X509_REQ_free(again);
        tb_tls_buf_free(buf);
    }
    tb_tls_ext_list *list = NULL;
    int rc = tb_tls_req_extensions(req, &list);
    CHECK(known_status(rc) && (rc == TB_OK) == (list != NULL));
    if (list != NULL) {
        for (size_t i = 0; i < list->count; i++)
            CHECK(list->extensions[i] != NULL);
        tb_tls_ext_list_free(list);
    }
    EVP_PKEY *key = NULL;
    rc = tb_tls_req_public_key(req, &key);
    CHECK(known_status(rc) && (rc == TB_OK) == (key != NULL));
    if (key != NULL) {
        CHECK(known_status(tb_tls_req_verify(req, key)));
        EVP_PKEY_free(key);
    }
    CHECK(tb_tls_req_subject(req) != NULL);
}

static void exercise_spki(NETSCAPE_SPKI *spki)
{
    tb_tls_buf *buf = NULL;
    int rc = tb_tls_spki_encode(spki, &buf);
    CHECK(known_status(rc) && (rc == TB_OK) == (buf != NULL));
    tb_tls_buf_free(buf);
    EVP_PKEY *key = NULL;
    rc = tb_tls_spki_public_key(spki, &key);
    CHECK(known_status(rc) && (rc == TB_OK) == (key != NULL));
    if (key != NULL) {
        CHECK(known_status(tb_tls_spki_verify(spki, key)));
        EVP_PKEY_free(key);
    }
}

static void fuzz_requests(int target, int pem, const unsigned char *file, size_t len)
{
    int rc;
    if (target == 9) {
        X509_REQ *req = NULL;
        rc = tb_tls_req_load(file, len, pem, &req);
        CHECK(known_status(rc) && (rc == TB_OK) == (req != NULL));
        if (req != NULL) {
            exercise_request(req);
            X509_REQ_free(req);
        }
    } else if (target == 10) {
        NETSCAPE_SPKI *spki = NULL;
        rc = tb_tls_spki_decode((const char *)file, len, &spki);
        CHECK(known_status(rc) && (rc == TB_OK) == (spki != NULL));
        if (spki != NULL) {
            exercise_spki(spki);
            NETSCAPE_SPKI_free(spki);
        }
    } else {
        PKCS7 *p7 = NULL;
        rc = tb_tls_p7_load(file, len, pem, &p7);
        CHECK(known_status(rc) && (rc == TB_OK) == (p7 != NULL));
        if (p7 != NULL) {
            CHECK(tb_tls_p7_type(p7) >= NID_undef);
            PKCS7_free(p7);
        }
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 2)
        return 0;
    int target = (data[0] & 0x7f) % 13;
    int allow_no_mac = data[0] >> 7;
    const char *password = passwords[data[1] % (sizeof(passwords) / sizeof(passwords[0]))];
    const unsigned char *file = data + 2;
    size_t len = size - 2;
    int rc;

    if (target >= 9 && target <= 11) {
        fuzz_requests(target, data[1] & 1, file, len);
    } else if (target == 0) {
        tb_tls_p12 *p12 = NULL;
        rc = tb_tls_p12_parse(file, len, password, allow_no_mac ? TB_TLS_P12_ALLOW_NO_MAC : 0,
                              &p12);
        CHECK(known_status(rc) && (rc == TB_OK) == (p12 != NULL));
        if (p12 != NULL) {
            CHECK(p12->main_index >= -1 && p12->main_index < (long)p12->count);
            CHECK(p12->count == 0 || (p12->certs != NULL && p12->names != NULL));
            for (size_t i = 0; i < p12->count; i++)
                exercise_cert(p12->certs[i]);
            if (p12->key != NULL)
                exercise_key(p12->key);
            tb_tls_p12_free(p12);
        }
    } else if (target == 1 || target == 2) {
        X509 *cert = NULL;
        rc = tb_tls_cert_load(file, len, target == 2, &cert);
        CHECK(known_status(rc) && (rc == TB_OK) == (cert != NULL));
        if (cert != NULL) {
            exercise_cert(cert);
            X509_free(cert);
        }
    } else if (target == 3 || target == 6) {
        tb_tls_x509_list *list = NULL;
        rc = target == 3 ? tb_tls_pem_read_certs(file, len, &list)
                         : tb_tls_p7_certs(file, len, &list);
        CHECK(known_status(rc) && (rc == TB_OK) == (list != NULL));
        if (list != NULL) {
            CHECK(list->count > 0);
            for (size_t i = 0; i < list->count; i++)
                exercise_cert(list->certs[i]);
            tb_tls_x509_list_free(list);
        }
    } else if (target == 7 || target == 8) {
        tb_tls_revocation out;
        X509 *chain[1] = {self_signed};
        rc = target == 7 ? tb_tls_ocsp_check(file, len, self_signed, self_signed, chain, 1, store,
                                             0, data[1] & 1, &out)
                         : tb_tls_crl_check(file, len, self_signed, self_signed, &out);
        check_revocation(rc, &out);
        CHECK(tb_tls_must_staple(self_signed) == 0);
    } else if (target == 12) {
        X509_CRL *crl = NULL;
        rc = tb_tls_crl_load(file, len, data[1] & 1 ? TB_TLS_FORMAT_DER : TB_TLS_FORMAT_PEM,
                             &crl);
        CHECK(known_status(rc) && (rc == TB_OK) == (crl != NULL));
        if (crl != NULL) {
            exercise_crl(crl);
            X509_CRL_free(crl);
        }
    } else {
        EVP_PKEY *key = NULL;
        rc = tb_tls_pkey_load(file, len, target == 4, password, &key);
        CHECK(known_status(rc) && (rc == TB_OK) == (key != NULL));
        if (key != NULL) {
            exercise_key(key);
            EVP_PKEY_free(key);
        }
    }
    ERR_clear_error();
    return 0;
}
