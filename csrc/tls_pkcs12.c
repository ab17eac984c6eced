/*
 * tls_pkcs12.c: private keys and PKCS#12 files for tightbind/tls/pkcs12.py.  A file is
 * parsed bag by bag (not with PKCS12_parse) so that every certificate keeps its
 * friendlyName and a wrong password, a missing MAC and a missing algorithm are told apart;
 * a file that needs the legacy provider (RC2, RC4, DES) loads it and is parsed again.
 */
#include <limits.h>
#include <string.h>

#include "tls_internal.h"

#define TB_TLS_P12_MAX_DEPTH 8 /* nesting of safeContents bags we follow */

/* ---------------------------------------------------------------- key-derivation cost */

/* An iteration count: `missing` when absent, LONG_MAX when it does not fit in 64 bits,
   0 when negative (OpenSSL refuses those itself). */
static long count_of(const ASN1_INTEGER *value, long missing)
{
    int64_t n;
    if (value == NULL)
        return missing;
    if (!ASN1_INTEGER_get_int64(&n, value))
        return LONG_MAX;
    return n < 0 ? 0 : (n > LONG_MAX ? LONG_MAX : (long)n);
}

static long saturating_mul(long a, long b)
{
    return (a != 0 && b > LONG_MAX / a) ? LONG_MAX : a * b;
}

long tb_tls_pbe_cost(const X509_ALGOR *alg)
{
    long cost = 0;
    int nid = OBJ_obj2nid(alg->algorithm);

    /* Parameters that do not decode cost nothing: OpenSSL fails on them before deriving. */
    if (nid == NID_pbes2) {
        PBE2PARAM *pbe2 = ASN1_TYPE_unpack_sequence(ASN1_ITEM_rptr(PBE2PARAM), alg->parameter);
        if (pbe2 == NULL)
            return 0;
        int kdf = OBJ_obj2nid(pbe2->keyfunc->algorithm);
        if (kdf == NID_id_pbkdf2) {
            PBKDF2PARAM *pbkdf2 = ASN1_TYPE_unpack_sequence(ASN1_ITEM_rptr(PBKDF2PARAM),
                                                            pbe2->keyfunc->parameter);
            cost = pbkdf2 ? count_of(pbkdf2->iter, 0) : 0;
            PBKDF2PARAM_free(pbkdf2);
        } else if (kdf == NID_id_scrypt) {
            SCRYPT_PARAMS *scrypt = ASN1_TYPE_unpack_sequence(ASN1_ITEM_rptr(SCRYPT_PARAMS),
                                                              pbe2->keyfunc->parameter);
            if (scrypt != NULL)
                cost = saturating_mul(saturating_mul(count_of(scrypt->costParameter, 0),
                                                     count_of(scrypt->blockSize, 0)),
                                      count_of(scrypt->parallelizationParameter, 0));
            SCRYPT_PARAMS_free(scrypt);
        }
        PBE2PARAM_free(pbe2);
    } else if (EVP_PBE_find(EVP_PBE_TYPE_OUTER, nid, NULL, NULL, NULL)) {
        /* PKCS#12 PBE and PBES1 (pbeWithSHAAnd3-KeyTripleDES-CBC, pbeWithMD5AndDES-CBC...) */
        PBEPARAM *pbe = ASN1_TYPE_unpack_sequence(ASN1_ITEM_rptr(PBEPARAM), alg->parameter);
        cost = pbe ? count_of(pbe->iter, 1) : 0;
        PBEPARAM_free(pbe);
    }
    return cost;
}

/* Take cost from *budget: 0, or TB_TLS_E_TOO_COSTLY when the budget does not cover it. */
static int spend(long *budget, long cost)
{
    if (cost > *budget)
        return TB_TLS_E_TOO_COSTLY;
    *budget -= cost;
    return TB_OK;
}

/* The key-derivation cost of an encrypted PKCS#8 key in data (PEM or DER), or 0 when it
   holds none; read without decrypting anything. */
