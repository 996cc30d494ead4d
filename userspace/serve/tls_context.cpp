#include "tls_context.h"

#include <openssl/err.h>
#include <openssl/ssl.h>

#include <cerrno>
#include <cstdio>
#include <cstring>

namespace tcpscope {
namespace {

std::string openssl_error() {
    unsigned long e = ERR_get_error();
    ERR_clear_error();
    if (e == 0) return "unknown OpenSSL error";
    char buf[256];
    ERR_error_string_n(e, buf, sizeof(buf));
    return buf;
}

// The usual mistake (a path or permission) said plainly, before OpenSSL
// says it in its own words.
bool readable(const std::string& key, const std::string& path, std::string* error) {
    FILE* f = std::fopen(path.c_str(), "r");
    if (!f) {
        *error = "tls_server_config." + key + ": cannot read " + path + ": " + std::strerror(errno);
        return false;
    }
    std::fclose(f);
    return true;
}

}  // namespace

std::unique_ptr<TlsContext> TlsContext::create(const TlsSettings& s, std::string* error) {
    if (!readable("cert_file", s.cert_file, error) || !readable("key_file", s.key_file, error) ||
        (!s.client_ca_file.empty() && !readable("client_ca_file", s.client_ca_file, error))) {
        return nullptr;
    }
    SSL_CTX* ctx = SSL_CTX_new(TLS_server_method());
    if (!ctx) {
        *error = "TLS: " + openssl_error();
        return nullptr;
    }
    std::unique_ptr<TlsContext> out(new TlsContext(ctx));
    // The exporter-toolkit's default floor.
    SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION);
    SSL_CTX_set_options(ctx, SSL_OP_NO_COMPRESSION | SSL_OP_NO_RENEGOTIATION);
    SSL_CTX_set_mode(ctx, SSL_MODE_ENABLE_PARTIAL_WRITE | SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER);
    if (SSL_CTX_use_certificate_chain_file(ctx, s.cert_file.c_str()) != 1) {
        *error = "tls_server_config.cert_file " + s.cert_file + ": " + openssl_error();
        return nullptr;
    }
    if (SSL_CTX_use_PrivateKey_file(ctx, s.key_file.c_str(), SSL_FILETYPE_PEM) != 1) {
        *error = "tls_server_config.key_file " + s.key_file + ": " + openssl_error();
        return nullptr;
    }
    if (SSL_CTX_check_private_key(ctx) != 1) {
        *error = "tls_server_config: key_file does not match cert_file: " + openssl_error();
        return nullptr;
    }
    if (!s.client_ca_file.empty()) {
        if (SSL_CTX_load_verify_locations(ctx, s.client_ca_file.c_str(), nullptr) != 1) {
            *error = "tls_server_config.client_ca_file " + s.client_ca_file + ": " + openssl_error();
            return nullptr;
        }
        STACK_OF(X509_NAME)* names = SSL_load_client_CA_file(s.client_ca_file.c_str());
        if (names) SSL_CTX_set_client_CA_list(ctx, names);
    }
    switch (s.client_auth) {
        case ClientAuth::kNone: SSL_CTX_set_verify(ctx, SSL_VERIFY_NONE, nullptr); break;
        case ClientAuth::kVerifyIfGiven: SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER, nullptr); break;
        case ClientAuth::kRequireAndVerify:
            SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER | SSL_VERIFY_FAIL_IF_NO_PEER_CERT, nullptr);
            break;
    }
    return out;
}

TlsContext::~TlsContext() { SSL_CTX_free(ctx_); }

}  // namespace tcpscope
