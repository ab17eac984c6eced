/*
 * tls.h: the OpenSSL 3 shim behind tightbind.tls.
 *
 * What is clumsy to do from cffi one call at a time lives here: one-time provider set-up
 * (thread-safe, the legacy provider loaded on demand together with the default one), the
 * error queue drained into one string, a certificate decoded into plain arrays in one
 * call, PKCS#12 parsed bag by bag, offline chain verification, and the client side of a
 * TLS connection driven one non-blocking step at a time (the caller waits on the socket).
 *
 * One source file per feature, as tightbind/tls/ has one module per feature: tls.c
 * (set-up, error queue, buffers, lists), tls_x509.c, tls_pkcs12.c (reading PKCS#12, with
 * private keys) and tls_p12_write.c (writing it), tls_kdf.c (the PBKDF2/AES and MAC fast
 * paths PKCS#12 reading takes), tls_verify.c, tls_conn.c, tls_revoke.c (OCSP and CRLs),
 * tls_req.c (certificate requests, SPKI, PKCS#7 types, raw signatures), and for the
 * pyOpenSSL face tls_crypto_keys.c and tls_crypto_x509.c.  Helpers they share are in
 * tls_internal.h, which cffi never sees; every symbol and define is named tb_tls_* /
 * TB_TLS_*.
 *
 * Ownership: every tb_tls_*_free() releases exactly what the matching constructor
 * returned.  Certificates in a tb_tls_x509_list are owned by the list; a caller that
 * keeps one takes its own reference with X509_up_ref() before freeing the list.
 */
#ifndef TB_TLS_H
#define TB_TLS_H

#include <limits.h>
#include <stddef.h>
#include <stdint.h>

#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/ocsp.h>
#include <openssl/pem.h>
#include <openssl/pkcs7.h>
#include <openssl/pkcs12.h>
#include <openssl/provider.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <openssl/x509_vfy.h>
#include <openssl/x509v3.h>

/* cffi:begin */
/* Failure codes besides TB_E_NOMEM and TB_E_ARG (tightbind.h).  The OpenSSL error queue
   holds the details. */
#define TB_TLS_E_OPENSSL (-301)       /* any other OpenSSL failure */
#define TB_TLS_E_NOT_PKCS12 (-302)    /* the data is not DER PKCS#12 (or is truncated) */
#define TB_TLS_E_PASSWORD (-303)      /* the MAC, or a decryption, rejected the password */
#define TB_TLS_E_NO_MAC (-304)        /* a PKCS#12 file without an integrity MAC */
#define TB_TLS_E_UNSUPPORTED (-305)   /* an algorithm no loaded provider implements */
#define TB_TLS_E_NO_LEGACY (-306)     /* the legacy provider could not be loaded */
#define TB_TLS_E_DECODE (-307)        /* the data is not a certificate or key */
#define TB_TLS_E_NEED_PASSWORD (-308) /* the key is encrypted and no password was given */
#define TB_TLS_E_VERIFY (-309)        /* chain verification failed: see the error code */
#define TB_TLS_E_CA_LOCATIONS (-310)  /* the cafile/capath could not be loaded */
#define TB_TLS_E_SYSCALL (-311)       /* a socket call failed: see the errno value */
#define TB_TLS_E_PROTOCOL (-312)      /* a TLS protocol failure (alert, bad record, ...) */
#define TB_TLS_E_NO_KEY (-313)        /* no key: a certificate without one, an empty key */
#define TB_TLS_E_EXTENSION (-314)     /* X509V3_EXT_nconf refused the extension */
#define TB_TLS_E_NAME (-315)          /* the value does not fit the name attribute */
#define TB_TLS_E_KEY_CHECK (-316)     /* the private key's parts do not belong together */
#define TB_TLS_E_TOO_LARGE (-317)     /* an input longer than TB_TLS_MAX_INPUT bytes */
#define TB_TLS_E_DECRYPT (-318)       /* the password verified the MAC but decrypts nothing */
#define TB_TLS_E_TOO_COSTLY (-319)    /* key derivation past TB_TLS_MAX_ITERATIONS in all */
#define TB_TLS_E_SIGNATURE (-340)     /* a signature does not verify with the key given */
#define TB_TLS_E_KEY_MISMATCH (-341)  /* the private key is not the certificate's */

