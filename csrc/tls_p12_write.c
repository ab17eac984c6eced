/*
 * tls_p12_write.c: PKCS#12 files written for tightbind/tls/pkcs12.py (create_pkcs12) and
 * the pyOpenSSL face's PKCS12.export: a key and certificates with friendlyNames, each
 * bag encrypted as the caller chose (OpenSSL 3's AES-256-CBC, or the legacy 3DES and
 * RC2-40 older Windows and macOS read), and a MAC.  Reading them is tls_pkcs12.c.
 */
#include <limits.h>
#include <string.h>

#include "tls_internal.h"

/* ---------------------------------------------------------------- writing PKCS#12 */

/*
 * A friendlyName: UTF-8 text as a UTF-16 BMPString (characters past U+FFFF as surrogate
 * pairs, as Windows writes them and friendly_name() reads them), else (bytes that are not
 * UTF-8) one character a byte, as PKCS12_create() writes every name.  Not
 * PKCS12_add_friendlyname_utf8(): OpenSSL 3.0 refuses characters past U+FFFF there.
 */
static int add_friendly_name(PKCS12_SAFEBAG *bag, const char *name)
{
    if (name == NULL)
        return 1;
    size_t len = strlen(name);
    if (len > INT_MAX / 4)
        return 0;
    unsigned char *bmp = OPENSSL_malloc(len * 2 + 2);
    size_t used = 0;
    int ok;
    if (bmp == NULL)
        return 0;
    for (size_t i = 0; i < len;) {
        unsigned long c;
        int n = UTF8_getc((const unsigned char *)name + i, (int)(len - i), &c);
        if (n <= 0 || c > 0x10FFFF || (c >= 0xD800 && c < 0xE000)) {
            used = (size_t)-1; /* not UTF-8 */
            break;
        }
        i += (size_t)n;
        if (c >= 0x10000) {
            unsigned long high = 0xD800 + ((c - 0x10000) >> 10);
            bmp[used++] = (unsigned char)(high >> 8);
            bmp[used++] = (unsigned char)high;
            c = 0xDC00 + ((c - 0x10000) & 0x3FF);
        }
        bmp[used++] = (unsigned char)(c >> 8);
        bmp[used++] = (unsigned char)c;
    }
    if (used == (size_t)-1)
        ok = PKCS12_add_friendlyname_asc(bag, name, -1);
    else
        ok = PKCS12_add_friendlyname_uni(bag, bmp, (int)used);
    OPENSSL_free(bmp);
    return ok;
}

/* The PBE algorithms (OpenSSL nids) for the key bag and the certificate safe; a cipher's
   nid means PBES2 with PBKDF2 (HMAC-SHA-256), as PKCS12_create() takes it. */
static int p12_algorithms(int encryption, int *key_nid, int *cert_nid)
{
    switch (encryption) {
    case TB_TLS_P12_AES_256_CBC:
        *key_nid = *cert_nid = NID_aes_256_cbc;
        return TB_OK;
    case TB_TLS_P12_3DES:
        *key_nid = *cert_nid = NID_pbe_WithSHA1And3_Key_TripleDES_CBC;
        return TB_OK;
    case TB_TLS_P12_RC2_40:
        *key_nid = NID_pbe_WithSHA1And3_Key_TripleDES_CBC;
        *cert_nid = NID_pbe_WithSHA1And40BitRC2_CBC;
        return tb_tls_load_legacy(); /* RC2 lives in the legacy provider */
    default:
        return TB_E_ARG;
    }
}

/*
 * The file PKCS12_create() makes (the certificate, then the CA certificates, in one
 * encrypted safe; the shrouded key in a plain one; the certificate and key sharing a
 * localKeyID and `name`), with a friendlyName on each CA certificate that has one and
 * the MAC as asked.
 */
