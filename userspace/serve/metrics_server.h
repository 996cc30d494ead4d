// The HTTP side of `tcpscope metrics`: / is a landing page, /metrics the
// body a callback builds at each scrape. It knows nothing of TCP or BPF.
//
// cpp-httplib parses and routes the requests; the sockets are ours, so that
// the endpoint holds against clients that do not play fair:
// - the port is bound without SO_REUSEPORT, so a second instance is refused
//   instead of sharing it (Prometheus would read every switch between the
//   two as a counter reset);
// - each request has one deadline for its headers, body and answer, not a
//   timeout per read that a byte every few seconds renews;
// - connections are bounded in all and per peer address; one beyond either
//   bound is closed at once rather than queued behind the slow ones;
// - TLS and basic authentication from --web.config.file.
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "endpoint_counts.h"
#include "exposition.h"
#include "listen_address.h"
#include "web_config.h"

namespace tcpscope {

struct ServerLimits {
    int max_connections = 64;  // at once, each served by a thread of its own
    int max_per_peer = 8;      // at once from one peer address
    std::chrono::milliseconds request_deadline{10000};  // TLS handshake; headers, body and answer
    std::chrono::milliseconds idle_timeout{5000};  // for a request's first byte (keep-alive)
    int max_requests_per_connection = 100;
    size_t max_request_bytes = 128 * 1024;  // request line, headers and body

};

class BasicAuth;
class TlsContext;
class HttpRouter;

class MetricsServer {
public:
    // The /metrics body in the format the scraper asked for (its Accept header).
    using Scrape = std::function<std::string(ExpositionFormat)>;

    explicit MetricsServer(Scrape scrape, ServerLimits limits = {});
    ~MetricsServer();
    MetricsServer(const MetricsServer&) = delete;
    MetricsServer& operator=(const MetricsServer&) = delete;

    // TLS and users of --web.config.file; before serve(). False with
    // *error in words (an unreadable certificate, a key that does not match).
    bool configure(const WebConfig& config, std::string* error);
    // Binds and listens (connections wait in the backlog until serve()).
    // False with *error in words, e.g. "Address already in use".
    bool bind(const ListenAddress& address, std::string* error);
    // Accepts and answers on threads of its own until stop().
    void serve();
    // Stops accepting; requests being answered finish (within their
    // deadline), idle connections are closed; joins every thread.
    void stop();
    // So far; safe from any thread (the scrape's).
    EndpointCounts counters() const;

private:
    void accept_loop();
    void serve_connection(uint64_t id, int fd, std::string peer_ip, int peer_port);
    void reap_finished();

    ServerLimits limits_;
    std::unique_ptr<HttpRouter> router_;
    std::unique_ptr<TlsContext> tls_;
    std::unique_ptr<BasicAuth> auth_;
    int listen_fd_ = -1;
    int wake_fd_ = -1;  // an eventfd that stop() writes to end the accept loop
    std::thread acceptor_;

    std::mutex mutex_;
    std::condition_variable all_done_;
    std::atomic<bool> stopping_{false};
    uint64_t next_id_ = 0;
    std::map<uint64_t, std::thread> connections_;
    std::map<uint64_t, int> open_fds_;             // to cut them at stop()
    std::vector<uint64_t> finished_;               // threads to join
    std::map<std::string, int> per_peer_;          // open connections by peer address
    struct {
        std::atomic<uint64_t> refused_limit{0}, refused_peer{0}, cut_deadline{0}, cut_too_large{0},
            cut_malformed{0}, cut_tls{0};
    } counts_;
};

}  // namespace tcpscope