static long encrypted_key_cost(const unsigned char *data, size_t len, int pem)
{
    BIO *bio = tb_tls_bio_for(data, len);
    if (bio == NULL)
        return 0;
    ERR_set_mark();
    X509_SIG *p8 = pem ? PEM_read_bio_PKCS8(bio, NULL, NULL, NULL) : d2i_PKCS8_bio(bio, NULL);
    ERR_pop_to_mark();
    BIO_free(bio);
    long cost = 0;
    if (p8 != NULL) {
        const X509_ALGOR *alg;
        X509_SIG_get0(p8, &alg, NULL);
        cost = tb_tls_pbe_cost(alg);
        X509_SIG_free(p8);
    }
    return cost;
}

int tb_tls_pkey_load(const unsigned char *data, size_t len, int pem, const char *password,
                     EVP_PKEY **out)
{
    ERR_clear_error();
    if (len > TB_TLS_MAX_INPUT || (password != NULL && strlen(password) > TB_TLS_MAX_INPUT))
        return TB_TLS_E_TOO_LARGE;
    if (encrypted_key_cost(data, len, pem) > TB_TLS_MAX_ITERATIONS)
        return TB_TLS_E_TOO_COSTLY;
    tb_tls_password_source source = {password, 0};
    BIO *bio = tb_tls_bio_for(data, len);
    EVP_PKEY *key = NULL;

    if (bio == NULL)
        return TB_E_NOMEM;
    if (pem) {
        key = PEM_read_bio_PrivateKey(bio, NULL, tb_tls_password_cb, &source);
    } else {
        ERR_set_mark();
        key = d2i_PKCS8PrivateKey_bio(bio, NULL, tb_tls_password_cb, &source);
        if (key == NULL && !source.asked) {
            /* Not encrypted PKCS#8: any unencrypted DER private key. */
            ERR_pop_to_mark();
            BIO_free(bio);
            if ((bio = tb_tls_bio_for(data, len)) == NULL)
                return TB_E_NOMEM;
            key = d2i_PrivateKey_bio(bio, NULL);
        } else {
            ERR_clear_last_mark();
        }
    }
    BIO_free(bio);
    if (key == NULL) {
        if (!source.asked)
            return TB_TLS_E_DECODE; /* the decoders' "unsupported" means unrecognised */
        if (password == NULL)
            return TB_TLS_E_NEED_PASSWORD;
        if (tb_tls_queue_is_wrong_key())
            return TB_TLS_E_PASSWORD;
        return tb_tls_queue_is_unsupported() ? TB_TLS_E_UNSUPPORTED : TB_TLS_E_PASSWORD;
    }
    *out = key;
    return TB_OK;
}

int tb_tls_pkey_dump(EVP_PKEY *key, int pem, const char *cipher, const char *password,
                     tb_tls_buf **out)
{
    ERR_clear_error();
    EVP_CIPHER *enc = NULL;
    BIO *bio = NULL;
    int ok, rc;
    size_t pass_len = password ? strlen(password) : 0;

    if (pass_len > TB_TLS_MAX_INPUT)
        return TB_TLS_E_TOO_LARGE;
    if (cipher != NULL && (enc = EVP_CIPHER_fetch(NULL, cipher, NULL)) == NULL)
        return TB_E_ARG; /* no provider offers a cipher of that name */
    if ((bio = BIO_new(BIO_s_mem())) == NULL) {
        EVP_CIPHER_free(enc);
        return TB_E_NOMEM;
    }
    if (pem)
        ok = enc ? PEM_write_bio_PKCS8PrivateKey(bio, key, enc, password, (int)pass_len, NULL,
                                                 NULL)
                 : PEM_write_bio_PrivateKey(bio, key, NULL, NULL, 0, NULL, NULL);
    else
        ok = enc ? i2d_PKCS8PrivateKey_bio(bio, key, enc, password, (int)pass_len, NULL, NULL)
                 : i2d_PrivateKey_bio(bio, key);
    rc = ok ? tb_tls_buf_from_bio(bio, out) : TB_TLS_E_OPENSSL;
    BIO_free(bio);
    EVP_CIPHER_free(enc);
    return rc;
}

