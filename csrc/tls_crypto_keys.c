/*
 * tls_crypto_keys.c: keys and PKCS#12 writing for tightbind/tls/crypto (the stand-in for
 * pyOpenSSL's OpenSSL.crypto): the error queue as (lib, reason, data) fields, private and
 * public keys read and written with passwords of any bytes (NUL included), key
 * generation and checks.  (PKCS12.export() writes with tb_tls_p12_write, tls_pkcs12.c.)
 *
 * OpenSSL 3.0 builds a decoder chain from every provider's algorithms each time a key is
 * decoded (OSSL_DECODER_CTX_new_for_pkey: about 120 us, most of it lock traffic), and
 * every PKCS#8 key (in .p12 files, PEM "PRIVATE KEY" blocks, DER) goes through one.  Here
 * one decoder context per (structure, key type) is built once and reused under its own
 * lock (tb_tls_p8_to_pkey, decode_cached), which turns that cost into about 10 us; any
 * input the cached context does not decode takes OpenSSL's own path.
 */
#include <limits.h>
#include <pthread.h>
#include <string.h>

#include <openssl/decoder.h>
#include <openssl/ec.h>

#include "tls_internal.h"

/* ---------------------------------------------------------------- cached decoders */

#define TB_TLS_DECODER_SLOTS 24

typedef struct {
    char structure[32];
    char keytype[80];
    OSSL_DECODER_CTX *dctx;
    EVP_PKEY *result; /* where dctx writes each key it decodes */
    pthread_mutex_t lock;
} decoder_slot;

static decoder_slot decoder_slots[TB_TLS_DECODER_SLOTS];
static size_t decoder_count;
static pthread_mutex_t decoder_lock = PTHREAD_MUTEX_INITIALIZER;

/* The slot for (structure, keytype), made on first use; NULL when the table is full or
   OpenSSL has no decoder for it. */
static decoder_slot *decoder_for(const char *structure, const char *keytype, int selection)
{
    decoder_slot *slot = NULL;
    if (strlen(structure) >= sizeof(slot->structure) || strlen(keytype) >= sizeof(slot->keytype))
        return NULL;
    pthread_mutex_lock(&decoder_lock);
    for (size_t i = 0; i < decoder_count; i++) {
        if (strcmp(decoder_slots[i].structure, structure) == 0 &&
            strcmp(decoder_slots[i].keytype, keytype) == 0) {
            slot = &decoder_slots[i];
            break;
        }
    }
    if (slot == NULL && decoder_count < TB_TLS_DECODER_SLOTS) {
        decoder_slot *fresh = &decoder_slots[decoder_count];
        ERR_set_mark();
        fresh->dctx = OSSL_DECODER_CTX_new_for_pkey(&fresh->result, "DER", structure, keytype,
                                                    selection, NULL, NULL);
        ERR_pop_to_mark();
        if (fresh->dctx != NULL && OSSL_DECODER_CTX_get_num_decoders(fresh->dctx) > 0 &&
            pthread_mutex_init(&fresh->lock, NULL) == 0) {
            strcpy(fresh->structure, structure);
            strcpy(fresh->keytype, keytype);
            slot = fresh;
            decoder_count++;
        } else {
            OSSL_DECODER_CTX_free(fresh->dctx);
            fresh->dctx = NULL;
        }
    }
    pthread_mutex_unlock(&decoder_lock);
    return slot;
}

/* Decode DER with the cached context for (structure, keytype); NULL (error queue as it
   was) when there is none or it does not decode this input. */
