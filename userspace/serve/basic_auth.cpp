#include "basic_auth.h"

#include <crypt.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>

#include <algorithm>
#include <cctype>
#include <memory>
#include <vector>

namespace tcpscope {
namespace {

// A valid hash for no user: unknown users are checked against it.
constexpr const char* kDecoyHash = "$2b$10$012345678901234567890u9H5JUZk5UJiu7LVlfrgx0JP2PkblN0e";

// Constant-time on equal lengths; lengths are not secret (bcrypt: 60).
bool same(const std::string& a, const std::string& b) {
    return a.size() == b.size() && CRYPTO_memcmp(a.data(), b.data(), a.size()) == 0;
}

// crypt_rn's output for `password` with `hash` as the setting, or "".
std::string bcrypt(const std::string& password, const std::string& hash) {
    auto data = std::make_unique<crypt_data>();  // ~32 KiB: not on a thread's stack
    const char* out = crypt_rn(password.c_str(), hash.c_str(), data.get(), sizeof(crypt_data));
    return out && out[0] != '*' ? std::string(out) : std::string();
}

bool decode_base64(const std::string& in, std::string* out) {
    if (in.empty() || in.size() % 4 != 0 || in.size() > 4096) return false;
    std::vector<unsigned char> buf(in.size() / 4 * 3 + 1);
    int n = EVP_DecodeBlock(buf.data(), reinterpret_cast<const unsigned char*>(in.data()),
                            static_cast<int>(in.size()));
    if (n < 0) return false;
    // EVP_DecodeBlock counts the padding's bytes as zeros.
    size_t pad = (in[in.size() - 1] == '=') + (in[in.size() - 2] == '=');
    out->assign(reinterpret_cast<char*>(buf.data()), static_cast<size_t>(n) - pad);
    return true;
}

}  // namespace

bool is_usable_bcrypt_hash(const std::string& hash, std::string* why) {
    bool prefix = hash.rfind("$2a$", 0) == 0 || hash.rfind("$2b$", 0) == 0 || hash.rfind("$2y$", 0) == 0;
    if (!prefix || hash.size() != 60) {
        *why = "not a bcrypt hash ($2a$, $2b$ or $2y$ and 60 characters; make one with "
               "`htpasswd -nBC 10 USER`)";
        return false;
    }
    if (bcrypt("", hash).size() != 60) {
        *why = "this system's libcrypt cannot verify that bcrypt hash";
        return false;
    }
    return true;
}

BasicAuth::BasicAuth(std::map<std::string, std::string> users) : users_(std::move(users)) {}

bool BasicAuth::allows(const std::string& authorization) const {
    const std::string scheme = "Basic ";
    if (authorization.size() <= scheme.size() ||
        !std::equal(scheme.begin(), scheme.end(), authorization.begin(),
                    [](char a, char b) { return std::tolower(a) == std::tolower(b); })) {
        return false;
    }
    std::string decoded;
    if (!decode_base64(authorization.substr(scheme.size()), &decoded)) return false;
    auto colon = decoded.find(':');
    if (colon == std::string::npos) return false;
    const std::string user = decoded.substr(0, colon);
    const std::string password = decoded.substr(colon + 1);
    auto it = users_.find(user);
    const std::string& hash = it == users_.end() ? std::string(kDecoyHash) : it->second;
    if (it != users_.end()) {
        std::lock_guard<std::mutex> lock(cache_mutex_);
        auto v = verified_.find(user);
        if (v != verified_.end() && same(v->second, password)) return true;
    }
    bool match = same(bcrypt(password, hash), hash);
    if (!match || it == users_.end()) return false;
    std::lock_guard<std::mutex> lock(cache_mutex_);
    verified_[user] = password;
    return true;
}

}  // namespace tcpscope
