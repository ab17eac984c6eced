/*
 * tls.c: the OpenSSL 3 shim behind tightbind.tls (see tls.h for the contract): set-up,
 * providers, the error queue, and the buffers and certificate lists every feature's
 * file (tls_x509.c, tls_pkcs12.c, tls_verify.c, tls_conn.c) returns.
 *
 * Functions return TB_OK or a negative TB_E_* / TB_TLS_E_* code and leave OpenSSL's
 * reasons on the thread's error queue; tightbind.tls drains it (tb_tls_drain_errors) into
 * the exception it raises, so nothing stale survives into the next call.
 */
#include <limits.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>

#include "tls_internal.h"

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

unsigned long tb_tls_next_error(const char **lib, const char **reason, const char **data)
{
    const char *file, *func;
    int line, flags;
    unsigned long code = ERR_get_error_all(&file, &line, &func, data, &flags);
    if (code == 0)
        return 0;
    *lib = ERR_lib_error_string(code);
    *reason = ERR_reason_error_string(code);
    if (!(flags & ERR_TXT_STRING) || *data == NULL)
        *data = "";
    return code;
}

size_t tb_tls_drain_errors(char *out, size_t cap)
{
    const char *lib, *reason, *data;
    unsigned long code;
    size_t count = 0, used = 0;

    if (cap > 0)
        out[0] = '\0';
    while ((code = tb_tls_next_error(&lib, &reason, &data)) != 0) {
        char reason_buf[32];
        count++;
        if (cap == 0 || used + 1 >= cap)
            continue;
        if (reason == NULL) {
            snprintf(reason_buf, sizeof(reason_buf), "error %#lx", code);
            reason = reason_buf;
        }
        /* lib US reason US data RS: separators no OpenSSL string contains. */
        int n = snprintf(out + used, cap - used, "%s\x1f%s\x1f%s\x1e", lib ? lib : "",
                         reason, data);
        if (n > 0 && (size_t)n < cap - used)
            used += (size_t)n;
        else
            out[used] = '\0'; /* a record that does not fit is left out whole */
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

int tb_tls_queue_is_unsupported(void)
{
    return code_is_unsupported(ERR_peek_error()) || code_is_unsupported(ERR_peek_last_error());
}

int tb_tls_queue_is_wrong_key(void)
{
    unsigned long code = ERR_peek_last_error();
    return ERR_GET_LIB(code) == ERR_LIB_PKCS12 && ERR_GET_REASON(code) == PKCS12_R_DECODE_ERROR;
}

/* ---------------------------------------------------------------- buffers, lists */

void tb_tls_buf_free(tb_tls_buf *buf)
{
    if (buf == NULL)
        return;
    OPENSSL_free(buf->data);
    OPENSSL_free(buf);
}

int tb_tls_buf_from_bytes(const void *data, size_t len, tb_tls_buf **out)
{
    tb_tls_buf *buf = OPENSSL_zalloc(sizeof(*buf));
    if (buf == NULL)
        return TB_E_NOMEM;
    buf->data = OPENSSL_malloc(len > 0 ? len : 1);
    if (buf->data == NULL) {
        OPENSSL_free(buf);
        return TB_E_NOMEM;
    }
    if (len > 0)
        memcpy(buf->data, data, len);
    buf->len = len;
    *out = buf;
    return TB_OK;
}

int tb_tls_buf_from_bio(BIO *bio, tb_tls_buf **out)
{
    char *data = NULL;
    long len = BIO_get_mem_data(bio, &data);
    if (len < 0)
        return TB_TLS_E_OPENSSL;
    return tb_tls_buf_from_bytes(data, (size_t)len, out);
}

void tb_tls_x509_list_free(tb_tls_x509_list *list)
{
    if (list == NULL)
        return;
    for (size_t i = 0; i < list->count; i++)
        X509_free(list->certs[i]);
    OPENSSL_free(list->certs);
    OPENSSL_free(list);
}

int tb_tls_list_push(tb_tls_x509_list *list, size_t *cap, X509 *cert)
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

int tb_tls_list_from_stack(const STACK_OF(X509) *sk, tb_tls_x509_list **out)
{
    tb_tls_x509_list *list = OPENSSL_zalloc(sizeof(*list));
    size_t cap = 0;
    if (list == NULL)
        return TB_E_NOMEM;
    for (int i = 0; sk != NULL && i < sk_X509_num(sk); i++) {
        X509 *cert = sk_X509_value(sk, i);
        if (!X509_up_ref(cert) || tb_tls_list_push(list, &cap, cert) != TB_OK) {
            tb_tls_x509_list_free(list);
            return TB_E_NOMEM;
        }
    }
    *out = list;
    return TB_OK;
}

BIO *tb_tls_bio_for(const unsigned char *data, size_t len)
{
    if (len > TB_TLS_MAX_INPUT)
        return NULL;
    return BIO_new_mem_buf(data, (int)len);
}

int tb_tls_password_cb(char *buf, int size, int rwflag, void *u)
{
    tb_tls_password_source *source = u;
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
