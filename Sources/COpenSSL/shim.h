#ifndef C_OPENSSL_SHIM_H
#define C_OPENSSL_SHIM_H
// OpenSSL 3 for LoopTLS. Swift cannot call OpenSSL's function-like macros (they expand
// to *_ctrl calls) or variadic functions, so the few LoopTLS needs are wrapped here as
// static inline functions with the macro's name prefixed by `cloop_`.
#include <openssl/ssl.h>
#include <openssl/err.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>
#include <openssl/pem.h>
#include <openssl/evp.h>
#include <openssl/bio.h>
#include <openssl/asn1.h>
#include <openssl/rand.h>

static inline unsigned long cloop_XN_FLAG_RFC2253(void) { return XN_FLAG_RFC2253; }

static inline long cloop_SSL_CTX_set_min_proto_version(SSL_CTX *ctx, int version) {
    return SSL_CTX_set_min_proto_version(ctx, version);
}
static inline long cloop_SSL_CTX_set_max_proto_version(SSL_CTX *ctx, int version) {
    return SSL_CTX_set_max_proto_version(ctx, version);
}
static inline long cloop_SSL_set_tlsext_host_name(SSL *ssl, const char *name) {
    return SSL_set_tlsext_host_name(ssl, name);
}
static inline long cloop_SSL_CTX_set_tlsext_servername_callback(SSL_CTX *ctx, int (*cb)(SSL *, int *, void *)) {
    return SSL_CTX_set_tlsext_servername_callback(ctx, cb);
}
static inline long cloop_SSL_CTX_set_tlsext_servername_arg(SSL_CTX *ctx, void *arg) {
    return SSL_CTX_set_tlsext_servername_arg(ctx, arg);
}
static inline long cloop_SSL_CTX_add1_chain_cert(SSL_CTX *ctx, X509 *cert) {
    return SSL_CTX_add1_chain_cert(ctx, cert);
}
static inline long cloop_SSL_CTX_set_mode(SSL_CTX *ctx, long mode) {
    return SSL_CTX_set_mode(ctx, mode);
}
static inline long cloop_SSL_CTX_set_session_cache_mode(SSL_CTX *ctx, long mode) {
    return SSL_CTX_set_session_cache_mode(ctx, mode);
}
static inline long cloop_SSL_get_extms_support(SSL *ssl) { return SSL_get_extms_support(ssl); }
static inline long cloop_BIO_set_mem_eof_return(BIO *bio, long value) { return BIO_set_mem_eof_return(bio, value); }
static inline size_t cloop_BIO_pending(BIO *bio) { return BIO_ctrl_pending(bio); }
static inline int cloop_SSL_session_reused(SSL *ssl) { return (int)SSL_session_reused(ssl); }

// The option and mode bits, which OpenSSL 3 defines through SSL_OP_BIT().
static inline uint64_t cloop_SSL_OP_NO_RENEGOTIATION(void) { return SSL_OP_NO_RENEGOTIATION; }
static inline uint64_t cloop_SSL_OP_NO_COMPRESSION(void) { return SSL_OP_NO_COMPRESSION; }
static inline uint64_t cloop_SSL_OP_CIPHER_SERVER_PREFERENCE(void) { return SSL_OP_CIPHER_SERVER_PREFERENCE; }
static inline uint64_t cloop_SSL_OP_NO_TICKET(void) { return SSL_OP_NO_TICKET; }
static inline uint64_t cloop_SSL_OP_IGNORE_UNEXPECTED_EOF(void) { return SSL_OP_IGNORE_UNEXPECTED_EOF; }
static inline long cloop_SSL_MODE_PARTIAL_AND_MOVING(void) {
    return SSL_MODE_ENABLE_PARTIAL_WRITE | SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER | SSL_MODE_RELEASE_BUFFERS;
}

// EVP_EC_gen is a macro over a variadic function.
static inline EVP_PKEY *cloop_EVP_EC_gen_P256(void) { return EVP_EC_gen("P-256"); }

// The passphrase callback for encrypted PEM keys: `userdata` is a NUL-terminated
// password, or NULL to fail at once instead of prompting on a terminal.
static inline int cloop_pem_password_cb(char *buf, int size, int rwflag, void *userdata) {
    (void)rwflag;
    if (userdata == NULL || size <= 0) return -1;
    const char *password = (const char *)userdata;
    int length = 0;
    while (password[length] != 0 && length < size) length++;
    if (length >= size) return -1;
    for (int i = 0; i < length; i++) buf[i] = password[i];
    return length;
}
static inline pem_password_cb *cloop_pem_password_callback(void) { return cloop_pem_password_cb; }

// X509V3_set_ctx_nodb is a macro.
static inline void cloop_X509V3_set_ctx_nodb(X509V3_CTX *ctx) { X509V3_set_ctx_nodb(ctx); }

// ERR_GET_LIB / ERR_GET_REASON are inline or macros depending on the build.
static inline int cloop_ERR_GET_REASON(unsigned long e) { return ERR_GET_REASON(e); }
static inline int cloop_ERR_GET_LIB(unsigned long e) { return ERR_GET_LIB(e); }
#endif
