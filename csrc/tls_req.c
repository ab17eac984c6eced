/*
 * tls_req.c: certificate signing requests (PKCS#10), Netscape SPKI, the type of a PKCS#7
 * structure, and signatures over raw data, for tightbind/tls/request.py and
 * tightbind/tls/signing.py (and through them the pyOpenSSL face's X509Req, NetscapeSPKI,
 * PKCS7, sign and verify).
 *
 * A request's subject is edited in place (the X509_NAME the request owns), as a
 * certificate's is in tls_crypto_x509.c, so a view of it stays valid for the request's
 * lifetime.  Extensions live in one extensionRequest attribute: adding more merges them
 * into it instead of adding a second attribute that X509_REQ_get_extensions() would not
 * read.  A call that fails leaves its object as it was.
 */
#include <limits.h>
#include <string.h>

#include "tls_internal.h"

/* ---------------------------------------------------------------- requests */

int tb_tls_req_new(X509_REQ **out)
{
    ERR_clear_error();
    X509_REQ *req = X509_REQ_new();
    if (req == NULL)
        return TB_E_NOMEM;
    /* v1 (0) is the only version PKCS#10 defines; OpenSSL 3.0 leaves it unset. */
    if (!X509_REQ_set_version(req, 0)) {
        X509_REQ_free(req);
        return TB_E_NOMEM;
    }
    *out = req;
    return TB_OK;
}

int tb_tls_req_load(const unsigned char *data, size_t len, int pem, X509_REQ **out)
{
    ERR_clear_error();
    if (len > TB_TLS_MAX_INPUT)
        return TB_TLS_E_TOO_LARGE;
    int rc = tb_tls_init();
    if (rc != TB_OK)
        return rc;
    BIO *bio = tb_tls_bio_for(data, len);
    if (bio == NULL)
        return TB_E_NOMEM;
    X509_REQ *req = pem ? PEM_read_bio_X509_REQ(bio, NULL, NULL, NULL)
                        : d2i_X509_REQ_bio(bio, NULL);
    BIO_free(bio);
    if (req == NULL)
        return TB_TLS_E_DECODE;
    *out = req;
    return TB_OK;
}

int tb_tls_req_dump(X509_REQ *req, int format, tb_tls_buf **out)
{
    ERR_clear_error();
    BIO *bio = BIO_new(BIO_s_mem());
    if (bio == NULL)
        return TB_E_NOMEM;
    int ok;
    if (format == TB_TLS_FORMAT_PEM)
        ok = PEM_write_bio_X509_REQ(bio, req);
    else if (format == TB_TLS_FORMAT_DER)
        ok = i2d_X509_REQ_bio(bio, req);
    else if (format == TB_TLS_FORMAT_TEXT)
        ok = X509_REQ_print_ex(bio, req, 0, 0);
    else
        ok = -1;
    int rc = ok < 0 ? TB_E_ARG : ok ? tb_tls_buf_from_bio(bio, out) : TB_TLS_E_OPENSSL;
    BIO_free(bio);
    return rc;
}

X509_NAME *tb_tls_req_subject(X509_REQ *req)
{
    return X509_REQ_get_subject_name(req);
}

int tb_tls_req_set_public_key(X509_REQ *req, EVP_PKEY *key)
{
    ERR_clear_error();
    return X509_REQ_set_pubkey(req, key) ? TB_OK : TB_TLS_E_NO_KEY;
}

int tb_tls_req_public_key(X509_REQ *req, EVP_PKEY **out)
{
    ERR_clear_error();
    EVP_PKEY *key = X509_REQ_get_pubkey(req);
    if (key == NULL)
        return TB_TLS_E_NO_KEY;
    *out = key;
    return TB_OK;
}

int tb_tls_req_sign(X509_REQ *req, EVP_PKEY *key, const char *digest)
{
    ERR_clear_error();
    const EVP_MD *md = EVP_get_digestbyname(digest);
    if (md == NULL)
        return TB_E_ARG;
    return X509_REQ_sign(req, key, md) > 0 ? TB_OK : TB_TLS_E_OPENSSL;
}

int tb_tls_req_verify(X509_REQ *req, EVP_PKEY *key)
{
    ERR_clear_error();
    /* -1 is also "not this key" (another key type): the queue says which. */
    return X509_REQ_verify(req, key) > 0 ? TB_OK : TB_TLS_E_SIGNATURE;
}

void tb_tls_ext_list_free(tb_tls_ext_list *list)
{
    if (list == NULL)
        return;
    for (size_t i = 0; i < list->count; i++)
        X509_EXTENSION_free(list->extensions[i]);
    OPENSSL_free(list->extensions);
    OPENSSL_free(list);
}