/* The longest certificate, key, bundle or PKCS#12 input (and password) the shim takes:
   OpenSSL keeps such lengths in an int. */
#define TB_TLS_MAX_INPUT INT_MAX

/* The key-derivation work one PKCS#12 parse or private key load may do, in PBKDF2 (or
   PKCS#12 KDF) iterations summed over the MAC and every decryption (scrypt counts
   N * r * p): a file asking for more is refused before any of it is done, so a 3 KB file
   cannot keep a caller busy for hours.  Files in the wild ask for 2048 to 600000 each. */
#define TB_TLS_MAX_ITERATIONS 4000000

/* tb_tls_step() operations and non-failure results. */
#define TB_TLS_OP_HANDSHAKE 0
#define TB_TLS_OP_READ 1
#define TB_TLS_OP_WRITE 2
#define TB_TLS_OP_SHUTDOWN 3
#define TB_TLS_IO_DONE 0
#define TB_TLS_IO_WANT_READ 1
#define TB_TLS_IO_WANT_WRITE 2
#define TB_TLS_IO_EOF 3        /* the peer closed the TLS session cleanly (close_notify) */
#define TB_TLS_IO_RAGGED_EOF 4 /* the peer closed the socket without close_notify */

/* tb_tls_cert_item.kind */
#define TB_TLS_CERT_SUBJECT 0
#define TB_TLS_CERT_ISSUER 1
#define TB_TLS_CERT_SAN 2         /* one subjectAltName; DirName values follow as SAN_DIRNAME */
#define TB_TLS_CERT_SAN_DIRNAME 3 /* one attribute of the DirName SAN number `index` */
#define TB_TLS_CERT_OCSP 4
#define TB_TLS_CERT_CA_ISSUERS 5
#define TB_TLS_CERT_CRL_DP 6

/* tb_tls_p12_parse() flags */
#define TB_TLS_P12_ALLOW_NO_MAC 1
#define TB_TLS_P12_READER_CERTS 2 /* certificates as tb_tls_cert_read() parses them */

/*
 * One decoded field.  Strings are byte ranges (offset, length) into tb_tls_cert_info.strings
 * and may contain NUL bytes.  Name attributes: key is the long name (or dotted OID) as
 * CPython's decoder spells it, short_key the short name, value the UTF-8 text and raw
 * the attribute's stored bytes; `index` is the RDN number within the name.  SANs:
 * `index` is the SAN's position; DirName attributes carry it too and `rdn` numbers the
 * RDN within that DirName.
 */
typedef struct {
    int kind;
    int index;
    int rdn;
    size_t key_off, key_len;
    size_t short_off, short_len;
    size_t value_off, value_len;
    size_t raw_off, raw_len;
} tb_tls_cert_item;

typedef struct {
    int version;           /* X509_get_version() + 1 */
    int not_before_tm[6];  /* year, month (1-12), day, hour, minute, second (UTC) */
    int not_after_tm[6];
    int key_bits;          /* EVP_PKEY_get_bits(), 0 when unknown */
    size_t serial_off, serial_len;         /* upper-case hex, any length, no line breaks */
    size_t not_before_off, not_before_len; /* ASN1_TIME_print text */
    size_t not_after_off, not_after_len;
    size_t sig_alg_off, sig_alg_len;       /* long name of the signature algorithm */
    size_t key_type_off, key_type_len;     /* "RSA", "EC", "ED25519", ... */
    size_t key_group_off, key_group_len;   /* curve name for EC keys, else empty */
    tb_tls_cert_item *items;
    size_t item_count, item_cap;
    char *strings;
    size_t strings_len, strings_cap;
} tb_tls_cert_info;

typedef struct {
    X509 **certs;
    size_t count;
} tb_tls_x509_list;

typedef struct {
    EVP_PKEY *key;      /* NULL when the file holds no private key */
    X509 **certs;       /* every certificate in file order */
    char **names;       /* each certificate's friendlyName (UTF-8) or NULL */
    size_t count;
    long main_index;    /* the certificate matching the key, or -1 */
    char *key_name;     /* the key bag's friendlyName or NULL */
    int has_mac;
} tb_tls_p12;