static EVP_PKEY *decode_cached(const char *structure, const ASN1_OBJECT *algorithm,
                               int selection, const unsigned char *der, size_t len)
{
    char keytype[80];
    if (OBJ_obj2txt(keytype, sizeof(keytype), algorithm, 0) <= 0)
        return NULL;
    decoder_slot *slot = decoder_for(structure, keytype, selection);
    if (slot == NULL)
        return NULL;
    pthread_mutex_lock(&slot->lock);
    slot->result = NULL;
    ERR_set_mark();
    int ok = OSSL_DECODER_from_data(slot->dctx, &der, &len);
    ERR_pop_to_mark();
    EVP_PKEY *key = ok ? slot->result : NULL;
    if (!ok)
        EVP_PKEY_free(slot->result);
    slot->result = NULL;
    pthread_mutex_unlock(&slot->lock);
    return key;
}

EVP_PKEY *tb_tls_p8_to_pkey(const PKCS8_PRIV_KEY_INFO *p8)
{
    const ASN1_OBJECT *algorithm = NULL;
    unsigned char *der = NULL;
    EVP_PKEY *key = NULL;
    if (PKCS8_pkey_get0(&algorithm, NULL, NULL, NULL, p8)) {
        int len = i2d_PKCS8_PRIV_KEY_INFO(p8, &der);
        if (len > 0)
            key = decode_cached("PrivateKeyInfo", algorithm,
                                EVP_PKEY_KEYPAIR | EVP_PKEY_KEY_PARAMETERS, der, (size_t)len);
        OPENSSL_clear_free(der, len > 0 ? (size_t)len : 0);
    }
    return key != NULL ? key : EVP_PKCS82PKEY(p8);
}

EVP_PKEY *tb_tls_spki_to_pkey(const unsigned char *der, size_t len)
{
    const unsigned char *p = der;
    long inner_len;
    int tag, xclass;
    EVP_PKEY *key = NULL;

    if (len > LONG_MAX)
        return NULL;
    ERR_set_mark();
    if (!(ASN1_get_object(&p, &inner_len, &tag, &xclass, (long)len) & 0x80) &&
        tag == V_ASN1_SEQUENCE) {
        X509_ALGOR *alg = d2i_X509_ALGOR(NULL, &p, inner_len);
        if (alg != NULL) {
            const ASN1_OBJECT *obj = NULL;
            X509_ALGOR_get0(&obj, NULL, NULL, alg);
            key = decode_cached("SubjectPublicKeyInfo", obj, EVP_PKEY_PUBLIC_KEY, der, len);
            X509_ALGOR_free(alg);
        }
    }
    ERR_pop_to_mark();
    if (key == NULL) {
        p = der;
        key = d2i_PUBKEY(NULL, &p, (long)len);
    }
    return key;
}

/* ---------------------------------------------------------------- reading keys */

typedef struct {
    const unsigned char *password; /* NULL: none given */
    size_t length;
    int asked;
} password_bytes;

static int password_bytes_cb(char *buf, int size, int rwflag, void *u)
{
    password_bytes *source = u;
    source->asked = 1;
    if (source->password == NULL || size < 0 || source->length > (size_t)size)
        return -1;
    memcpy(buf, source->password, source->length);
    return (int)source->length;
}

/* A failed decryption: a missing algorithm, a missing password, or the wrong one. */
static int decrypt_failure(const password_bytes *source)
{
    if (source->password == NULL)
        return TB_TLS_E_NEED_PASSWORD;
    return tb_tls_queue_is_unsupported() ? TB_TLS_E_UNSUPPORTED : TB_TLS_E_PASSWORD;
}

/* PKCS#8 blocks ("PRIVATE KEY", "ENCRYPTED PRIVATE KEY") through the cached decoders;
   1 when the PEM holds neither (the caller then reads it with PEM_read_bio_PrivateKey). */
