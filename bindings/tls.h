/* What cffi is told about OpenSSL for tightbind._tls.  The shim's own declarations are
   in csrc/tls.h. */

typedef ... X509;
typedef ... EVP_PKEY;
typedef ... SSL;
typedef ... SSL_CTX;
typedef ... SSL_CIPHER;
typedef ... X509_STORE;
typedef ... X509_NAME;
typedef ... X509_EXTENSION;
typedef ... EVP_CIPHER;
typedef ... X509_REQ;
typedef ... NETSCAPE_SPKI;
typedef ... PKCS7;
typedef ... EC_KEY;

#define X509_V_OK ...
#define X509_V_ERR_HOSTNAME_MISMATCH ...
#define X509_V_ERR_IP_ADDRESS_MISMATCH ...
#define X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT ...
#define X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT_LOCALLY ...
#define X509_V_ERR_CERT_NOT_YET_VALID ...
#define X509_V_ERR_CERT_HAS_EXPIRED ...
#define OPENSSL_VERSION ...
#define OPENSSL_MODULES_DIR ...
#define EVP_PKEY_RSA ...
#define EVP_PKEY_DSA ...
#define EVP_PKEY_DH ...
#define EVP_PKEY_EC ...
#define PEM_BUFSIZE ...

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
X509 *X509_new(void);
long X509_get_version(const X509 *cert);
int X509_set_version(X509 *cert, long version);
int X509_get_ext_count(const X509 *cert);
unsigned long X509_subject_name_hash(X509 *cert);
X509_NAME *X509_NAME_new(void);
X509_NAME *X509_NAME_dup(const X509_NAME *name);
void X509_NAME_free(X509_NAME *name);
int X509_NAME_cmp(const X509_NAME *a, const X509_NAME *b);
int X509_check_issued(X509 *issuer, X509 *subject);
int X509_check_host(X509 *cert, const char *name, size_t namelen, unsigned int flags,
                    char **peername);
int X509_check_ip_asc(X509 *cert, const char *address, unsigned int flags);
void X509_EXTENSION_free(X509_EXTENSION *ext);
int X509_EXTENSION_get_critical(const X509_EXTENSION *ext);
EVP_PKEY *EVP_PKEY_new(void);
int EVP_PKEY_get_id(const EVP_PKEY *key);
void EVP_CIPHER_free(EVP_CIPHER *cipher);
const char *OCSP_crl_reason_str(long reason);
const char *OCSP_response_status_str(long status);
void X509_REQ_free(X509_REQ *req);
long X509_REQ_get_version(const X509_REQ *req);
void NETSCAPE_SPKI_free(NETSCAPE_SPKI *spki);
void PKCS7_free(PKCS7 *p7);
const char *OBJ_nid2sn(int nid);


/* Trust stores and CRLs (csrc/tls_store.c, csrc/tls_crl.c). */
typedef ... X509_CRL;
typedef ... X509_REVOKED;
typedef ... X509_VERIFY_PARAM;
#define X509_V_FLAG_CRL_CHECK ...
#define X509_V_FLAG_CRL_CHECK_ALL ...
#define X509_V_FLAG_IGNORE_CRITICAL ...
#define X509_V_FLAG_X509_STRICT ...
#define X509_V_FLAG_ALLOW_PROXY_CERTS ...
#define X509_V_FLAG_POLICY_CHECK ...
#define X509_V_FLAG_EXPLICIT_POLICY ...
#define X509_V_FLAG_INHIBIT_MAP ...
#define X509_V_FLAG_CHECK_SS_SIGNATURE ...
#define X509_V_FLAG_PARTIAL_CHAIN ...
void X509_STORE_free(X509_STORE *store);
X509_VERIFY_PARAM *X509_STORE_get0_param(const X509_STORE *store);
unsigned long X509_VERIFY_PARAM_get_flags(const X509_VERIFY_PARAM *param);
int X509_VERIFY_PARAM_set_flags(X509_VERIFY_PARAM *param, unsigned long flags);
int X509_VERIFY_PARAM_clear_flags(X509_VERIFY_PARAM *param, unsigned long flags);
void X509_VERIFY_PARAM_set_depth(X509_VERIFY_PARAM *param, int depth);
int X509_VERIFY_PARAM_get_depth(const X509_VERIFY_PARAM *param);
X509 *X509_dup(const X509 *cert);
X509_CRL *X509_CRL_new(void);
void X509_CRL_free(X509_CRL *crl);
int X509_CRL_set_version(X509_CRL *crl, long version);
X509_NAME *X509_CRL_get_issuer(const X509_CRL *crl);
X509_REVOKED *X509_REVOKED_new(void);
void X509_REVOKED_free(X509_REVOKED *entry);