typedef struct {
    unsigned char *data;
    size_t len;
} tb_tls_buf;

/* csrc/tls.c: set-up, the error queue, buffers and lists. */
int tb_tls_init(void);
/* The error queue as "lib US reason US data RS" records (as many whole records as fit
   in cap bytes); returns how many errors it took off the queue. */
size_t tb_tls_drain_errors(char *out, size_t cap);
void tb_tls_buf_free(tb_tls_buf *buf);
void tb_tls_x509_list_free(tb_tls_x509_list *list);

/* csrc/tls_x509.c: certificates. */
/* parts: TB_TLS_DECODE_FIELDS (names, serial, dates, extensions, signature algorithm),
   TB_TLS_DECODE_KEY (the key_* fields: decoding the public key is the costly part, so
   readers that show no key ask for it apart), or both; fields not asked for are 0/"". */
#define TB_TLS_DECODE_FIELDS 1
#define TB_TLS_DECODE_KEY 2
int tb_tls_cert_decode(X509 *cert, int parts, tb_tls_cert_info **out);
void tb_tls_cert_info_free(tb_tls_cert_info *info);
int tb_tls_cert_load(const unsigned char *data, size_t len, int pem, X509 **out);
/* A certificate for reading (decode, dump) parsed without decoding its key, several times
   faster on OpenSSL 3.0; tb_tls_cert_full() gives the certificate anything else needs. */
int tb_tls_cert_read(const unsigned char *data, size_t len, int pem, X509 **out);
int tb_tls_cert_full(X509 *cert, X509 **out);
int tb_tls_cert_dump(X509 *cert, int pem, tb_tls_buf **out);
int tb_tls_pem_read_certs(const unsigned char *data, size_t len, tb_tls_x509_list **out);
int tb_tls_p7_certs(const unsigned char *data, size_t len, tb_tls_x509_list **out);

/* csrc/tls_pkcs12.c: private keys (a NULL password means none was given) and PKCS#12
   (password NULL or "" tries the empty password both ways PKCS#12 allows). */
int tb_tls_pkey_load(const unsigned char *data, size_t len, int pem, const char *password,
                     EVP_PKEY **out);
int tb_tls_pkey_dump(EVP_PKEY *key, int pem, const char *cipher, const char *password,
                     tb_tls_buf **out);
int tb_tls_pkey_public_pem(EVP_PKEY *key, tb_tls_buf **out);
int tb_tls_p12_parse(const unsigned char *data, size_t len, const char *password, int flags,
                     tb_tls_p12 **out);
void tb_tls_p12_free(tb_tls_p12 *p12);
/* csrc/tls_p12_write.c: tb_tls_p12_write() writes key and certificates (each may be NULL,
   not all; a key must match the certificate: TB_TLS_E_KEY_MISMATCH) with
   friendlyNames (UTF-8; NULL: none) encrypted as `encryption` says with `iterations`
   rounds of key derivation, and a MAC with the digest named mac_digest ("sha256";
   NULL: no MAC) of mac_iterations rounds. */
#define TB_TLS_P12_AES_256_CBC 0 /* PBES2: PBKDF2-HMAC-SHA256, AES-256-CBC (OpenSSL 3's) */
#define TB_TLS_P12_3DES 1        /* pbeWithSHA1And3-KeyTripleDES-CBC, key and certificates */
#define TB_TLS_P12_RC2_40 2      /* the key 3DES, certificates pbeWithSHA1And40BitRC2-CBC */
int tb_tls_p12_write(EVP_PKEY *key, X509 *cert, const char *name, X509 **cas,
                     const char **ca_names, size_t ca_count, const char *password,
                     int encryption, int iterations, const char *mac_digest,
                     int mac_iterations, tb_tls_buf **out);

/*
 * csrc/tls_verify.c: trust and offline verification.  A context trusts cafile/capath
 * (both NULL: the system store); its certificate store (SSL_CTX_get_cert_store) serves
 * tb_tls_verify_chain() and the connections made from it.  Building one reads the whole
 * trust bundle, so callers keep and share contexts.
 *
 * tb_tls_verify_chain() verifies leaf + intermediates against the trusted certificates
 * of store at at_time (when use_time) and for hostname (DNS name or IP literal; NULL:
 * none).  On success *chain is leaf to root.  On TB_TLS_E_VERIFY *error and *depth say
 * why.  The store is only read, so one store can serve many threads.
 */