static int read_pem_pkcs8(const unsigned char *data, size_t len, password_bytes *source,
                          EVP_PKEY **out)
{
    BIO *bio = tb_tls_bio_for(data, len);
    char *name = NULL, *header = NULL;
    unsigned char *der = NULL;
    long der_len = 0;
    int rc = 1;

    if (bio == NULL)
        return TB_E_NOMEM;
    ERR_set_mark();
    int found = PEM_read_bio(bio, &name, &header, &der, &der_len);
    ERR_pop_to_mark();
    BIO_free(bio);
    if (!found)
        return 1;
    const unsigned char *p = der;
    if (strcmp(name, PEM_STRING_PKCS8INF) == 0) {
        PKCS8_PRIV_KEY_INFO *p8 = d2i_PKCS8_PRIV_KEY_INFO(NULL, &p, der_len);
        *out = p8 != NULL ? tb_tls_p8_to_pkey(p8) : NULL;
        rc = *out != NULL ? TB_OK : TB_TLS_E_DECODE;
        PKCS8_PRIV_KEY_INFO_free(p8);
    } else if (strcmp(name, PEM_STRING_PKCS8) == 0) {
        X509_SIG *sig = d2i_X509_SIG(NULL, &p, der_len);
        source->asked = 1;
        if (sig == NULL) {
            rc = TB_TLS_E_DECODE;
        } else if (source->password == NULL) {
            rc = TB_TLS_E_NEED_PASSWORD;
        } else if (source->length > INT_MAX) {
            rc = TB_E_ARG;
        } else {
            PKCS8_PRIV_KEY_INFO *p8 = PKCS8_decrypt(sig, (const char *)source->password,
                                                    (int)source->length);
            if (p8 == NULL) {
                rc = decrypt_failure(source);
            } else {
                *out = tb_tls_p8_to_pkey(p8);
                rc = *out != NULL ? TB_OK : TB_TLS_E_DECODE;
                PKCS8_PRIV_KEY_INFO_free(p8);
            }
        }
        X509_SIG_free(sig);
    }
    OPENSSL_free(name);
    OPENSSL_free(header);
    OPENSSL_clear_free(der, der_len > 0 ? (size_t)der_len : 0);
    return rc;
}

static int read_private(const unsigned char *data, size_t len, int pem, password_bytes *source,
                        EVP_PKEY **out)
{
    EVP_PKEY *key = NULL;
    if (pem) {
        int rc = read_pem_pkcs8(data, len, source, out);
        if (rc != 1)
            return rc;
        BIO *bio = tb_tls_bio_for(data, len);
        if (bio == NULL)
            return TB_E_NOMEM;
        key = PEM_read_bio_PrivateKey(bio, NULL, password_bytes_cb, source);
        BIO_free(bio);
    } else {
        const unsigned char *p = data;
        ERR_set_mark();
        PKCS8_PRIV_KEY_INFO *p8 = d2i_PKCS8_PRIV_KEY_INFO(NULL, &p, (long)len);
        ERR_pop_to_mark();
        if (p8 != NULL) {
            key = tb_tls_p8_to_pkey(p8);
            PKCS8_PRIV_KEY_INFO_free(p8);
        } else {
            p = data;
            key = d2i_AutoPrivateKey(NULL, &p, (long)len);
        }
    }
    if (key == NULL)
        return source->asked ? decrypt_failure(source) : TB_TLS_E_DECODE;
    *out = key;
    return TB_OK;
}

static int read_public(const unsigned char *data, size_t len, int pem, EVP_PKEY **out)
{
    EVP_PKEY *key = NULL;
    if (pem) {
        unsigned char *der = NULL;
        long der_len = 0;
        BIO *bio = tb_tls_bio_for(data, len);
        if (bio == NULL)
            return TB_E_NOMEM;
        if (PEM_bytes_read_bio(&der, &der_len, NULL, PEM_STRING_PUBLIC, bio, NULL, NULL))
            key = tb_tls_spki_to_pkey(der, (size_t)der_len);
        OPENSSL_free(der);
        BIO_free(bio);
    } else {
        key = tb_tls_spki_to_pkey(data, len);
    }
    if (key == NULL)
        return TB_TLS_E_DECODE;
    *out = key;
    return TB_OK;
}

