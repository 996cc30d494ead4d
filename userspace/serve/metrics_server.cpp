#include "metrics_server.h"

#include <arpa/inet.h>
#include <netdb.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <unistd.h>

#include <openssl/ssl.h>

#include <cerrno>
#include <cstring>

#include <httplib.h>

#include "basic_auth.h"
#include "exposition.h"
#include "http_connection.h"
#include "tls_context.h"

namespace tcpscope {
namespace {

const char* kLandingPage =
    "<!DOCTYPE html>\n<html><head><title>tcpscope</title></head><body>\n"
    "<h1>tcpscope metrics</h1>\n"
    "<p>What the kernel's TCP stack does, counted in the kernel: state changes, RSTs by "
    "reason, retransmits, socket errors, connect and connection durations.</p>\n"
    "<p><a href=\"/metrics\">/metrics</a></p>\n</body></html>\n";

std::string address_of(const sockaddr_storage& ss, int* port) {
    char buf[INET6_ADDRSTRLEN] = {};
    if (ss.ss_family == AF_INET) {
        auto* a = reinterpret_cast<const sockaddr_in*>(&ss);
        inet_ntop(AF_INET, &a->sin_addr, buf, sizeof(buf));
        *port = ntohs(a->sin_port);
    } else if (ss.ss_family == AF_INET6) {
        auto* a = reinterpret_cast<const sockaddr_in6*>(&ss);
        inet_ntop(AF_INET6, &a->sin6_addr, buf, sizeof(buf));
        *port = ntohs(a->sin6_port);
    }
    return buf;
}

}  // namespace

// cpp-httplib's request parsing, routing and answer writing, on streams of
// ours: its own accept loop and thread pool are not used.
// The status of the last answer this thread wrote (httplib's logger sees
// every answer, its own 400s for requests it could not parse included).
thread_local int last_answer_status = 0;

class HttpRouter : public httplib::Server {
public:
    bool handle(httplib::Stream& stream, bool close_connection, bool& connection_closed) {
        return process_request(stream, close_connection, connection_closed, nullptr);
    }
};

MetricsServer::MetricsServer(Scrape scrape, ServerLimits limits)
    : limits_(limits), router_(std::make_unique<HttpRouter>()) {
    router_->set_payload_max_length(64 * 1024);
    router_->set_logger([](const httplib::Request&, const httplib::Response& res) {
        last_answer_status = res.status;
    });
    router_->set_keep_alive_timeout(
        std::chrono::duration_cast<std::chrono::seconds>(limits_.idle_timeout).count());
    router_->set_keep_alive_max_count(static_cast<size_t>(limits_.max_requests_per_connection));
    router_->set_pre_routing_handler([this](const httplib::Request& req, httplib::Response& res) {
        if (!auth_ || !auth_->enabled() || auth_->allows(req.get_header_value("Authorization"))) {
            return httplib::Server::HandlerResponse::Unhandled;
        }
        res.status = 401;
        res.set_header("WWW-Authenticate", "Basic realm=\"tcpscope\", charset=\"UTF-8\"");
        res.set_content("Unauthorized\n", "text/plain; charset=utf-8");
        return httplib::Server::HandlerResponse::Handled;
    });
    router_->Get("/", [](const httplib::Request&, httplib::Response& res) {
        res.set_content(kLandingPage, "text/html; charset=utf-8");
    });
    router_->Get("/metrics", [scrape = std::move(scrape)](const httplib::Request& req,
                                                          httplib::Response& res) {
        ExpositionFormat format = negotiate_format(req.get_header_value("Accept"));
        res.set_content(scrape(format), content_type(format));
    });
}

MetricsServer::~MetricsServer() {
    stop();
    if (listen_fd_ >= 0) close(listen_fd_);
    if (wake_fd_ >= 0) close(wake_fd_);
}

bool MetricsServer::configure(const WebConfig& config, std::string* error) {
    if (config.tls) {
        tls_ = TlsContext::create(config.tls_settings, error);
        if (!tls_) return false;
    }
    auth_ = std::make_unique<BasicAuth>(config.users);
    return true;
}

bool MetricsServer::bind(const ListenAddress& address, std::string* error) {
    addrinfo hints{};
    hints.ai_socktype = SOCK_STREAM;
    hints.ai_flags = AI_NUMERICHOST | AI_PASSIVE;
    addrinfo* ai = nullptr;
    int rc = getaddrinfo(address.host.c_str(), std::to_string(address.port).c_str(), &hints, &ai);
    if (rc != 0 || !ai) {
        *error = "cannot listen on " + listen_address_text(address) + ": " + gai_strerror(rc);
        return false;
    }
    int fd = socket(ai->ai_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
    int err = fd < 0 ? errno : 0;
    if (fd >= 0) {
        // SO_REUSEADDR: a restart binds at once over its predecessor's
        // TIME_WAIT connections, while a port another socket listens on is
        // still refused (Linux). No SO_REUSEPORT, which cpp-httplib sets by
        // default: with it a second instance would listen on the same port
        // and take every other scrape.
        int one = 1;
        setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
        if (::bind(fd, ai->ai_addr, ai->ai_addrlen) != 0 || listen(fd, SOMAXCONN) != 0) {
            err = errno;
            close(fd);
            fd = -1;
        }
    }
    freeaddrinfo(ai);
    if (fd < 0) {
        *error = "cannot listen on " + listen_address_text(address) + ": " + std::strerror(err);
        return false;
    }
    listen_fd_ = fd;
    wake_fd_ = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
    return true;
}

void MetricsServer::serve() {
    acceptor_ = std::thread([this] { accept_loop(); });
}

void MetricsServer::accept_loop() {
    for (;;) {
        pollfd p[2] = {{listen_fd_, POLLIN, 0}, {wake_fd_, POLLIN, 0}};
        if (poll(p, 2, 1000) < 0 && errno != EINTR) break;
        reap_finished();
        if (p[1].revents) break;
        if (!(p[0].revents & POLLIN)) continue;
        sockaddr_storage ss{};
        socklen_t len = sizeof(ss);
        int fd = accept4(listen_fd_, reinterpret_cast<sockaddr*>(&ss), &len, SOCK_CLOEXEC);
        if (fd < 0) {
            // Out of descriptors or a connection reset before accept: the
            // next round tries again.
            if (errno == EMFILE || errno == ENFILE) std::this_thread::sleep_for(std::chrono::milliseconds(10));
            continue;
        }
        int port = 0;
        std::string peer = address_of(ss, &port);
        std::lock_guard<std::mutex> lock(mutex_);
        const bool all_taken = static_cast<int>(open_fds_.size()) >= limits_.max_connections;
        if (stopping_ || all_taken || per_peer_[peer] >= limits_.max_per_peer) {
            // Refused at once: the peer learns it now instead of waiting in
            // a queue behind connections that may never finish.
            close(fd);
            if (!stopping_) (all_taken ? counts_.refused_limit : counts_.refused_peer) += 1;
            if (per_peer_[peer] == 0) per_peer_.erase(peer);
            continue;
        }
        uint64_t id = next_id_++;
        per_peer_[peer] += 1;
        open_fds_[id] = fd;
        connections_[id] = std::thread([this, id, fd, peer, port] { serve_connection(id, fd, peer, port); });
    }
}

void MetricsServer::serve_connection(uint64_t id, int fd, std::string peer_ip, int peer_port) {
    SSL* ssl = tls_ ? SSL_new(tls_->get()) : nullptr;
    auto connection = std::make_unique<HttpConnection>(fd, ssl, peer_ip, peer_port);
    bool ok = !tls_ || ssl;
    if (ok && tls_) {
        const auto deadline = Clock::now() + limits_.request_deadline;
        ok = connection->handshake(deadline);
        if (!ok) (Clock::now() >= deadline ? counts_.cut_deadline : counts_.cut_tls) += 1;
    }
    for (int served = 0; ok && served < limits_.max_requests_per_connection; ++served) {
        // Idle until the request's first byte, then one deadline for all of it.
        if (stopping_ || !connection->wait_readable(Clock::now() + limits_.idle_timeout)) break;
        DeadlineStream stream(*connection, Clock::now() + limits_.request_deadline,
                              limits_.max_request_bytes);
        bool closed = false;
        bool last = served + 1 == limits_.max_requests_per_connection || stopping_;
        last_answer_status = 0;
        ok = router_->handle(stream, last, closed) && !closed;
        // A request httplib could not parse gets its 400 (414, 431) with
        // keep-alive, and the rest of it would be read as the next
        // request, and answered 400 again, a hundred times: end the
        // connection instead.
        const int status = last_answer_status;
        const bool unparsed = status == 400 || status == 413 || status == 414 || status == 431;
        if (!ok || unparsed) {
            // Why, when it was ours that cut it.
            if (stream.deadline_passed()) {
                counts_.cut_deadline += 1;
            } else if (stream.byte_limit_reached()) {
                counts_.cut_too_large += 1;
            } else if (unparsed) {
                counts_.cut_malformed += 1;
            }
            ok = false;
        }
    }
    std::lock_guard<std::mutex> lock(mutex_);
    // The descriptor leaves open_fds_ as it is closed, under the lock, so
    // that stop() never cuts a number the kernel has handed to another.
    open_fds_.erase(id);
    connection.reset();
    if (--per_peer_[peer_ip] == 0) per_peer_.erase(peer_ip);
    finished_.push_back(id);
    all_done_.notify_all();
}

EndpointCounts MetricsServer::counters() const {
    EndpointCounts c;
    c.refused_connections_limit = counts_.refused_limit;
    c.refused_connections_peer = counts_.refused_peer;
    c.cut_deadline = counts_.cut_deadline;
    c.cut_too_large = counts_.cut_too_large;
    c.cut_malformed = counts_.cut_malformed;
    c.cut_tls = counts_.cut_tls;
    return c;
}

void MetricsServer::reap_finished() {
    std::vector<std::thread> done;
    {
        std::lock_guard<std::mutex> lock(mutex_);
        for (uint64_t id : finished_) {
            auto it = connections_.find(id);
            if (it == connections_.end()) continue;
            done.push_back(std::move(it->second));
            connections_.erase(it);
        }
        finished_.clear();
    }
    for (auto& t : done) t.join();
}

void MetricsServer::stop() {
    if (acceptor_.joinable()) {
        uint64_t one = 1;
        if (write(wake_fd_, &one, sizeof(one)) < 0) { /* the poll timeout ends it too */ }
        {
            std::lock_guard<std::mutex> lock(mutex_);
            stopping_ = true;
        }
        acceptor_.join();
    }
    {
        // Reading ends at once (an idle connection wakes and closes, a
        // request still arriving fails); an answer being written goes out
        // whole, within its deadline. Each thread closes its own descriptor.
        std::unique_lock<std::mutex> lock(mutex_);
        stopping_ = true;
        for (const auto& [id, fd] : open_fds_) shutdown(fd, SHUT_RD);
        all_done_.wait(lock, [this] { return finished_.size() == connections_.size(); });
    }
    reap_finished();
}

}  // namespace tcpscope
