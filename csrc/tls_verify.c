/*
 * tls_verify.c: trust and offline verification for tightbind/tls/verify.py: the client
 * context that holds the trusted certificates, chain verification against its store, and
 * the host name check the client (tls_conn.c) shares.
 */
#include <pthread.h>

#include "tls_internal.h"

/*
 * TLS 1.2 DHE lets the server choose the group, up to the 10000 bits OpenSSL allows, and
 * the client then raises a full-length exponent modulo it twice, inside one step: half a
 * second of CPU for 10000 bits, past any deadline's slack.  Larger groups than
 * TB_TLS_MAX_DH_BITS are refused like groups that are too small (TLS 1.3's named groups
 * use short exponents and are cheap at every size).
 */
#define TB_TLS_MAX_DH_BITS 4096

typedef int (*security_callback)(const SSL *, const SSL_CTX *, int, int, int, void *, void *);
static security_callback default_security; /* OpenSSL's own, which every context starts with */
static pthread_once_t default_security_once = PTHREAD_ONCE_INIT;

static void find_default_security(void)
{
    SSL_CTX *ctx = SSL_CTX_new(TLS_client_method());
    if (ctx != NULL)
        default_security = SSL_CTX_get_security_callback(ctx);
    SSL_CTX_free(ctx);
}

static int bounded_dh_security(const SSL *ssl, const SSL_CTX *ctx, int op, int bits, int nid,
                               void *other, void *ex)
{
    if (op == SSL_SECOP_TMP_DH && other != NULL &&
        EVP_PKEY_get_bits((const EVP_PKEY *)other) > TB_TLS_MAX_DH_BITS)
        return 0;
    return default_security(ssl, ctx, op, bits, nid, other, ex);
}

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
    pthread_once(&default_security_once, find_default_security);
    if (default_security != NULL)
        SSL_CTX_set_security_callback(ctx, bounded_dh_security);
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

/* Host names: an IP literal is checked against IP SANs, anything else as a DNS name. */
int tb_tls_is_ip_literal(const char *host)
{
    ERR_set_mark();
    ASN1_OCTET_STRING *ip = a2i_IPADDRESS(host);
    ERR_pop_to_mark();
    ASN1_OCTET_STRING_free(ip);
    return ip != NULL;
}

int tb_tls_set_expected_host(X509_VERIFY_PARAM *param, const char *host)
{
    if (tb_tls_is_ip_literal(host))
        return X509_VERIFY_PARAM_set1_ip_asc(param, host);
    return X509_VERIFY_PARAM_set1_host(param, host, 0);
}

int tb_tls_verify_chain(X509_STORE *store, X509 *leaf, X509 **intermediates, size_t count,
                        const char *hostname, int64_t at_time, int use_time,
                        tb_tls_x509_list **chain, int *error, int *depth)
{
    tb_tls_verify_failure failure;
    int rc = tb_tls_store_verify(store, leaf, intermediates, count, NULL, 0, 0, hostname,
                                 at_time, use_time, chain, &failure);
    *error = failure.error;
    *depth = failure.depth;
    X509_free(failure.cert);
    return rc;
}
