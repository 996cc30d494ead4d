#include "web_config.h"

#include <yaml-cpp/yaml.h>

#include <fstream>
#include <set>
#include <sstream>

#include "basic_auth.h"

namespace tcpscope {
namespace {

std::string folder_of(const std::string& path) {
    auto slash = path.rfind('/');
    return slash == std::string::npos ? "." : path.substr(0, slash == 0 ? 1 : slash);
}

std::string resolve(const std::string& folder, const std::string& path) {
    return path.empty() || path[0] == '/' ? path : folder + "/" + path;
}

// Every key of `node` must be one of `known`; the error names the first
// that is not.
bool only_keys(const YAML::Node& node, const std::set<std::string>& known, const std::string& where,
               std::string* error) {
    for (const auto& kv : node) {
        std::string key = kv.first.as<std::string>();
        if (!known.count(key)) {
            std::string list;
            for (const auto& k : known) list += (list.empty() ? "" : ", ") + k;
            *error = where + ": unknown or unsupported key '" + key + "' (supported: " + list + ")";
            return false;
        }
    }
    return true;
}

bool string_of(const YAML::Node& node, const std::string& where, std::string* out, std::string* error) {
    if (!node.IsScalar()) {
        *error = where + ": expected a string";
        return false;
    }
    *out = node.as<std::string>();
    return true;
}

bool parse_tls(const YAML::Node& node, const std::string& folder, TlsSettings* tls, std::string* error) {
    if (!node.IsMap()) {
        *error = "tls_server_config: expected a mapping";
        return false;
    }
    if (!only_keys(node, {"cert_file", "key_file", "client_ca_file", "client_auth_type"},
                   "tls_server_config", error)) {
        return false;
    }
    for (const char* key : {"cert_file", "key_file", "client_ca_file"}) {
        if (!node[key]) continue;
        std::string value;
        if (!string_of(node[key], std::string("tls_server_config.") + key, &value, error)) return false;
        value = resolve(folder, value);
        if (std::string(key) == "cert_file") tls->cert_file = value;
        if (std::string(key) == "key_file") tls->key_file = value;
        if (std::string(key) == "client_ca_file") tls->client_ca_file = value;
    }
    if (tls->cert_file.empty() || tls->key_file.empty()) {
        *error = "tls_server_config: cert_file and key_file are both required";
        return false;
    }
    if (node["client_auth_type"]) {
        std::string type;
        if (!string_of(node["client_auth_type"], "tls_server_config.client_auth_type", &type, error)) {
            return false;
        }
        if (type == "NoClientCert") {
            tls->client_auth = ClientAuth::kNone;
        } else if (type == "VerifyClientCertIfGiven") {
            tls->client_auth = ClientAuth::kVerifyIfGiven;
        } else if (type == "RequireAndVerifyClientCert") {
            tls->client_auth = ClientAuth::kRequireAndVerify;
        } else {
            *error = "tls_server_config.client_auth_type: '" + type +
                     "' is not supported (NoClientCert, VerifyClientCertIfGiven, "
                     "RequireAndVerifyClientCert)";
            return false;
        }
    }
    if (tls->client_auth != ClientAuth::kNone && tls->client_ca_file.empty()) {
        *error = "tls_server_config: client_auth_type verifies client certificates, so client_ca_file is required";
        return false;
    }
    return true;
}

bool parse_users(const YAML::Node& node, std::map<std::string, std::string>* users, std::string* error) {
    if (!node.IsMap()) {
        *error = "basic_auth_users: expected a mapping of user names to bcrypt hashes";
        return false;
    }
    for (const auto& kv : node) {
        std::string user = kv.first.as<std::string>();
        std::string hash;
        if (!string_of(kv.second, "basic_auth_users." + user, &hash, error)) return false;
        std::string why;
        if (!is_usable_bcrypt_hash(hash, &why)) {
            *error = "basic_auth_users." + user + ": " + why;
            return false;
        }
        if (user.find(':') != std::string::npos) {
            *error = "basic_auth_users: a user name cannot contain ':' ('" + user + "')";
            return false;
        }
        (*users)[user] = hash;
    }
    return true;
}

}  // namespace

bool load_web_config(const std::string& path, WebConfig* out, std::string* error) {
    std::ifstream in(path);
    if (!in) {
        *error = "cannot read " + path;
        return false;
    }
    std::stringstream text;
    text << in.rdbuf();
    std::string why;
    try {
        YAML::Node root = YAML::Load(text.str());
        if (root.IsNull()) {
            *out = WebConfig{};
            return true;  // an empty file: plain HTTP, no auth, as the toolkit does
        }
        if (!root.IsMap()) {
            why = "expected a mapping at the top";
        } else if (only_keys(root, {"tls_server_config", "basic_auth_users"}, "top level", &why)) {
            WebConfig config;
            const std::string folder = folder_of(path);
            bool ok = true;
            if (root["tls_server_config"]) {
                config.tls = true;
                ok = parse_tls(root["tls_server_config"], folder, &config.tls_settings, &why);
            }
            if (ok && root["basic_auth_users"]) ok = parse_users(root["basic_auth_users"], &config.users, &why);
            if (ok) {
                *out = std::move(config);
                return true;
            }
        }
    } catch (const YAML::Exception& e) {
        why = e.what();  // "yaml-cpp: error at line 3, column 5: ..."
    }
    *error = path + ": " + why;
    return false;
}

}  // namespace tcpscope