int tb_tls_pkey_public_pem(EVP_PKEY *key, tb_tls_buf **out)
{
    ERR_clear_error(); /* this call's reasons only */
    BIO *bio = BIO_new(BIO_s_mem());
    int rc;
    if (bio == NULL)
        return TB_E_NOMEM;
    rc = PEM_write_bio_PUBKEY(bio, key) ? tb_tls_buf_from_bio(bio, out) : TB_TLS_E_OPENSSL;
    BIO_free(bio);
    return rc;
}

/* ---------------------------------------------------------------- PKCS#12 */

typedef struct {
    tb_tls_p12 *p12;
    size_t cap;
    ASN1_OCTET_STRING **cert_ids; /* each certificate's localKeyID, or NULL */
    ASN1_OCTET_STRING *key_id;
    const char *password;
    int has_mac;
    int reader_certs; /* TB_TLS_P12_READER_CERTS */
    long budget; /* key-derivation iterations left (TB_TLS_MAX_ITERATIONS at the start) */
} p12_walk;

void tb_tls_p12_free(tb_tls_p12 *p12)
{
    if (p12 == NULL)
        return;
    EVP_PKEY_free(p12->key);
    for (size_t i = 0; i < p12->count; i++) {
        X509_free(p12->certs[i]);
        OPENSSL_free(p12->names[i]);
    }
    OPENSSL_free(p12->certs);
    OPENSSL_free(p12->names);
    OPENSSL_free(p12->key_name);
    OPENSSL_free(p12);
}

static ASN1_OCTET_STRING *bag_key_id(const PKCS12_SAFEBAG *bag)
{
    const ASN1_TYPE *attr = PKCS12_SAFEBAG_get0_attr(bag, NID_localKeyID);
    if (attr == NULL || attr->type != V_ASN1_OCTET_STRING)
        return NULL;
    return ASN1_OCTET_STRING_dup(attr->value.octet_string);
}

/*
 * A bag's friendlyName as UTF-8 (NULL when it has none), read from the BMPString as
 * UTF-16 (Windows and OpenSSL write characters past U+FFFF as surrogate pairs; a lone
 * surrogate reads as U+FFFD).  Not PKCS12_get_friendlyname(): OpenSSL 3.0's conversion
 * fails on a name whose last character takes three UTF-8 bytes ("中间" reads as none).
 */
static char *friendly_name(const PKCS12_SAFEBAG *bag)
{
    const ASN1_TYPE *attr = PKCS12_SAFEBAG_get0_attr(bag, NID_friendlyName);
    if (attr == NULL || attr->type != V_ASN1_BMPSTRING)
        return NULL;
    const unsigned char *bmp = attr->value.bmpstring->data;
    size_t units = (size_t)attr->value.bmpstring->length / 2;
    char *text = OPENSSL_malloc(units * 3 + 1), *out = text; /* 3 bytes a unit at most */
    if (text == NULL)
        return NULL;
    for (size_t i = 0; i < units; i++) {
        unsigned long c = (unsigned long)bmp[2 * i] << 8 | bmp[2 * i + 1];
        if (c >= 0xD800 && c < 0xDC00 && i + 1 < units) {
            unsigned long low = (unsigned long)bmp[2 * i + 2] << 8 | bmp[2 * i + 3];
            if (low >= 0xDC00 && low < 0xE000) {
                c = 0x10000 + ((c - 0xD800) << 10) + (low - 0xDC00);
                i++;
            }
        }
        if (c >= 0xD800 && c < 0xE000)
            c = 0xFFFD;
        if (c < 0x80) {
            *out++ = (char)c;
        } else if (c < 0x800) {
            *out++ = (char)(0xC0 | c >> 6);
            *out++ = (char)(0x80 | (c & 0x3F));
        } else if (c < 0x10000) {
            *out++ = (char)(0xE0 | c >> 12);
            *out++ = (char)(0x80 | (c >> 6 & 0x3F));
            *out++ = (char)(0x80 | (c & 0x3F));
        } else { /* a pair: 4 bytes for 2 units */
            *out++ = (char)(0xF0 | c >> 18);
            *out++ = (char)(0x80 | (c >> 12 & 0x3F));
            *out++ = (char)(0x80 | (c >> 6 & 0x3F));
            *out++ = (char)(0x80 | (c & 0x3F));
        }
    }
    *out = '\0';
    return text;
}