int tb_tls_key_read(const unsigned char *data, size_t len, int pem, int public_only,
                    const unsigned char *password, size_t password_len, EVP_PKEY **out)
{
    ERR_clear_error();
    password_bytes source = {password, password_len, 0};
    int rc = tb_tls_init();
    if (rc != TB_OK)
        return rc;
    if (len > LONG_MAX || len > INT_MAX)
        return TB_E_ARG;
    if (public_only)
        return read_public(data, len, pem, out);
    int had_legacy = tb_tls_legacy_loaded();
    rc = read_private(data, len, pem, &source, out);
    if (rc == TB_TLS_E_UNSUPPORTED && !had_legacy) {
        /* DES, RC2, Blowfish: load the legacy provider (beside the default) and retry. */
        ERR_clear_error();
        source.asked = 0;
        rc = tb_tls_load_legacy();
        if (rc == TB_OK)
            rc = read_private(data, len, pem, &source, out);
    }
    return rc;
}

/* ---------------------------------------------------------------- writing keys */

int tb_tls_cipher_fetch(const char *name, EVP_CIPHER **out)
{
    ERR_clear_error();
    int rc = tb_tls_init();
    if (rc != TB_OK)
        return rc;
    ERR_set_mark();
    EVP_CIPHER *cipher = EVP_CIPHER_fetch(NULL, name, NULL);
    if (cipher == NULL && !tb_tls_legacy_loaded()) {
        /* Blowfish, CAST, DES, ...: in the legacy provider. */
        rc = tb_tls_load_legacy();
        if (rc == TB_TLS_E_NO_LEGACY) {
            ERR_clear_last_mark();
            return rc;
        }
        cipher = EVP_CIPHER_fetch(NULL, name, NULL);
    }
    ERR_pop_to_mark();
    if (cipher == NULL)
        return TB_E_ARG;
    *out = cipher;
    return TB_OK;
}

int tb_tls_key_write(EVP_PKEY *key, int format, int public_only, EVP_CIPHER *cipher,
                     const unsigned char *password, size_t password_len, tb_tls_buf **out)
{
    ERR_clear_error();
    BIO *bio = BIO_new(BIO_s_mem());
    int ok;
    if (bio == NULL)
        return TB_E_NOMEM;
    if (password_len > INT_MAX) {
        BIO_free(bio);
        return TB_E_ARG;
    }
    switch (format) {
    case TB_TLS_FORMAT_PEM:
        ok = public_only ? PEM_write_bio_PUBKEY(bio, key)
                         : PEM_write_bio_PrivateKey(bio, key, cipher, password,
                                                    (int)password_len, NULL, NULL);
        break;
    case TB_TLS_FORMAT_DER:
        ok = public_only ? i2d_PUBKEY_bio(bio, key) : i2d_PrivateKey_bio(bio, key);
        break;
    case TB_TLS_FORMAT_TEXT:
        ok = public_only ? EVP_PKEY_print_public(bio, key, 0, NULL)
                         : EVP_PKEY_print_private(bio, key, 0, NULL);
        break;
    default:
        BIO_free(bio);
        return TB_E_ARG;
    }
    int rc = ok > 0 ? tb_tls_buf_from_bio(bio, out) : TB_TLS_E_OPENSSL;
    BIO_free(bio);
    return rc;
}

/* ---------------------------------------------------------------- generating, checking */

/* DSA the way DSA_generate_parameters_ex() made it: FIPS 186-2 (160-bit q) below 2048
   bits, where 186-4 refuses the smaller sizes pyOpenSSL users ask for. */
