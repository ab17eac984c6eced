/*
 * tls_internal.h: what the TLS shim's source files share and cffi never sees.
 *
 * Defined in csrc/tls.c unless noted.  Every name is tb_tls_* like the exported API, so
 * a reader finds any of them with one grep; none of them clears the error queue.
 */
#ifndef TB_TLS_INTERNAL_H
#define TB_TLS_INTERNAL_H

#include "tightbind.h"

/* Providers: the legacy one (RC2, RC4, DES) is loaded beside the default one on demand. */
int tb_tls_load_legacy(void);
int tb_tls_legacy_loaded(void);

/* Take the oldest error off the queue: its code (0 when the queue is empty), OpenSSL's
   library and reason strings (NULL when it has none) and its data text ("" when none). */
unsigned long tb_tls_next_error(const char **lib, const char **reason, const char **data);

/* True when the error queue says an algorithm is missing from every loaded provider. */
int tb_tls_queue_is_unsupported(void);

/* True when the error queue says a decryption produced bytes that do not decode: the
   padding happened to look right but the key (the password) was wrong.  The decoders
   then also report "unsupported", which must not be read as a missing algorithm. */
int tb_tls_queue_is_wrong_key(void);

/* A read-only memory BIO over data (NULL when len exceeds TB_TLS_MAX_INPUT or on no
   memory: callers check the length first and return TB_TLS_E_TOO_LARGE). */
BIO *tb_tls_bio_for(const unsigned char *data, size_t len);

/* A new tb_tls_buf holding a copy of len bytes of data (TB_E_NOMEM when out of memory). */
int tb_tls_buf_from_bytes(const void *data, size_t len, tb_tls_buf **out);
/* Copy what a memory BIO holds into a new tb_tls_buf. */
int tb_tls_buf_from_bio(BIO *bio, tb_tls_buf **out);

/* Append cert to list (taking over the caller's reference); *cap is the list's capacity. */
int tb_tls_list_push(tb_tls_x509_list *list, size_t *cap, X509 *cert);

/* A new list holding its own reference to every certificate of sk (NULL: empty). */
int tb_tls_list_from_stack(const STACK_OF(X509) *sk, tb_tls_x509_list **out);

/* A pem_password_cb that never prompts on a terminal: u points to a password source. */
typedef struct {
    const char *password; /* NULL: none was given */
    int asked;            /* set when OpenSSL asked for a password */
} tb_tls_password_source;

int tb_tls_password_cb(char *buf, int size, int rwflag, void *u);

/* csrc/tls_crypto_keys.c: a PKCS#8 key through a decoder built once per key type (OpenSSL
   3.0 builds one per call otherwise); falls back to EVP_PKCS82PKEY. */
EVP_PKEY *tb_tls_p8_to_pkey(const PKCS8_PRIV_KEY_INFO *p8);

/* csrc/tls_x509.c: a certificate from DER, for reading (reader: see tb_tls_cert_read) or
   for everything; and a reader certificate parsed again for everything.  NULL on failure. */
X509 *tb_tls_cert_d2i(const unsigned char *der, long len, int reader);
X509 *tb_tls_cert_upgrade(X509 *cert);

/* csrc/tls_crypto_keys.c: a SubjectPublicKeyInfo (DER) through the cached decoder for its
   algorithm, else d2i_PUBKEY; NULL when it does not decode. */
EVP_PKEY *tb_tls_spki_to_pkey(const unsigned char *der, size_t len);

/* csrc/tls_kdf.c: decrypt in (in_len bytes) encrypted as alg says with password (NULL:
   empty) into *out (OPENSSL_clear_free it), *out_len bytes, when alg is PBES2 with
   PBKDF2-HMAC-SHA-256 and AES-CBC: TB_OK, TB_TLS_E_PASSWORD (the padding says the key is
   wrong), TB_E_NOMEM; TB_TLS_PBES2_OTHER for any other algorithm (OpenSSL's path then). */
#define TB_TLS_PBES2_OTHER 1
int tb_tls_pbes2_decrypt(const X509_ALGOR *alg, const char *password, const unsigned char *in,
                         int in_len, unsigned char **out, int *out_len);

/* csrc/tls_kdf.c: PKCS12_verify_mac(p12, password, -1) for a SHA-256 MAC over content (the
   authSafe's data octets; password NULL: none, "" the empty one): TB_OK with *verified 1
   or 0, TB_E_NOMEM, or TB_TLS_PBES2_OTHER for any other MAC (OpenSSL's path then). */
int tb_tls_p12_mac_sha256(const PKCS12 *p12, const unsigned char *content, size_t content_len,
                          const char *password, int *verified);

/* csrc/tls_pkcs12.c: the key-derivation work a PBE algorithm (PKCS#12 PBE, PBES1, PBES2
   with PBKDF2 or scrypt) asks for, in iterations; LONG_MAX when its parameters do not
   decode or are out of range, 0 for algorithms that derive no key from a password. */
long tb_tls_pbe_cost(const X509_ALGOR *alg);

/* csrc/tls_verify.c: hostname checks shared with the client (tls_conn.c). */
int tb_tls_is_ip_literal(const char *host);
int tb_tls_set_expected_host(X509_VERIFY_PARAM *param, const char *host);

#endif /* TB_TLS_INTERNAL_H */
