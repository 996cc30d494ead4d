#include "metrics_server.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include <httplib.h>

#include "exposition.h"

namespace tcpscope {
namespace {

const char* kLandingPage =
    "<!DOCTYPE html>\n<html><head><title>tcpscope</title></head><body>\n"
    "<h1>tcpscope metrics</h1>\n"
    "<p>What the kernel's TCP stack does, counted in the kernel: state changes, RSTs by "
    "reason, retransmits, socket errors, connect and connection durations.</p>\n"
    "<p><a href=\"/metrics\">/metrics</a></p>\n</body></html>\n";

// Why binding fails, as the kernel says it: httplib only answers false. A
// socket of our own, made the same way (SO_REUSEADDR), gets the errno.
int bind_errno(const ListenAddress& a) {
    bool v6 = a.host.find(':') != std::string::npos;
    int fd = socket(v6 ? AF_INET6 : AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0) return errno;
    int one = 1;
    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
    int rc;
    if (v6) {
        sockaddr_in6 sa{};
        sa.sin6_family = AF_INET6;
        sa.sin6_port = htons(a.port);
        inet_pton(AF_INET6, a.host.c_str(), &sa.sin6_addr);
        rc = ::bind(fd, reinterpret_cast<sockaddr*>(&sa), sizeof(sa));
    } else {
        sockaddr_in sa{};
        sa.sin_family = AF_INET;
        sa.sin_port = htons(a.port);
        inet_pton(AF_INET, a.host.c_str(), &sa.sin_addr);
        rc = ::bind(fd, reinterpret_cast<sockaddr*>(&sa), sizeof(sa));
    }
    int err = rc == 0 ? 0 : errno;
    close(fd);
    return err;
}

}  // namespace

MetricsServer::MetricsServer(Scrape scrape) : server_(std::make_unique<httplib::Server>()) {
    // A client that sends nothing, or reads nothing, holds a worker thread
    // for at most these; the others keep answering.
    server_->set_read_timeout(5, 0);
    server_->set_write_timeout(5, 0);
    server_->set_keep_alive_timeout(5);
    server_->set_payload_max_length(64 * 1024);
    server_->Get("/", [](const httplib::Request&, httplib::Response& res) {
        res.set_content(kLandingPage, "text/html; charset=utf-8");
    });
    server_->Get("/metrics", [scrape = std::move(scrape)](const httplib::Request& req,
                                                          httplib::Response& res) {
        ExpositionFormat format = negotiate_format(req.get_header_value("Accept"));
        res.set_content(scrape(format), content_type(format));
    });
}

MetricsServer::~MetricsServer() { stop(); }

bool MetricsServer::bind(const ListenAddress& address, std::string* error) {
    if (server_->bind_to_port(address.host, address.port)) return true;
    int err = bind_errno(address);
    *error = "cannot listen on " + listen_address_text(address) + ": " +
             (err ? std::strerror(err) : "the HTTP server could not bind");
    return false;
}

void MetricsServer::serve() {
    thread_ = std::thread([this] { server_->listen_after_bind(); });
}

void MetricsServer::stop() {
    if (server_) server_->stop();
    if (thread_.joinable()) thread_.join();
}

}  // namespace tcpscope