static int generate_dsa(int bits, EVP_PKEY **out)
{
    EVP_PKEY_CTX *ctx = EVP_PKEY_CTX_new_from_name(NULL, "DSA", NULL);
    EVP_PKEY_CTX *keygen = NULL;
    EVP_PKEY *params = NULL;
    int legacy_sizes = bits < 2048;
    int rc = TB_TLS_E_OPENSSL;

    if (ctx == NULL)
        return TB_E_NOMEM;
    if (EVP_PKEY_paramgen_init(ctx) <= 0 || EVP_PKEY_CTX_set_dsa_paramgen_bits(ctx, bits) <= 0 ||
        EVP_PKEY_CTX_set_dsa_paramgen_q_bits(ctx, legacy_sizes ? 160 : bits == 2048 ? 224 : 256) <= 0 ||
        (legacy_sizes && EVP_PKEY_CTX_set_dsa_paramgen_type(ctx, "fips186_2") <= 0) ||
        EVP_PKEY_paramgen(ctx, &params) <= 0)
        goto done;
    if ((keygen = EVP_PKEY_CTX_new_from_pkey(NULL, params, NULL)) == NULL ||
        EVP_PKEY_keygen_init(keygen) <= 0 ||
        (legacy_sizes && EVP_PKEY_CTX_set_dsa_paramgen_type(keygen, "fips186_2") <= 0) ||
        EVP_PKEY_keygen(keygen, out) <= 0)
        goto done;
    rc = TB_OK;
done:
    EVP_PKEY_CTX_free(keygen);
    EVP_PKEY_CTX_free(ctx);
    EVP_PKEY_free(params);
    return rc;
}

int tb_tls_key_generate(int type, int bits, EVP_PKEY **out)
{
    ERR_clear_error();
    int rc = tb_tls_init();
    if (rc != TB_OK)
        return rc;
    if (bits <= 0)
        return TB_E_ARG;
    if (type == EVP_PKEY_DSA)
        return generate_dsa(bits, out);
    if (type != EVP_PKEY_RSA)
        return TB_E_ARG;
    EVP_PKEY *key = EVP_PKEY_Q_keygen(NULL, NULL, "RSA", (size_t)bits);
    if (key == NULL)
        return TB_TLS_E_OPENSSL;
    *out = key;
    return TB_OK;
}

int tb_tls_key_check(EVP_PKEY *key)
{
    ERR_clear_error();
    EVP_PKEY_CTX *ctx = EVP_PKEY_CTX_new_from_pkey(NULL, key, NULL);
    if (ctx == NULL)
        return TB_E_NOMEM;
    int ok = EVP_PKEY_check(ctx);
    EVP_PKEY_CTX_free(ctx);
    return ok == 1 ? TB_OK : TB_TLS_E_KEY_CHECK;
}

int tb_tls_curve_names(tb_tls_buf **out)
{
    ERR_clear_error();
    size_t count = EC_get_builtin_curves(NULL, 0);
    EC_builtin_curve *curves = OPENSSL_malloc((count ? count : 1) * sizeof(*curves));
    BIO *bio = BIO_new(BIO_s_mem());
    int rc = TB_OK;
    if (curves == NULL || bio == NULL) {
        rc = TB_E_NOMEM;
        goto done;
    }
    count = EC_get_builtin_curves(curves, count);
    for (size_t i = 0; rc == TB_OK && i < count; i++) {
        const char *name = OBJ_nid2sn(curves[i].nid);
        if (name != NULL && BIO_printf(bio, "%s\n", name) <= 0)
            rc = TB_E_NOMEM;
    }
    if (rc == TB_OK)
        rc = tb_tls_buf_from_bio(bio, out);
done:
    BIO_free(bio);
    OPENSSL_free(curves);
    return rc;
}

/* The deprecated EC_KEY, on purpose: pyOpenSSL's curve objects handed one out. */
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wdeprecated-declarations"
EC_KEY *tb_tls_curve_ec_key(const char *name)
{
    int nid = OBJ_sn2nid(name);
    return nid == NID_undef ? NULL : EC_KEY_new_by_curve_name(nid);
}

void tb_tls_ec_key_free(EC_KEY *key)
{
    EC_KEY_free(key);
}
#pragma GCC diagnostic pop