int tb_tls_ctx_new(const char *cafile, const char *capath, SSL_CTX **out);
int tb_tls_verify_chain(X509_STORE *store, X509 *leaf, X509 **intermediates, size_t count,
                        const char *hostname, int64_t at_time, int use_time,
                        tb_tls_x509_list **chain, int *error, int *depth);

/* csrc/tls_conn.c: the TLS client, one non-blocking step per call. */
int tb_tls_conn_new(SSL_CTX *ctx, int fd, const char *sni, const char *check_host, SSL **out);
int tb_tls_step(SSL *ssl, int op, unsigned char *buf, size_t len, size_t *done, int *sys_errno);
int tb_tls_peer_chains(SSL *ssl, tb_tls_x509_list **sent, tb_tls_x509_list **verified,
                       long *result);
int tb_tls_conn_request_ocsp(SSL *ssl); /* ask for a stapled OCSP response (status_request) */
int tb_tls_conn_stapled_ocsp(SSL *ssl, tb_tls_buf **out); /* TB_TLS_ABSENT: none stapled */
/*
 * The stand-in for pyOpenSSL's OpenSSL.crypto (tightbind/tls/crypto/): csrc/tls_crypto_keys.c
 * and csrc/tls_crypto_x509.c.  Passwords are bytes with a length (NUL bytes allowed;
 * NULL: none given).  Functions that write short text into a caller buffer (out, cap)
 * set *len to the full length: when it is not below cap, call again with more room.
 */
#define TB_TLS_ABSENT 1 /* a non-failure status: the field or attribute is not set */
#define TB_TLS_FORMAT_PEM 1
#define TB_TLS_FORMAT_DER 2
#define TB_TLS_FORMAT_TEXT 3
#define TB_TLS_NAME_SUBJECT 0
#define TB_TLS_NAME_ISSUER 1
#define TB_TLS_TIME_NOT_BEFORE 0
#define TB_TLS_TIME_NOT_AFTER 1

/* csrc/tls_crypto_keys.c: keys. */
int tb_tls_key_read(const unsigned char *data, size_t len, int pem, int public_only,
                    const unsigned char *password, size_t password_len, EVP_PKEY **out);
int tb_tls_cipher_fetch(const char *name, EVP_CIPHER **out);
int tb_tls_key_write(EVP_PKEY *key, int format, int public_only, EVP_CIPHER *cipher,
                     const unsigned char *password, size_t password_len, tb_tls_buf **out);
int tb_tls_key_generate(int type, int bits, EVP_PKEY **out);
int tb_tls_key_check(EVP_PKEY *key);
int tb_tls_curve_names(tb_tls_buf **out); /* built-in curves' short names, one a line */
/* An EC_KEY (OpenSSL's deprecated type) of the named curve, NULL when unknown: only for
   pyOpenSSL's private _EllipticCurve._to_EC_KEY(). */
EC_KEY *tb_tls_curve_ec_key(const char *name);
void tb_tls_ec_key_free(EC_KEY *key);

/* csrc/tls_crypto_x509.c: names (edited in place), certificate fields, extensions. */
int tb_tls_nid(const char *name);
int tb_tls_name_get(const X509_NAME *name, int nid, char *out, size_t cap, size_t *len);
int tb_tls_name_set(X509_NAME *name, int nid, const unsigned char *value, size_t len);
int tb_tls_name_entries(const X509_NAME *name, tb_tls_buf **out);
int tb_tls_name_der(const X509_NAME *name, tb_tls_buf **out);
unsigned long tb_tls_name_hash(const X509_NAME *name);
int tb_tls_name_text(const X509_NAME *name, char *out, size_t cap);
X509_NAME *tb_tls_x509_name(const X509 *cert, int which);
int tb_tls_x509_set_name(X509 *cert, int which, const X509_NAME *from);
int tb_tls_x509_serial(const X509 *cert, char *out, size_t cap, size_t *len);
int tb_tls_x509_set_serial(X509 *cert, const char *hex);
int tb_tls_x509_time(X509 *cert, int which, char *out, size_t cap, size_t *len);
int tb_tls_x509_set_time(X509 *cert, int which, const char *when);
int tb_tls_x509_adjust_time(X509 *cert, int which, long seconds);
int tb_tls_x509_expired(X509 *cert);
int tb_tls_x509_digest(const X509 *cert, const char *digest, unsigned char *out, size_t cap,
                       size_t *len);