/* Step into the next DER element of [*p, *p + *len) if it has this tag and class, leaving
   *p, *len on its contents; 0 when it does not. */
static int der_enter(const unsigned char **p, long *len, int tag, int xclass)
{
    long inner;
    int got_tag, got_class;
    int ret = ASN1_get_object(p, &inner, &got_tag, &got_class, *len);
    if ((ret & 0x80) || ret == 0x21 || got_tag != tag || got_class != xclass)
        return 0;
    *len = inner;
    return 1;
}

/* Skip the next DER element (an OBJECT IDENTIFIER); 0 when it is something else. */
static int der_skip_oid(const unsigned char **p, long *len)
{
    const unsigned char *start = *p;
    long rest = *len;
    if (!der_enter(p, len, V_ASN1_OBJECT, V_ASN1_UNIVERSAL))
        return 0;
    *p += *len;
    *len = rest - (long)(*p - start);
    return 1;
}

/*
 * The certificate of a certBag as tb_tls_cert_read() parses it (PKCS12_SAFEBAG_get1_cert
 * has no library-context argument before OpenSSL 3.2): the bag's DER is walked to the
 * certificate, SafeBag ::= SEQUENCE { bagId, [0] EXPLICIT CertBag, attributes },
 * CertBag ::= SEQUENCE { certId, [0] EXPLICIT OCTET STRING (the certificate) }.
 */
static X509 *bag_reader_cert(const PKCS12_SAFEBAG *bag)
{
    unsigned char *der = NULL;
    int der_len = i2d_PKCS12_SAFEBAG(bag, &der);
    const unsigned char *p = der;
    long len = der_len;
    X509 *cert = NULL;
    if (der_len > 0 && der_enter(&p, &len, V_ASN1_SEQUENCE, V_ASN1_UNIVERSAL) &&
        der_skip_oid(&p, &len) && der_enter(&p, &len, 0, V_ASN1_CONTEXT_SPECIFIC) &&
        der_enter(&p, &len, V_ASN1_SEQUENCE, V_ASN1_UNIVERSAL) && der_skip_oid(&p, &len) &&
        der_enter(&p, &len, 0, V_ASN1_CONTEXT_SPECIFIC) &&
        der_enter(&p, &len, V_ASN1_OCTET_STRING, V_ASN1_UNIVERSAL))
        cert = tb_tls_cert_d2i(p, len, 1);
    OPENSSL_free(der);
    return cert;
}

static int walk_push_cert(p12_walk *walk, const PKCS12_SAFEBAG *bag)
{
    tb_tls_p12 *p12 = walk->p12;
    if (p12->count == walk->cap) {
        size_t cap = walk->cap ? walk->cap * 2 : 4;
        X509 **certs = OPENSSL_realloc(p12->certs, cap * sizeof(*certs));
        if (certs != NULL)
            p12->certs = certs;
        char **names = OPENSSL_realloc(p12->names, cap * sizeof(*names));
        if (names != NULL)
            p12->names = names;
        ASN1_OCTET_STRING **ids = OPENSSL_realloc(walk->cert_ids, cap * sizeof(*ids));
        if (ids != NULL)
            walk->cert_ids = ids;
        if (certs == NULL || names == NULL || ids == NULL)
            return TB_E_NOMEM;
        walk->cap = cap;
    }
    X509 *cert = walk->reader_certs ? bag_reader_cert(bag) : PKCS12_SAFEBAG_get1_cert(bag);
    if (cert == NULL)
        return TB_TLS_E_DECODE;
    p12->certs[p12->count] = cert;
    p12->names[p12->count] = friendly_name(bag);
    walk->cert_ids[p12->count] = bag_key_id(bag);
    p12->count++;
    return TB_OK;
}

