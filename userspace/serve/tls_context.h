// The OpenSSL server context of --web.config.file's tls_server_config:
// certificate chain and key, optionally the CA that client certificates
// must chain to. Loaded once at start (before privileges are dropped).
#pragma once

#include <memory>
#include <string>

#include "web_config.h"

typedef struct ssl_ctx_st SSL_CTX;

namespace tcpscope {

class TlsContext {
public:
    // Null with *error in words (which file, what OpenSSL said).
    static std::unique_ptr<TlsContext> create(const TlsSettings& settings, std::string* error);
    ~TlsContext();
    TlsContext(const TlsContext&) = delete;
    TlsContext& operator=(const TlsContext&) = delete;

    SSL_CTX* get() const { return ctx_; }

private:
    explicit TlsContext(SSL_CTX* ctx) : ctx_(ctx) {}
    SSL_CTX* ctx_;
};

}  // namespace tcpscope
