// HTTP basic authentication against bcrypt hashes (the exporter-toolkit's
// basic_auth_users), verified by libxcrypt's crypt_rn.
#pragma once

#include <map>
#include <mutex>
#include <string>

namespace tcpscope {

// A bcrypt hash ($2a$, $2b$ or $2y$, 60 characters) that this libcrypt can
// verify against. False with *why in words.
bool is_usable_bcrypt_hash(const std::string& hash, std::string* why);

class BasicAuth {
public:
    explicit BasicAuth(std::map<std::string, std::string> users);

    bool enabled() const { return !users_.empty(); }
    // The request's Authorization header value ("Basic base64(user:pass)").
    // An unknown user costs a bcrypt run too, so that the time taken does
    // not tell which users exist.
    bool allows(const std::string& authorization) const;

private:
    std::map<std::string, std::string> users_;  // user -> bcrypt hash
    // user -> the password last verified for it: bcrypt costs tens of
    // milliseconds by design, and Prometheus sends the same credentials at
    // every scrape (the exporter-toolkit caches the same way).
    mutable std::mutex cache_mutex_;
    mutable std::map<std::string, std::string> verified_;
};

}  // namespace tcpscope
