/*
 * tls_conn.c: the TLS client for tightbind/tls/connection.py, driven one non-blocking
 * step at a time: the caller waits on the socket between steps (so signals and timeouts
 * stay in Python) and reads the peer's chains after the handshake.
 *
 * A step is bounded work, whatever the peer sends: the SSL reads and writes its socket
 * through a filter BIO (the "step budget") that allows TB_TLS_STEP_READS socket reads
 * and TB_TLS_STEP_WRITES socket writes per step and then answers "retry", so OpenSSL
 * returns WANT_READ/WANT_WRITE and the caller checks its deadline.  Without it a peer
 * that keeps the socket full of records OpenSSL skips (HelloRequests during the
 * handshake, session tickets after it) keeps one SSL_do_handshake/SSL_read call inside
 * OpenSSL for as long as it sends.
 */
#include <errno.h>
#include <string.h>
#include <pthread.h>

#include "tls_internal.h"

/* Socket reads and writes one step may make: each reads a record header or body (at
   most 16 KiB + 256 bytes) or writes a record, so a step is well under a millisecond of
   work; a caller loops over steps until its deadline. */
#define TB_TLS_STEP_READS 64
#define TB_TLS_STEP_WRITES 64
#define BUDGET_CTRL_RESET 0x7462 /* private ctrl: refill the budget */

typedef struct {
    int reads;
    int writes;
} step_budget;

static int budget_create(BIO *bio)
{
    step_budget *budget = OPENSSL_zalloc(sizeof(*budget));
    if (budget == NULL)
        return 0;
    budget->reads = TB_TLS_STEP_READS;
    budget->writes = TB_TLS_STEP_WRITES;
    BIO_set_data(bio, budget);
    BIO_set_init(bio, 1);
    return 1;
}

static int budget_destroy(BIO *bio)
{
    OPENSSL_free(BIO_get_data(bio));
    BIO_set_data(bio, NULL);
    BIO_set_init(bio, 0);
    return 1;
}

static int budget_read(BIO *bio, char *buf, size_t len, size_t *done)
{
    step_budget *budget = BIO_get_data(bio);
    BIO *next = BIO_next(bio);
    BIO_clear_retry_flags(bio);
    *done = 0;
    if (next == NULL)
        return 0;
    if (budget->reads <= 0) {
        BIO_set_retry_read(bio); /* the step is over: the caller waits and steps again */
        return 0;
    }
    budget->reads--;
    int ok = BIO_read_ex(next, buf, len, done);
    BIO_copy_next_retry(bio);
    return ok;
}

static int budget_write(BIO *bio, const char *buf, size_t len, size_t *done)
{
    step_budget *budget = BIO_get_data(bio);
    BIO *next = BIO_next(bio);
    BIO_clear_retry_flags(bio);
    *done = 0;
    if (next == NULL)
        return 0;
    if (budget->writes <= 0) {
        BIO_set_retry_write(bio);
        return 0;
    }
    budget->writes--;
    int ok = BIO_write_ex(next, buf, len, done);
    BIO_copy_next_retry(bio);
    return ok;
}

static long budget_ctrl(BIO *bio, int cmd, long num, void *ptr)
{
    step_budget *budget = BIO_get_data(bio);
    if (cmd == BUDGET_CTRL_RESET) {
        budget->reads = TB_TLS_STEP_READS;
        budget->writes = TB_TLS_STEP_WRITES;
        return 1;
    }
    BIO *next = BIO_next(bio);
    return next == NULL ? 0 : BIO_ctrl(next, cmd, num, ptr);
}

static long budget_callback_ctrl(BIO *bio, int cmd, BIO_info_cb *fp)
{
    BIO *next = BIO_next(bio);
    return next == NULL ? 0 : BIO_callback_ctrl(next, cmd, fp);
}

static pthread_once_t budget_once = PTHREAD_ONCE_INIT;
static BIO_METHOD *budget_method;

static void budget_method_init(void)
{
    BIO_METHOD *method = BIO_meth_new(BIO_get_new_index() | BIO_TYPE_FILTER,
                                      "tightbind step budget");
    if (method == NULL)
        return;
    if (!BIO_meth_set_create(method, budget_create) ||
        !BIO_meth_set_destroy(method, budget_destroy) ||
        !BIO_meth_set_read_ex(method, budget_read) ||
        !BIO_meth_set_write_ex(method, budget_write) ||
        !BIO_meth_set_ctrl(method, budget_ctrl) ||
        !BIO_meth_set_callback_ctrl(method, budget_callback_ctrl)) {
        BIO_meth_free(method);
        return;
    }
    budget_method = method;
}

/* The socket BIO for fd behind a step budget, owned by ssl from here on. */
static int attach_budgeted_socket(SSL *ssl, int fd)
{
    pthread_once(&budget_once, budget_method_init);
    if (budget_method == NULL)
        return TB_E_NOMEM;
    BIO *filter = BIO_new(budget_method);
    BIO *sock = BIO_new_socket(fd, BIO_NOCLOSE);
    if (filter == NULL || sock == NULL) {
        BIO_free(filter);
        BIO_free(sock);
        return TB_E_NOMEM;
    }
    BIO_push(filter, sock);
    SSL_set_bio(ssl, filter, filter); /* one reference serves both directions */
    return TB_OK;
}

int tb_tls_conn_new(SSL_CTX *ctx, int fd, const char *sni, const char *check_host, SSL **out)
{
    ERR_clear_error();
    SSL *ssl = SSL_new(ctx);
    if (ssl == NULL)
        return TB_E_NOMEM;
    int rc = attach_budgeted_socket(ssl, fd);
    if (rc == TB_OK && sni != NULL && !tb_tls_is_ip_literal(sni) &&
        !SSL_set_tlsext_host_name(ssl, sni))
        rc = TB_E_ARG;
    else if (rc == TB_OK && check_host != NULL &&
             !tb_tls_set_expected_host(SSL_get0_param(ssl), check_host))
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
    BIO_ctrl(SSL_get_rbio(ssl), BUDGET_CTRL_RESET, 0, NULL);
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

int tb_tls_conn_request_ocsp(SSL *ssl)
{
    ERR_clear_error();
    return SSL_set_tlsext_status_type(ssl, TLSEXT_STATUSTYPE_ocsp) == 1 ? TB_OK
                                                                          : TB_TLS_E_OPENSSL;
}

int tb_tls_conn_stapled_ocsp(SSL *ssl, tb_tls_buf **out)
{
    const unsigned char *der = NULL;
    long len = SSL_get_tlsext_status_ocsp_resp(ssl, &der);
    if (len < 0 || der == NULL)
        return TB_TLS_ABSENT;
    return tb_tls_buf_from_bytes(der, (size_t)len, out);
}
