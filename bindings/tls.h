/* cffi declarations for tightbind._tls (see csrc/tls.h for the contract). */

typedef ... X509;
typedef ... EVP_PKEY;
typedef ... SSL;
typedef ... SSL_CTX;
typedef ... SSL_CIPHER;
typedef ... X509_STORE;

#define TB_TLS_E_NOMEM ...
#define TB_TLS_E_OPENSSL ...
#define TB_TLS_E_NOT_PKCS12 ...
#define TB_TLS_E_PASSWORD ...
#define TB_TLS_E_NO_MAC ...
#define TB_TLS_E_UNSUPPORTED ...
#define TB_TLS_E_NO_LEGACY ...
#define TB_TLS_E_DECODE ...
#define TB_TLS_E_NEED_PASSWORD ...
#define TB_TLS_E_ARGUMENT ...
#define TB_TLS_E_VERIFY ...
#define TB_TLS_E_CA_LOCATIONS ...
#define TB_TLS_E_SYSCALL ...
#define TB_TLS_E_PROTOCOL ...

#define TB_TLS_OP_HANDSHAKE ...
#define TB_TLS_OP_READ ...
#define TB_TLS_OP_WRITE ...
#define TB_TLS_OP_SHUTDOWN ...
#define TB_TLS_IO_DONE ...
#define TB_TLS_IO_WANT_READ ...
#define TB_TLS_IO_WANT_WRITE ...
#define TB_TLS_IO_EOF ...
#define TB_TLS_IO_RAGGED_EOF ...

#define TB_CERT_SUBJECT ...
#define TB_CERT_ISSUER ...
#define TB_CERT_SAN ...
#define TB_CERT_SAN_DIRNAME ...
#define TB_CERT_OCSP ...
#define TB_CERT_CA_ISSUERS ...
#define TB_CERT_CRL_DP ...

#define TB_P12_ALLOW_NO_MAC ...

#define X509_V_OK ...
#define X509_V_ERR_HOSTNAME_MISMATCH ...
#define X509_V_ERR_IP_ADDRESS_MISMATCH ...
#define OPENSSL_VERSION ...
#define OPENSSL_MODULES_DIR ...

typedef struct {
    int kind;
    int index;
    int rdn;
    size_t key_off, key_len;
    size_t short_off, short_len;
    size_t value_off, value_len;
    size_t raw_off, raw_len;
} tb_cert_item;

typedef struct {
    int version;
    int not_before_tm[6];
    int not_after_tm[6];
    int key_bits;
    size_t serial_off, serial_len;
    size_t not_before_off, not_before_len;
    size_t not_after_off, not_after_len;
    size_t sig_alg_off, sig_alg_len;
    size_t key_type_off, key_type_len;
    size_t key_group_off, key_group_len;
    tb_cert_item *items;
    size_t item_count, item_cap;
    char *strings;
    size_t strings_len, strings_cap;
} tb_cert_info;

typedef struct {
    X509 **certs;
    size_t count;
} tb_x509_list;

typedef struct {
    EVP_PKEY *key;
    X509 **certs;
    char **names;
    size_t count;
    long main_index;
    char *key_name;
    int has_mac;
} tb_p12;

typedef struct {
    unsigned char *data;
    size_t len;
} tb_buf;

/* OpenSSL, called directly. */
const char *OpenSSL_version(int type);
int X509_up_ref(X509 *cert);
void X509_free(X509 *cert);
int EVP_PKEY_up_ref(EVP_PKEY *key);
void EVP_PKEY_free(EVP_PKEY *key);
int EVP_PKEY_eq(const EVP_PKEY *a, const EVP_PKEY *b);
int EVP_PKEY_get_bits(const EVP_PKEY *key);
const char *EVP_PKEY_get0_type_name(const EVP_PKEY *key);
const char *X509_verify_cert_error_string(long code);
void ERR_clear_error(void);
void SSL_CTX_free(SSL_CTX *ctx);
X509_STORE *SSL_CTX_get_cert_store(const SSL_CTX *ctx);
const char *X509_get_default_cert_file(void);
const char *X509_get_default_cert_dir(void);
const char *X509_get_default_cert_file_env(void);
const char *X509_get_default_cert_dir_env(void);
void SSL_free(SSL *ssl);
const char *SSL_get_version(const SSL *ssl);
const SSL_CIPHER *SSL_get_current_cipher(const SSL *ssl);
const char *SSL_CIPHER_get_name(const SSL_CIPHER *cipher);
int SSL_CIPHER_get_bits(const SSL_CIPHER *cipher, int *alg_bits);
size_t SSL_pending(const SSL *ssl);

/* Our shim. */
int tb_tls_init(void);
int tb_tls_load_legacy(void);
int tb_tls_legacy_loaded(void);
size_t tb_tls_drain_errors(char *out, size_t cap, unsigned long *first_code);

void tb_buf_free(tb_buf *buf);
void tb_x509_list_free(tb_x509_list *list);
int tb_cert_decode(X509 *cert, tb_cert_info **out);
void tb_cert_info_free(tb_cert_info *info);
int tb_cert_load(const unsigned char *data, size_t len, int pem, X509 **out);
int tb_cert_dump(X509 *cert, int pem, tb_buf **out);
int tb_pem_read_certs(const unsigned char *data, size_t len, tb_x509_list **out);

int tb_pkey_load(const unsigned char *data, size_t len, int pem, const char *password,
                 EVP_PKEY **out);
int tb_pkey_dump(EVP_PKEY *key, int pem, const char *cipher, const char *password,
                 tb_buf **out);
int tb_pkey_public_pem(EVP_PKEY *key, tb_buf **out);

int tb_p12_parse(const unsigned char *data, size_t len, const char *password, int flags,
                 tb_p12 **out);
void tb_p12_free(tb_p12 *p12);
int tb_p12_create(EVP_PKEY *key, X509 *cert, X509 **cas, size_t ca_count,
                  const char *password, const char *name, int legacy, tb_buf **out);

int tb_verify_chain(X509_STORE *store, X509 *leaf, X509 **intermediates, size_t count,
                    const char *hostname, int64_t at_time, int use_time, tb_x509_list **chain,
                    int *error, int *depth);

int tb_tls_ctx_new(const char *cafile, const char *capath, SSL_CTX **out);
int tb_tls_conn_new(SSL_CTX *ctx, int fd, const char *sni, const char *check_host, SSL **out);
int tb_tls_step(SSL *ssl, int op, unsigned char *buf, size_t len, size_t *done, int *sys_errno);
int tb_tls_peer_chains(SSL *ssl, tb_x509_list **sent, tb_x509_list **verified, long *result);