const char *tb_tls_x509_signature_algorithm(const X509 *cert);
int tb_tls_x509_sign(X509 *cert, EVP_PKEY *key, const char *digest);
int tb_tls_x509_public_key(X509 *cert, EVP_PKEY **out);
int tb_tls_x509_set_public_key(X509 *cert, EVP_PKEY *key);
int tb_tls_x509_text(X509 *cert, tb_tls_buf **out);
int tb_tls_x509_add_extensions(X509 *cert, X509_EXTENSION **extensions, size_t count);
int tb_tls_x509_extension(const X509 *cert, int index, X509_EXTENSION **out);
int tb_tls_ext_new(const char *name, int critical, const char *value, X509 *subject,
                   X509 *issuer, X509_EXTENSION **out);
const char *tb_tls_ext_short_name(const X509_EXTENSION *ext);
int tb_tls_ext_data(const X509_EXTENSION *ext, const unsigned char **data, size_t *len);
int tb_tls_ext_text(X509_EXTENSION *ext, tb_tls_buf **out);
/*
 * csrc/tls_revoke.c: revocation, for the chain doctor.  tb_tls_ocsp_check() and
 * tb_tls_crl_check() take untrusted bytes (a stapled or fetched OCSP response, a fetched
 * CRL: DER or PEM) and the certificate they should speak about with its issuer, and fill
 * one caller-owned tb_tls_revocation in one call: the status, the reason and time of a
 * revocation, the response's dates, who signed it and whether that signature holds.
 * Dates are POSIX seconds (UTC); whether they are stale is the caller's call (it knows
 * "now").  An OCSP signer must be the issuer, or a certificate the issuer gave the
 * OCSP-signing purpose, which is then verified against store at at_time (when
 * use_time) with untrusted as intermediates.  TB_TLS_E_DECODE: not an OCSP response /
 * not a CRL.
 */
#define TB_TLS_REV_GOOD 0
#define TB_TLS_REV_REVOKED 1
#define TB_TLS_REV_UNKNOWN 2    /* OCSP: the responder does not know the certificate */
#define TB_TLS_REV_NO_ANSWER 3  /* OCSP: the response speaks about other certificates */
#define TB_TLS_REV_REFUSED 4    /* OCSP: an error status (response_status) and no answer */

#define TB_TLS_SIG_OK 0
#define TB_TLS_SIG_BAD 1          /* the signature does not verify with the signer's key */
#define TB_TLS_SIG_NO_SIGNER 2    /* OCSP: the signer's certificate is nowhere to be found */
#define TB_TLS_SIG_UNAUTHORISED 3 /* not the issuer nor delegated by it (CRL: other issuer) */
#define TB_TLS_SIG_UNTRUSTED 4    /* OCSP: a delegated signer that does not verify */

typedef struct {
    int status;           /* TB_TLS_REV_* */
    int response_status;  /* OCSP responseStatus (0: successful); 0 for CRLs */
    int reason;           /* CRLReason of a revocation, -1 when none is given */
    int signature;        /* TB_TLS_SIG_* */
    int verify_error;     /* X509_V_ERR_* for TB_TLS_SIG_UNTRUSTED, else 0 */
    int has_next_update;
    int has_revocation_time;
    int delegated;        /* OCSP: signed by a delegated responder, not the issuer */
    int64_t this_update;  /* OCSP thisUpdate, CRL lastUpdate */
    int64_t next_update;
    int64_t revocation_time;
    long entries;         /* OCSP: single responses; CRL: revoked entries */
    char signer[256];     /* the signer's subject (CRL: the issuer name), one line */
} tb_tls_revocation;