int tb_tls_req_extensions(X509_REQ *req, tb_tls_ext_list **out)
{
    ERR_clear_error();
    tb_tls_ext_list *list = OPENSSL_zalloc(sizeof(*list));
    if (list == NULL)
        return TB_E_NOMEM;
    /* NULL both when there are none and when the attribute does not decode. */
    STACK_OF(X509_EXTENSION) *sk = X509_REQ_get_extensions(req);
    int n = sk != NULL ? sk_X509_EXTENSION_num(sk) : 0;
    if (n > 0) {
        list->extensions = OPENSSL_malloc((size_t)n * sizeof(X509_EXTENSION *));
        if (list->extensions == NULL) {
            sk_X509_EXTENSION_pop_free(sk, X509_EXTENSION_free);
            OPENSSL_free(list);
            return TB_E_NOMEM;
        }
        for (int i = 0; i < n; i++) /* the list takes the stack's references */
            list->extensions[list->count++] = sk_X509_EXTENSION_value(sk, i);
    }
    sk_X509_EXTENSION_free(sk);
    *out = list;
    return TB_OK;
}

/* Replace every extensionRequest attribute of req with one holding old + added. */
int tb_tls_req_add_extensions(X509_REQ *req, X509_EXTENSION **extensions, size_t count)
{
    ERR_clear_error();
    if (count > INT_MAX)
        return TB_E_ARG;
    STACK_OF(X509_EXTENSION) *sk = X509_REQ_get_extensions(req);
    if (sk == NULL && (sk = sk_X509_EXTENSION_new_null()) == NULL)
        return TB_E_NOMEM;
    int rc = TB_OK;
    for (size_t i = 0; i < count && rc == TB_OK; i++) {
        X509_EXTENSION *copy = X509_EXTENSION_dup(extensions[i]);
        if (copy == NULL || !sk_X509_EXTENSION_push(sk, copy)) {
            X509_EXTENSION_free(copy);
            rc = TB_E_NOMEM;
        }
    }
    /* Build the new request's attribute on a copy, so that a failure changes nothing. */
    X509_REQ *scratch = rc == TB_OK ? X509_REQ_new() : NULL;
    if (rc == TB_OK && (scratch == NULL || !X509_REQ_add_extensions(scratch, sk)))
        rc = TB_TLS_E_OPENSSL;
    if (rc == TB_OK) {
        int at = X509_REQ_get_attr_by_NID(scratch, NID_ext_req, -1);
        X509_ATTRIBUTE *attr = X509_REQ_delete_attr(scratch, at);
        int old;
        while ((old = X509_REQ_get_attr_by_NID(req, NID_ext_req, -1)) >= 0)
            X509_ATTRIBUTE_free(X509_REQ_delete_attr(req, old));
        if (attr == NULL || !X509_REQ_add1_attr(req, attr))
            rc = TB_TLS_E_OPENSSL;
        X509_ATTRIBUTE_free(attr);
    }
    X509_REQ_free(scratch);
    sk_X509_EXTENSION_pop_free(sk, X509_EXTENSION_free);
    return rc;
}

/* ---------------------------------------------------------------- Netscape SPKI */

int tb_tls_spki_new(NETSCAPE_SPKI **out)
{
    ERR_clear_error();
    NETSCAPE_SPKI *spki = NETSCAPE_SPKI_new();
    if (spki == NULL)
        return TB_E_NOMEM;
    *out = spki;
    return TB_OK;
}

int tb_tls_spki_decode(const char *b64, size_t len, NETSCAPE_SPKI **out)
{
    ERR_clear_error();
    if (len > INT_MAX)
        return TB_TLS_E_TOO_LARGE;
    /* OpenSSL takes a length of 0 to mean "NUL-terminated" and calls strlen(), which
     * would read past a caller's buffer: nothing to decode is a decode error here. */
    if (len == 0)
        return TB_TLS_E_DECODE;
    NETSCAPE_SPKI *spki = NETSCAPE_SPKI_b64_decode(b64, (int)len);
    if (spki == NULL)
        return TB_TLS_E_DECODE;
    *out = spki;
    return TB_OK;
}

int tb_tls_spki_encode(NETSCAPE_SPKI *spki, tb_tls_buf **out)
{
    ERR_clear_error();
    char *text = NETSCAPE_SPKI_b64_encode(spki);
    if (text == NULL)
        return TB_TLS_E_OPENSSL;
    int rc = tb_tls_buf_from_bytes(text, strlen(text), out);
    OPENSSL_free(text);
    return rc;
}