/*
 * A decryption that failed: a missing algorithm, else the password.  With a MAC that the
 * password verified, TB_TLS_E_DECRYPT: the MAC authenticates the encrypted bytes, so they
 * are intact and the key derived for them is what differs (a file made with a second
 * password, or a non-ASCII password whose bytes differ from those the file was encrypted
 * with: the MAC reads a password as text, PBES2 encryption takes its bytes).
 */
static int decrypt_failure(const p12_walk *walk)
{
    int wrong = walk->has_mac ? TB_TLS_E_DECRYPT : TB_TLS_E_PASSWORD;
    if (tb_tls_queue_is_wrong_key())
        return wrong;
    return tb_tls_queue_is_unsupported() ? TB_TLS_E_UNSUPPORTED : wrong;
}

/* PKCS12_decrypt_skey(), deriving the key in tls_kdf.c where that applies. */
static PKCS8_PRIV_KEY_INFO *decrypt_key_bag(const p12_walk *walk, const PKCS12_SAFEBAG *bag)
{
    const X509_ALGOR *alg;
    const ASN1_OCTET_STRING *data;
    unsigned char *plain = NULL;
    int plain_len = 0;
    X509_SIG_get0(PKCS12_SAFEBAG_get0_pkcs8(bag), &alg, &data);
    int rc = tb_tls_pbes2_decrypt(alg, walk->password, data->data, data->length, &plain,
                                  &plain_len);
    if (rc == TB_TLS_PBES2_OTHER)
        return PKCS12_decrypt_skey(bag, walk->password, -1);
    if (rc != TB_OK)
        return NULL;
    const unsigned char *p = plain;
    PKCS8_PRIV_KEY_INFO *p8 = d2i_PKCS8_PRIV_KEY_INFO(NULL, &p, plain_len);
    OPENSSL_clear_free(plain, (size_t)plain_len);
    return p8;
}

/* PKCS12_unpack_p7encdata(), deriving the key in tls_kdf.c where that applies. */
static STACK_OF(PKCS12_SAFEBAG) *decrypt_safe(const p12_walk *walk, PKCS7 *safe)
{
    const PKCS7_ENC_CONTENT *content = safe->d.encrypted->enc_data;
    unsigned char *plain = NULL;
    int plain_len = 0;
    int rc = content->enc_data == NULL ? TB_TLS_PBES2_OTHER
             : tb_tls_pbes2_decrypt(content->algorithm, walk->password,
                                    content->enc_data->data, content->enc_data->length,
                                    &plain, &plain_len);
    if (rc == TB_TLS_PBES2_OTHER)
        return PKCS12_unpack_p7encdata(safe, walk->password, -1);
    if (rc != TB_OK)
        return NULL;
    const unsigned char *p = plain;
    STACK_OF(PKCS12_SAFEBAG) *bags = (STACK_OF(PKCS12_SAFEBAG) *)ASN1_item_d2i(
        NULL, &p, plain_len, ASN1_ITEM_rptr(PKCS12_SAFEBAGS));
    OPENSSL_clear_free(plain, (size_t)plain_len);
    return bags;
}

