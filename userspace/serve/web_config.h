// --web.config.file: the Prometheus exporter-toolkit's web configuration
// (the format node_exporter and the other exporters read), for TLS and
// basic authentication on the metrics endpoint:
//
//   tls_server_config:
//     cert_file: server.crt          # relative paths: to the file's folder
//     key_file: server.key
//     client_ca_file: clients.crt    # optional
//     client_auth_type: RequireAndVerifyClientCert   # optional
//   basic_auth_users:
//     prometheus: $2y$10$...         # bcrypt hashes only
//
// Only what is supported is accepted: an unknown or unsupported key is an
// error, so that a setting the operator relies on is never silently ignored.
#pragma once

#include <map>
#include <string>

namespace tcpscope {

enum class ClientAuth {
    kNone,               // NoClientCert (the default)
    kVerifyIfGiven,      // VerifyClientCertIfGiven
    kRequireAndVerify,   // RequireAndVerifyClientCert
};

struct TlsSettings {
    std::string cert_file;       // PEM, absolute after loading
    std::string key_file;
    std::string client_ca_file;  // empty: no client certificates asked for
    ClientAuth client_auth = ClientAuth::kNone;
};

struct WebConfig {
    bool tls = false;  // tls_server_config present
    TlsSettings tls_settings;
    std::map<std::string, std::string> users;  // user -> bcrypt hash; empty: no auth
};

// Reads and checks the file. False with *error in words (which file, which
// key, the YAML parser's line and column).
bool load_web_config(const std::string& path, WebConfig* out, std::string* error);

}  // namespace tcpscope