int tb_tls_spki_sign(NETSCAPE_SPKI *spki, EVP_PKEY *key, const char *digest)
{
    ERR_clear_error();
    const EVP_MD *md = EVP_get_digestbyname(digest);
    if (md == NULL)
        return TB_E_ARG;
    return NETSCAPE_SPKI_sign(spki, key, md) > 0 ? TB_OK : TB_TLS_E_OPENSSL;
}

int tb_tls_spki_verify(NETSCAPE_SPKI *spki, EVP_PKEY *key)
{
    ERR_clear_error();
    return NETSCAPE_SPKI_verify(spki, key) > 0 ? TB_OK : TB_TLS_E_SIGNATURE;
}

int tb_tls_spki_public_key(NETSCAPE_SPKI *spki, EVP_PKEY **out)
{
    ERR_clear_error();
    EVP_PKEY *key = NETSCAPE_SPKI_get_pubkey(spki);
    if (key == NULL)
        return TB_TLS_E_NO_KEY;
    *out = key;
    return TB_OK;
}

int tb_tls_spki_set_public_key(NETSCAPE_SPKI *spki, EVP_PKEY *key)
{
    ERR_clear_error();
    return NETSCAPE_SPKI_set_pubkey(spki, key) ? TB_OK : TB_TLS_E_NO_KEY;
}

/* ---------------------------------------------------------------- PKCS#7 */

int tb_tls_p7_load(const unsigned char *data, size_t len, int pem, PKCS7 **out)
{
    ERR_clear_error();
    if (len > TB_TLS_MAX_INPUT)
        return TB_TLS_E_TOO_LARGE;
    int rc = tb_tls_init();
    if (rc != TB_OK)
        return rc;
    BIO *bio = tb_tls_bio_for(data, len);
    if (bio == NULL)
        return TB_E_NOMEM;
    PKCS7 *p7 = pem ? PEM_read_bio_PKCS7(bio, NULL, NULL, NULL) : d2i_PKCS7_bio(bio, NULL);
    BIO_free(bio);
    if (p7 == NULL)
        return TB_TLS_E_DECODE;
    *out = p7;
    return TB_OK;
}

int tb_tls_p7_type(const PKCS7 *p7)
{
    return OBJ_obj2nid(p7->type);
}

/* ---------------------------------------------------------------- raw signatures */

int tb_tls_sign_data(EVP_PKEY *key, const char *digest, const unsigned char *data,
                     size_t len, tb_tls_buf **out)
{
    ERR_clear_error();
    const EVP_MD *md = EVP_get_digestbyname(digest);
    if (md == NULL)
        return TB_E_ARG;
    EVP_MD_CTX *ctx = EVP_MD_CTX_new();
    if (ctx == NULL)
        return TB_E_NOMEM;
    int rc = TB_TLS_E_OPENSSL;
    size_t sig_len = 0;
    unsigned char *sig = NULL;
    if (EVP_DigestSignInit(ctx, NULL, md, NULL, key) > 0
            && EVP_DigestSignUpdate(ctx, data, len) > 0
            && EVP_DigestSignFinal(ctx, NULL, &sig_len) > 0) {
        sig = OPENSSL_malloc(sig_len > 0 ? sig_len : 1);
        if (sig == NULL)
            rc = TB_E_NOMEM;
        else if (EVP_DigestSignFinal(ctx, sig, &sig_len) > 0)
            rc = tb_tls_buf_from_bytes(sig, sig_len, out);
    }
    OPENSSL_free(sig);
    EVP_MD_CTX_free(ctx);
    return rc;
}

int tb_tls_verify_data(EVP_PKEY *key, const char *digest, const unsigned char *signature,
                       size_t signature_len, const unsigned char *data, size_t len)
{
    ERR_clear_error();
    const EVP_MD *md = EVP_get_digestbyname(digest);
    if (md == NULL)
        return TB_E_ARG;
    EVP_MD_CTX *ctx = EVP_MD_CTX_new();
    if (ctx == NULL)
        return TB_E_NOMEM;
    int rc = TB_TLS_E_OPENSSL;
    if (EVP_DigestVerifyInit(ctx, NULL, md, NULL, key) > 0
            && EVP_DigestVerifyUpdate(ctx, data, len) > 0) {
        int ok = EVP_DigestVerifyFinal(ctx, signature, signature_len);
        /* A malformed signature is a negative answer from some keys: still a mismatch. */
        rc = ok > 0 ? TB_OK : TB_TLS_E_SIGNATURE;
    }
    EVP_MD_CTX_free(ctx);
    return rc;
}