int tb_tls_ocsp_check(const unsigned char *data, size_t len, X509 *cert, X509 *issuer,
                      X509 **untrusted, size_t count, X509_STORE *store, int64_t at_time,
                      int use_time, tb_tls_revocation *out);
int tb_tls_ocsp_request(X509 *cert, X509 *issuer, tb_tls_buf **out); /* DER, no nonce */
int tb_tls_crl_check(const unsigned char *data, size_t len, X509 *cert, X509 *issuer,
                     tb_tls_revocation *out);
int tb_tls_must_staple(X509 *cert); /* 1: its TLS feature extension asks for a staple */

/*
 * csrc/tls_req.c: certificate signing requests, Netscape SPKI, PKCS#7 types and signatures
 * over raw data (tightbind/tls/request.py, signing.py).  tb_tls_req_subject() is the
 * request's own name, edited in place.  TB_TLS_E_SIGNATURE: the signature does not verify
 * with that key; TB_E_ARG from a sign or verify call: an unknown digest name.
 */
typedef struct {
    X509_EXTENSION **extensions;
    size_t count;
} tb_tls_ext_list;

int tb_tls_req_new(X509_REQ **out);
int tb_tls_req_load(const unsigned char *data, size_t len, int pem, X509_REQ **out);
int tb_tls_req_dump(X509_REQ *req, int format, tb_tls_buf **out);
X509_NAME *tb_tls_req_subject(X509_REQ *req);
int tb_tls_req_set_public_key(X509_REQ *req, EVP_PKEY *key);
int tb_tls_req_public_key(X509_REQ *req, EVP_PKEY **out);
int tb_tls_req_sign(X509_REQ *req, EVP_PKEY *key, const char *digest);
int tb_tls_req_verify(X509_REQ *req, EVP_PKEY *key);
int tb_tls_req_extensions(X509_REQ *req, tb_tls_ext_list **out);
int tb_tls_req_add_extensions(X509_REQ *req, X509_EXTENSION **extensions, size_t count);
void tb_tls_ext_list_free(tb_tls_ext_list *list);
int tb_tls_spki_new(NETSCAPE_SPKI **out);
int tb_tls_spki_decode(const char *b64, size_t len, NETSCAPE_SPKI **out);
int tb_tls_spki_encode(NETSCAPE_SPKI *spki, tb_tls_buf **out);
int tb_tls_spki_sign(NETSCAPE_SPKI *spki, EVP_PKEY *key, const char *digest);
int tb_tls_spki_verify(NETSCAPE_SPKI *spki, EVP_PKEY *key);
int tb_tls_spki_public_key(NETSCAPE_SPKI *spki, EVP_PKEY **out);
int tb_tls_spki_set_public_key(NETSCAPE_SPKI *spki, EVP_PKEY *key);
int tb_tls_p7_load(const unsigned char *data, size_t len, int pem, PKCS7 **out);
int tb_tls_p7_type(const PKCS7 *p7); /* the content type's NID */
int tb_tls_sign_data(EVP_PKEY *key, const char *digest, const unsigned char *data,
                     size_t len, tb_tls_buf **out);
int tb_tls_verify_data(EVP_PKEY *key, const char *digest, const unsigned char *signature,
                       size_t signature_len, const unsigned char *data, size_t len);
/*
 * csrc/tls_store.c: trust stores (tightbind/tls/store.py, the crypto face's X509Store).
 * The caller fills a store (certificates, CRLs, locations; flags and depth straight on
 * its X509_VERIFY_PARAM) and tb_tls_store_verify() verifies leaf with untrusted
 * intermediates and CRLs of its own (both only read, neither kept) against it, with
 * flags added to the store's for this call, hostname (NULL: none) and at_time (when
 * use_time).  On success *chain is leaf to root (chain NULL: not wanted); on
 * TB_TLS_E_VERIFY *failure says why:
 * OpenSSL's X509_V_ERR_* code, the depth and the certificate at fault (a reference the
 * caller frees; NULL when OpenSSL names none).
 */
typedef struct {
    int error;
    int depth;
    X509 *cert;
} tb_tls_verify_failure;