static int walk_bags(p12_walk *walk, const STACK_OF(PKCS12_SAFEBAG) *bags, int depth)
{
    int rc = TB_OK;
    for (int i = 0; rc == TB_OK && i < sk_PKCS12_SAFEBAG_num(bags); i++) {
        const PKCS12_SAFEBAG *bag = sk_PKCS12_SAFEBAG_value(bags, i);
        PKCS8_PRIV_KEY_INFO *p8 = NULL;
        switch (PKCS12_SAFEBAG_get_nid(bag)) {
        case NID_keyBag:
        case NID_pkcs8ShroudedKeyBag:
            if (walk->p12->key != NULL)
                break; /* like PKCS12_parse(): the first key wins */
            if (PKCS12_SAFEBAG_get_nid(bag) == NID_keyBag) {
                walk->p12->key = tb_tls_p8_to_pkey(PKCS12_SAFEBAG_get0_p8inf(bag));
            } else {
                const X509_ALGOR *alg;
                X509_SIG_get0(PKCS12_SAFEBAG_get0_pkcs8(bag), &alg, NULL);
                if (spend(&walk->budget, tb_tls_pbe_cost(alg)) != TB_OK)
                    return TB_TLS_E_TOO_COSTLY;
                p8 = decrypt_key_bag(walk, bag);
                if (p8 == NULL)
                    return decrypt_failure(walk);
                walk->p12->key = tb_tls_p8_to_pkey(p8);
                PKCS8_PRIV_KEY_INFO_free(p8);
            }
            if (walk->p12->key == NULL)
                return tb_tls_queue_is_unsupported() ? TB_TLS_E_UNSUPPORTED : TB_TLS_E_DECODE;
            walk->p12->key_name = friendly_name(bag);
            walk->key_id = bag_key_id(bag);
            break;
        case NID_certBag:
            if (PKCS12_SAFEBAG_get_bag_nid(bag) == NID_x509Certificate)
                rc = walk_push_cert(walk, bag);
            break;
        case NID_safeContentsBag:
            if (depth >= TB_TLS_P12_MAX_DEPTH)
                return TB_TLS_E_DECODE;
            rc = walk_bags(walk, PKCS12_SAFEBAG_get0_safes(bag), depth + 1);
            break;
        default:
            break; /* CRL and secret bags are not ours to return */
        }
    }
    return rc;
}

static int walk_safes(p12_walk *walk, PKCS12 *p12)
{
    STACK_OF(PKCS7) *safes = PKCS12_unpack_authsafes(p12);
    int rc = TB_OK;
    if (safes == NULL)
        return TB_TLS_E_NOT_PKCS12;
    for (int i = 0; rc == TB_OK && i < sk_PKCS7_num(safes); i++) {
        PKCS7 *safe = sk_PKCS7_value(safes, i);
        STACK_OF(PKCS12_SAFEBAG) *bags = NULL;
        int nid = OBJ_obj2nid(safe->type);
        if (nid == NID_pkcs7_data) {
            bags = PKCS12_unpack_p7data(safe);
        } else if (nid == NID_pkcs7_encrypted) {
            if (safe->d.encrypted == NULL || safe->d.encrypted->enc_data == NULL) {
                rc = TB_TLS_E_DECODE;
                break;
            }
            if ((rc = spend(&walk->budget,
                            tb_tls_pbe_cost(safe->d.encrypted->enc_data->algorithm))) != TB_OK)
                break;
            bags = decrypt_safe(walk, safe);
        } else {
            continue; /* public-key enveloped safes need a recipient key */
        }
        if (bags == NULL) {
            rc = nid == NID_pkcs7_encrypted ? decrypt_failure(walk) : TB_TLS_E_DECODE;
            break;
        }
        rc = walk_bags(walk, bags, 0);
        sk_PKCS12_SAFEBAG_pop_free(bags, PKCS12_SAFEBAG_free);
    }
    sk_PKCS7_pop_free(safes, PKCS7_free);
    return rc;
}

