/*
 * tls_conn.c: the TLS client for tightbind/tls/connection.py, driven one non-blocking
 * step at a time: the caller waits on the socket between steps (so signals and timeouts
 * stay in Python) and reads the peer's chains after the handshake.
 */
#include <errno.h>

#include "tls_internal.h"

int tb_tls_conn_new(SSL_CTX *ctx, int fd, const char *sni, const char *check_host, SSL **out)
{
    ERR_clear_error();
    SSL *ssl = SSL_new(ctx);
    int rc = TB_OK;
    if (ssl == NULL)
        return TB_E_NOMEM;
    if (!SSL_set_fd(ssl, fd))
        rc = TB_TLS_E_OPENSSL;
    else if (sni != NULL && !tb_tls_is_ip_literal(sni) && !SSL_set_tlsext_host_name(ssl, sni))
        rc = TB_E_ARG;
    else if (check_host != NULL && !tb_tls_set_expected_host(SSL_get0_param(ssl), check_host))
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

int tb_tls_peer_chains(SSL *ssl, tb_tls_x509_list **sent, tb_tls_x509_list **verified, long *result)
{
    *result = SSL_get_verify_result(ssl);
    int rc = tb_tls_list_from_stack(SSL_get_peer_cert_chain(ssl), sent);
    if (rc != TB_OK)
        return rc;
    STACK_OF(X509) *chain = *result == X509_V_OK ? SSL_get0_verified_chain(ssl) : NULL;
    rc = tb_tls_list_from_stack(chain, verified);
    if (rc != TB_OK) {
        tb_tls_x509_list_free(*sent);
        *sent = NULL;
    }
    return rc;
}