static PKCS12 *p12_build(EVP_PKEY *key, X509 *cert, const char *name, X509 **cas,
                         const char **ca_names, size_t ca_count, const char *password,
                         int key_nid, int cert_nid, int iterations)
{
    STACK_OF(PKCS12_SAFEBAG) *bags = NULL;
    STACK_OF(PKCS7) *safes = NULL;
    PKCS12_SAFEBAG *bag;
    PKCS12 *p12 = NULL;
    unsigned char key_id[EVP_MAX_MD_SIZE];
    unsigned int key_id_len = 0;

    if (key == NULL && cert == NULL && ca_count == 0) {
        ERR_raise(ERR_LIB_PKCS12, PKCS12_R_INVALID_NULL_ARGUMENT);
        return NULL;
    }
    if (key != NULL && cert != NULL &&
        (!X509_check_private_key(cert, key) || !X509_digest(cert, EVP_sha1(), key_id, &key_id_len)))
        return NULL;
    if (cert != NULL) {
        if ((bag = PKCS12_add_cert(&bags, cert)) == NULL || !add_friendly_name(bag, name) ||
            (key_id_len && !PKCS12_add_localkeyid(bag, key_id, (int)key_id_len)))
            goto done;
    }
    for (size_t i = 0; i < ca_count; i++) {
        if ((bag = PKCS12_add_cert(&bags, cas[i])) == NULL ||
            !add_friendly_name(bag, ca_names != NULL ? ca_names[i] : NULL))
            goto done;
    }
    if (bags != NULL && !PKCS12_add_safe(&safes, bags, cert_nid, iterations, password))
        goto done;
    sk_PKCS12_SAFEBAG_pop_free(bags, PKCS12_SAFEBAG_free);
    bags = NULL;
    if (key != NULL) {
        if ((bag = PKCS12_add_key(&bags, key, 0, iterations, key_nid, password)) == NULL ||
            !add_friendly_name(bag, name) ||
            (key_id_len && !PKCS12_add_localkeyid(bag, key_id, (int)key_id_len)) ||
            !PKCS12_add_safe(&safes, bags, -1, 0, NULL))
            goto done;
    }
    p12 = PKCS12_add_safes(safes, 0);
done:
    sk_PKCS12_SAFEBAG_pop_free(bags, PKCS12_SAFEBAG_free);
    sk_PKCS7_pop_free(safes, PKCS7_free);
    return p12;
}

int tb_tls_p12_write(EVP_PKEY *key, X509 *cert, const char *name, X509 **cas,
                     const char **ca_names, size_t ca_count, const char *password,
                     int encryption, int iterations, const char *mac_digest,
                     int mac_iterations, tb_tls_buf **out)
{
    ERR_clear_error();
    const EVP_MD *md = NULL;
    PKCS12 *p12 = NULL;
    BIO *bio = NULL;
    int key_nid, cert_nid;
    int rc = tb_tls_init();

    if (rc != TB_OK)
        return rc;
    if (password != NULL && strlen(password) > TB_TLS_MAX_INPUT)
        return TB_TLS_E_TOO_LARGE;
    if (iterations < 1 || (mac_digest != NULL && mac_iterations < 1) || ca_count > INT_MAX)
        return TB_E_ARG;
    if (mac_digest != NULL && (md = EVP_get_digestbyname(mac_digest)) == NULL)
        return TB_E_ARG;
    if ((rc = p12_algorithms(encryption, &key_nid, &cert_nid)) != TB_OK)
        return rc;
    if (key != NULL && cert != NULL && !X509_check_private_key(cert, key))
        return TB_TLS_E_KEY_MISMATCH;
    p12 = p12_build(key, cert, name, cas, ca_names, ca_count, password, key_nid, cert_nid,
                    iterations);
    if (p12 == NULL || (md != NULL && !PKCS12_set_mac(p12, password, -1, NULL, 0,
                                                      mac_iterations, md))) {
        rc = tb_tls_queue_is_unsupported() ? TB_TLS_E_UNSUPPORTED : TB_TLS_E_OPENSSL;
        goto done;
    }
    if ((bio = BIO_new(BIO_s_mem())) == NULL) {
        rc = TB_E_NOMEM;
        goto done;
    }
    rc = i2d_PKCS12_bio(bio, p12) ? tb_tls_buf_from_bio(bio, out) : TB_TLS_E_OPENSSL;
done:
    BIO_free(bio);
    PKCS12_free(p12);
    return rc;
}