/* The certificate the key belongs to: same localKeyID, else the public key matches. */
static void match_key(p12_walk *walk)
{
    tb_tls_p12 *p12 = walk->p12;
    p12->main_index = -1;
    if (p12->key == NULL)
        return;
    for (size_t i = 0; walk->key_id != NULL && i < p12->count; i++) {
        if (walk->cert_ids[i] != NULL &&
            ASN1_OCTET_STRING_cmp(walk->cert_ids[i], walk->key_id) == 0) {
            p12->main_index = (long)i;
            return;
        }
    }
    for (size_t i = 0; i < p12->count; i++) {
        ERR_set_mark();
        X509 *full = walk->reader_certs ? tb_tls_cert_upgrade(p12->certs[i]) : p12->certs[i];
        int match = full != NULL && X509_check_private_key(full, p12->key);
        if (full != p12->certs[i])
            X509_free(full);
        ERR_pop_to_mark();
        if (match == 1) {
            p12->main_index = (long)i;
            return;
        }
    }
}

/* A MAC that did not verify: a missing algorithm, else the password (said on the queue,
   as PKCS12_parse says it, since PKCS12_verify_mac leaves a plain mismatch unsaid). */
static int mac_failure(void)
{
    if (tb_tls_queue_is_unsupported())
        return TB_TLS_E_UNSUPPORTED;
    ERR_raise(ERR_LIB_PKCS12, PKCS12_R_MAC_VERIFY_FAILURE);
    return TB_TLS_E_PASSWORD;
}

/*
 * The authSafe's data octets in the file's DER, for the MAC: PFX ::= SEQUENCE { version,
 * authSafe ContentInfo ::= SEQUENCE { contentType id-data, [0] EXPLICIT OCTET STRING },
 * macData }.  0 for anything laid out otherwise (BER's constructed strings, signed
 * authSafes): OpenSSL's own MAC check then.
 */
static int authsafe_data(const unsigned char *der, size_t der_len, const unsigned char **data,
                         size_t *data_len)
{
    static const unsigned char id_data[] = {0x06, 0x09, 0x2a, 0x86, 0x48, 0x86, 0xf7,
                                            0x0d, 0x01, 0x07, 0x01};
    const unsigned char *p = der;
    long len = (long)der_len, inner;
    int tag, xclass;
    if (!der_enter(&p, &len, V_ASN1_SEQUENCE, V_ASN1_UNIVERSAL))
        return 0;
    const unsigned char *version = p;
    if ((ASN1_get_object(&p, &inner, &tag, &xclass, len) & 0x80) || tag != V_ASN1_INTEGER)
        return 0;
    p += inner;
    len -= (long)(p - version);
    if (!der_enter(&p, &len, V_ASN1_SEQUENCE, V_ASN1_UNIVERSAL) ||
        len < (long)sizeof(id_data) || memcmp(p, id_data, sizeof(id_data)) != 0)
        return 0;
    p += sizeof(id_data);
    len -= (long)sizeof(id_data);
    if (!der_enter(&p, &len, 0, V_ASN1_CONTEXT_SPECIFIC))
        return 0;
    int ret = ASN1_get_object(&p, &inner, &tag, &xclass, len);
    if ((ret & 0x80) || (ret & V_ASN1_CONSTRUCTED) || tag != V_ASN1_OCTET_STRING ||
        xclass != V_ASN1_UNIVERSAL)
        return 0;
    *data = p;
    *data_len = (size_t)inner;
    return 1;
}

/* PKCS12_verify_mac(), the SHA-256 case in tls_kdf.c. */
static int mac_verifies(PKCS12 *p12, const unsigned char *der, size_t der_len,
                        const char *password)
{
    const unsigned char *content;
    size_t content_len;
    int verified = 0;
    if (authsafe_data(der, der_len, &content, &content_len) &&
        tb_tls_p12_mac_sha256(p12, content, content_len, password, &verified) == TB_OK)
        return verified;
    return PKCS12_verify_mac(p12, password, password == NULL ? 0 : -1);
}

