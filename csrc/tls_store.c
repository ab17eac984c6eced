/*
 * tls_store.c: trust stores for tightbind/tls/store.py (and the crypto face's X509Store
 * and X509StoreContext): an X509_STORE the caller fills with trusted certificates, CRLs
 * and settings (flags, depth and time, read by OpenSSL straight from the store's
 * X509_VERIFY_PARAM), and one verification call that builds a fresh X509_STORE_CTX from
 * it, so a store can be changed between verifications and serve several threads while
 * it is not being changed.
 */
#include <string.h>

#include "tls_internal.h"

int tb_tls_store_new(X509_STORE **out)
{
    ERR_clear_error();
    int rc = tb_tls_init();
    if (rc != TB_OK)
        return rc;
    X509_STORE *store = X509_STORE_new();
    if (store == NULL)
        return TB_E_NOMEM;
    *out = store;
    return TB_OK;
}

int tb_tls_store_add_cert(X509_STORE *store, X509 *cert)
{
    ERR_clear_error();
    /* OpenSSL 3 takes a certificate it holds already as success (a no-op). */
    return X509_STORE_add_cert(store, cert) == 1 ? TB_OK : TB_TLS_E_OPENSSL;
}

int tb_tls_store_add_crl(X509_STORE *store, X509_CRL *crl)
{
    ERR_clear_error();
    return X509_STORE_add_crl(store, crl) == 1 ? TB_OK : TB_TLS_E_OPENSSL;
}

int tb_tls_store_load(X509_STORE *store, const char *cafile, const char *capath)
{
    ERR_clear_error();
    if (cafile == NULL && capath == NULL)
        return TB_E_ARG;
    /* A file holding no certificate or CRL fails here ("no certificate or crl found");
       a folder is only read when a verification looks an issuer up in it. */
    return X509_STORE_load_locations(store, cafile, capath) == 1 ? TB_OK
                                                                 : TB_TLS_E_CA_LOCATIONS;
}

int tb_tls_store_set_time(X509_STORE *store, int64_t at_time, int use_time)
{
    ERR_clear_error();
    X509_VERIFY_PARAM *param = X509_STORE_get0_param(store);
    if (use_time)
        X509_VERIFY_PARAM_set_time(param, (time_t)at_time);
    else
        X509_VERIFY_PARAM_clear_flags(param, X509_V_FLAG_USE_CHECK_TIME);
    return TB_OK;
}

/* Stacks of the caller's pointers (no references taken); NULL on no memory. */
static STACK_OF(X509) *cert_stack(X509 **certs, size_t count)
{
    STACK_OF(X509) *sk = sk_X509_new_null();
    for (size_t i = 0; sk != NULL && i < count; i++) {
        if (!sk_X509_push(sk, certs[i])) {
            sk_X509_free(sk);
            return NULL;
        }
    }
    return sk;
}

static STACK_OF(X509_CRL) *crl_stack(X509_CRL **crls, size_t count)
{
    STACK_OF(X509_CRL) *sk = sk_X509_CRL_new_null();
    for (size_t i = 0; sk != NULL && i < count; i++) {
        if (!sk_X509_CRL_push(sk, crls[i])) {
            sk_X509_CRL_free(sk);
            return NULL;
        }
    }
    return sk;
}

int tb_tls_store_verify(X509_STORE *store, X509 *leaf, X509 **untrusted, size_t count,
                        X509_CRL **crls, size_t crl_count, unsigned long flags,
                        const char *hostname, int64_t at_time, int use_time,
                        tb_tls_x509_list **chain, tb_tls_verify_failure *failure)
{
    ERR_clear_error();
    X509_STORE_CTX *ctx = NULL;
    STACK_OF(X509) *certs = NULL;
    STACK_OF(X509_CRL) *crl_list = NULL;
    int rc = tb_tls_init();

    failure->error = X509_V_OK;
    failure->depth = -1;
    failure->cert = NULL;
    if (rc != TB_OK)
        return rc;
    if (store == NULL || leaf == NULL)
        return TB_E_ARG;
    if ((ctx = X509_STORE_CTX_new()) == NULL || (certs = cert_stack(untrusted, count)) == NULL ||
        (crl_count > 0 && (crl_list = crl_stack(crls, crl_count)) == NULL)) {
        rc = TB_E_NOMEM;
        goto done;
    }
    if (!X509_STORE_CTX_init(ctx, store, leaf, certs)) {
        rc = TB_TLS_E_OPENSSL;
        goto done;
    }
    if (crl_list != NULL)
        X509_STORE_CTX_set0_crls(ctx, crl_list); /* read, not owned, by ctx */
    X509_VERIFY_PARAM *param = X509_STORE_CTX_get0_param(ctx);
    if (flags != 0)
        X509_VERIFY_PARAM_set_flags(param, flags);
    if (use_time)
        X509_VERIFY_PARAM_set_time(param, (time_t)at_time);
    if (hostname != NULL && !tb_tls_set_expected_host(param, hostname)) {
        rc = TB_E_ARG;
        goto done;
    }
    int ok = X509_verify_cert(ctx);
    if (ok == 1) {
        rc = chain != NULL ? tb_tls_list_from_stack(X509_STORE_CTX_get0_chain(ctx), chain) : TB_OK;
    } else if (ok == 0 || X509_STORE_CTX_get_error(ctx) != X509_V_OK) {
        /* -1 with a verify code: OpenSSL gave up on a certificate it could not use (a
           public key that does not decode, say): a verify failure like any other.  The
           queue keeps what OpenSSL said. */
        failure->error = X509_STORE_CTX_get_error(ctx);
        failure->depth = X509_STORE_CTX_get_error_depth(ctx);
        X509 *at_fault = X509_STORE_CTX_get_current_cert(ctx);
        if (at_fault != NULL && X509_up_ref(at_fault))
            failure->cert = at_fault;
        rc = TB_TLS_E_VERIFY;
    } else {
        rc = TB_TLS_E_OPENSSL;
    }
done:
    X509_STORE_CTX_free(ctx);
    sk_X509_free(certs);
    sk_X509_CRL_free(crl_list);
    return rc;
}