int tb_tls_store_new(X509_STORE **out);
int tb_tls_store_add_cert(X509_STORE *store, X509 *cert);
int tb_tls_store_add_crl(X509_STORE *store, X509_CRL *crl);
int tb_tls_store_load(X509_STORE *store, const char *cafile, const char *capath);
int tb_tls_store_set_time(X509_STORE *store, int64_t at_time, int use_time);
int tb_tls_store_verify(X509_STORE *store, X509 *leaf, X509 **untrusted, size_t count,
                        X509_CRL **crls, size_t crl_count, unsigned long flags,
                        const char *hostname, int64_t at_time, int use_time,
                        tb_tls_x509_list **chain, tb_tls_verify_failure *failure);

/*
 * csrc/tls_crl.c: CRLs (tightbind/tls/crl.py, the crypto face's CRL and Revoked).
 * Formats are TB_TLS_FORMAT_*; times POSIX seconds (UTC), TB_TLS_NO_TIME when absent.
 * tb_tls_crl_decode() gives every field and entry in one call: serials as upper-case
 * hex texts one after another (each NUL-terminated), revocation times and CRLReason
 * codes (-1: none; -2: one that does not decode) in arrays.  tb_tls_crl_build() makes a
 * v2 CRL of count entries (serials all hex, '-' allowed) issued and signed by issuer
 * with key and digest (NULL: the key's own, for Ed25519), crl_number hex or NULL.
 */
#define TB_TLS_NO_TIME INT64_MIN
#define TB_TLS_CRL_LAST_UPDATE 0
#define TB_TLS_CRL_NEXT_UPDATE 1

typedef struct {
    const char *serial;
    int64_t revocation_time;
    int reason;
} tb_tls_crl_entry;

typedef struct {
    int version;                     /* X509_CRL_get_version() + 1 */
    int64_t last_update, next_update;
    char *issuer;                    /* one line, as X509_NAME_oneline writes it */
    const char *signature_algorithm; /* long name; "" when unknown */
    char *crl_number;                /* hex; NULL when the CRL has none */
    size_t count;
    int64_t *revocation_times;
    int *reasons;
    char *serials;
    size_t serials_len;
} tb_tls_crl_info;

int tb_tls_crl_load(const unsigned char *data, size_t len, int format, X509_CRL **out);
int tb_tls_crl_dump(X509_CRL *crl, int format, tb_tls_buf **out);
int tb_tls_crl_decode(X509_CRL *crl, tb_tls_crl_info **out);
void tb_tls_crl_info_free(tb_tls_crl_info *info);
int tb_tls_crl_build(X509 *issuer, EVP_PKEY *key, const char *digest,
                     const tb_tls_crl_entry *entries, size_t count, int64_t last_update,
                     int64_t next_update, const char *crl_number, X509_CRL **out);
int tb_tls_crl_set_time(X509_CRL *crl, int which, const char *when); /* ASN.1 TIME text */
int tb_tls_crl_set_posix_time(X509_CRL *crl, int which, int64_t seconds);
int tb_tls_crl_sign(X509_CRL *crl, X509 *issuer, EVP_PKEY *key, const char *digest);
/* Entries one at a time, for pyOpenSSL's CRL and Revoked: copies in and out. */
int tb_tls_crl_revoked_count(const X509_CRL *crl);
int tb_tls_crl_revoked(const X509_CRL *crl, int index, X509_REVOKED **out);
int tb_tls_crl_add_revoked(X509_CRL *crl, const X509_REVOKED *entry);
int tb_tls_revoked_set_serial(X509_REVOKED *entry, const char *hex, int whole); /* whole 0:
                                                     the leading hex digits, as BN_hex2bn */
int tb_tls_revoked_serial(const X509_REVOKED *entry, tb_tls_buf **out);
int tb_tls_revoked_set_date(X509_REVOKED *entry, const char *when);
int tb_tls_revoked_date(const X509_REVOKED *entry, tb_tls_buf **out);
int tb_tls_revoked_set_reason(X509_REVOKED *entry, int reason); /* -1: remove */
int tb_tls_revoked_reason(const X509_REVOKED *entry, tb_tls_buf **out);
/* cffi:end */

#endif /* TB_TLS_H */
