#include "http_connection.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <openssl/err.h>
#include <openssl/ssl.h>

#include <cerrno>
#include <cstring>

namespace tcpscope {

HttpConnection::HttpConnection(int fd, SSL* ssl, std::string peer_ip, int peer_port)
    : fd_(fd), ssl_(ssl), peer_ip_(std::move(peer_ip)), peer_port_(peer_port) {
    fcntl(fd_, F_SETFL, fcntl(fd_, F_GETFL) | O_NONBLOCK);
    if (ssl_) SSL_set_fd(ssl_, fd_);
}

HttpConnection::~HttpConnection() {
    if (ssl_) {
        // A close_notify if it goes out at once; never a wait for the peer's.
        if (SSL_is_init_finished(ssl_)) SSL_shutdown(ssl_);
        SSL_free(ssl_);
        ERR_clear_error();
    }
    close(fd_);
}

bool HttpConnection::wait(short events, Clock::time_point deadline) {
    for (;;) {
        // Rounded up: a wait that gives up has passed its deadline (the
        // server counts requests cut off at their deadline by that).
        auto left = std::chrono::ceil<std::chrono::milliseconds>(deadline - Clock::now()).count();
        if (left <= 0) return false;
        pollfd p{fd_, events, 0};
        int n = poll(&p, 1, static_cast<int>(left));
        if (n > 0) return true;  // ready, or an error the next call reports
        if (n < 0 && errno != EINTR) return false;
    }
}

bool HttpConnection::handshake(Clock::time_point deadline) {
    if (!ssl_) return true;
    for (;;) {
        int rc = SSL_accept(ssl_);
        if (rc == 1) return true;
        int err = SSL_get_error(ssl_, rc);
        ERR_clear_error();
        if (err == SSL_ERROR_WANT_READ) {
            if (!wait(POLLIN, deadline)) return false;
        } else if (err == SSL_ERROR_WANT_WRITE) {
            if (!wait(POLLOUT, deadline)) return false;
        } else {
            return false;
        }
    }
}

bool HttpConnection::wait_readable(Clock::time_point deadline) {
    if (ahead_pos_ < ahead_.size()) return true;
    if (ssl_ && SSL_pending(ssl_) > 0) return true;
    return wait(POLLIN, deadline);
}

bool HttpConnection::wait_writable(Clock::time_point deadline) { return wait(POLLOUT, deadline); }

ssize_t HttpConnection::fill(Clock::time_point deadline) {
    ahead_.resize(16 * 1024);
    ahead_pos_ = 0;
    for (;;) {
        ssize_t n;
        if (ssl_) {
            int rc = SSL_read(ssl_, ahead_.data(), static_cast<int>(ahead_.size()));
            if (rc > 0) {
                n = rc;
            } else {
                int err = SSL_get_error(ssl_, rc);
                ERR_clear_error();
                if (err == SSL_ERROR_ZERO_RETURN) {
                    n = 0;
                } else if (err == SSL_ERROR_WANT_READ) {
                    if (!wait(POLLIN, deadline)) n = -1; else continue;
                } else if (err == SSL_ERROR_WANT_WRITE) {
                    if (!wait(POLLOUT, deadline)) n = -1; else continue;
                } else {
                    n = -1;
                }
            }
        } else {
            n = recv(fd_, ahead_.data(), ahead_.size(), 0);
            if (n < 0 && (errno == EAGAIN || errno == EINTR)) {
                if (wait(POLLIN, deadline)) continue;
                n = -1;
            }
        }
        ahead_.resize(n > 0 ? static_cast<size_t>(n) : 0);
        return n;
    }
}

ssize_t HttpConnection::read(char* buf, size_t size, Clock::time_point deadline) {
    if (ahead_pos_ >= ahead_.size()) {
        ssize_t n = fill(deadline);
        if (n <= 0) return n;
    }
    size_t n = std::min(size, ahead_.size() - ahead_pos_);
    std::memcpy(buf, ahead_.data() + ahead_pos_, n);
    ahead_pos_ += n;
    return static_cast<ssize_t>(n);
}

ssize_t HttpConnection::write(const char* buf, size_t size, Clock::time_point deadline) {
    size_t done = 0;
    while (done < size) {
        if (ssl_) {
            int rc = SSL_write(ssl_, buf + done, static_cast<int>(std::min<size_t>(size - done, 1 << 20)));
            if (rc > 0) {
                done += static_cast<size_t>(rc);
                continue;
            }
            int err = SSL_get_error(ssl_, rc);
            ERR_clear_error();
            short events = err == SSL_ERROR_WANT_READ ? POLLIN : err == SSL_ERROR_WANT_WRITE ? POLLOUT : 0;
            if (!events || !wait(events, deadline)) return -1;
        } else {
            ssize_t n = send(fd_, buf + done, size - done, MSG_NOSIGNAL);
            if (n > 0) {
                done += static_cast<size_t>(n);
            } else if (n < 0 && (errno == EAGAIN || errno == EINTR)) {
                if (!wait(POLLOUT, deadline)) return -1;
            } else {
                return -1;
            }
        }
    }
    return static_cast<ssize_t>(size);
}

namespace {

void local_name_of(int fd, std::string& ip, int& port) {
    sockaddr_storage ss{};
    socklen_t len = sizeof(ss);
    if (getsockname(fd, reinterpret_cast<sockaddr*>(&ss), &len) != 0) return;
    char buf[INET6_ADDRSTRLEN] = {};
    if (ss.ss_family == AF_INET) {
        auto* a = reinterpret_cast<sockaddr_in*>(&ss);
        inet_ntop(AF_INET, &a->sin_addr, buf, sizeof(buf));
        port = ntohs(a->sin_port);
    } else if (ss.ss_family == AF_INET6) {
        auto* a = reinterpret_cast<sockaddr_in6*>(&ss);
        inet_ntop(AF_INET6, &a->sin6_addr, buf, sizeof(buf));
        port = ntohs(a->sin6_port);
    }
    ip = buf;
}

}  // namespace

void DeadlineStream::get_remote_ip_and_port(std::string& ip, int& port) const {
    ip = connection_.peer_ip();
    port = connection_.peer_port();
}

void DeadlineStream::get_local_ip_and_port(std::string& ip, int& port) const {
    local_name_of(connection_.fd(), ip, port);
}

}  // namespace tcpscope