/* Check the MAC and settle which empty password (NULL or "") the file was made with. */
static int check_mac(PKCS12 *p12, const unsigned char *der, size_t der_len,
                     const char **password, long *budget)
{
    const ASN1_INTEGER *iterations = NULL;
    PKCS12_get0_mac(NULL, NULL, NULL, &iterations, p12);
    long cost = count_of(iterations, 1);
    /* The empty password may be tried twice. */
    if (spend(budget, *password == NULL || **password == '\0' ? saturating_mul(cost, 2)
                                                                 : cost) != TB_OK)
        return TB_TLS_E_TOO_COSTLY;
    if (*password == NULL || **password == '\0') {
        if (mac_verifies(p12, der, der_len, NULL)) {
            *password = NULL;
        } else if (mac_verifies(p12, der, der_len, "")) {
            *password = "";
        } else {
            return mac_failure();
        }
    } else if (!mac_verifies(p12, der, der_len, *password)) {
        return mac_failure();
    }
    ERR_clear_error(); /* a failed first try of the empty password is not an error */
    return TB_OK;
}

static int p12_parse_once(const unsigned char *data, size_t len, const char *password,
                          int flags, tb_tls_p12 **out)
{
    const unsigned char *cursor = data;
    p12_walk walk = {0};
    int rc;

    if (len > TB_TLS_MAX_INPUT || (password != NULL && strlen(password) > TB_TLS_MAX_INPUT))
        return TB_TLS_E_TOO_LARGE;
    PKCS12 *p12 = d2i_PKCS12(NULL, &cursor, (long)len);
    if (p12 == NULL)
        return TB_TLS_E_NOT_PKCS12;
    walk.has_mac = PKCS12_mac_present(p12);
    walk.reader_certs = (flags & TB_TLS_P12_READER_CERTS) != 0;
    walk.budget = TB_TLS_MAX_ITERATIONS;
    if (!walk.has_mac) {
        rc = (flags & TB_TLS_P12_ALLOW_NO_MAC) ? TB_OK : TB_TLS_E_NO_MAC;
        if (password != NULL && *password == '\0')
            password = NULL;
    } else {
        rc = check_mac(p12, data, len, &password, &walk.budget);
    }
    if (rc != TB_OK) {
        PKCS12_free(p12);
        return rc;
    }
    walk.password = password;
    if ((walk.p12 = OPENSSL_zalloc(sizeof(tb_tls_p12))) == NULL) {
        PKCS12_free(p12);
        return TB_E_NOMEM;
    }
    walk.p12->has_mac = walk.has_mac;
    rc = walk_safes(&walk, p12);
    if (rc == TB_OK)
        match_key(&walk);
    for (size_t i = 0; i < walk.p12->count; i++)
        ASN1_OCTET_STRING_free(walk.cert_ids[i]);
    OPENSSL_free(walk.cert_ids);
    ASN1_OCTET_STRING_free(walk.key_id);
    PKCS12_free(p12);
    if (rc != TB_OK) {
        tb_tls_p12_free(walk.p12);
        return rc;
    }
    *out = walk.p12;
    return TB_OK;
}

int tb_tls_p12_parse(const unsigned char *data, size_t len, const char *password, int flags,
                     tb_tls_p12 **out)
{
    ERR_clear_error();
    int rc = tb_tls_init();
    if (rc != TB_OK)
        return rc;
    int had_legacy = tb_tls_legacy_loaded();
    rc = p12_parse_once(data, len, password, flags, out);
    if (rc == TB_TLS_E_UNSUPPORTED && !had_legacy) {
        /* RC2, RC4, DES: load the legacy provider (beside the default) and try again. */
        ERR_clear_error();
        rc = tb_tls_load_legacy();
        if (rc == TB_OK)
            rc = p12_parse_once(data, len, password, flags, out);
    }
    return rc;
}
