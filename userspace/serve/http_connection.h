// One accepted connection of the metrics server: a non-blocking socket,
// TLS on it or not, and what was read ahead. Every wait ends at a deadline
// the caller gives, not after each byte: a client that trickles a byte
// every few seconds is cut off when its request's time is up.
#pragma once

#include <sys/types.h>

#include <algorithm>
#include <chrono>
#include <string>
#include <vector>

#include <httplib.h>

namespace tcpscope {

using Clock = std::chrono::steady_clock;

class HttpConnection {
public:
    // Takes fd (made non-blocking here) and ssl (null for plain HTTP).
    HttpConnection(int fd, SSL* ssl, std::string peer_ip, int peer_port);
    ~HttpConnection();
    HttpConnection(const HttpConnection&) = delete;
    HttpConnection& operator=(const HttpConnection&) = delete;

    // The TLS handshake (true at once for plain HTTP).
    bool handshake(Clock::time_point deadline);
    // Bytes to read by then (read ahead, inside TLS, or on the socket).
    bool wait_readable(Clock::time_point deadline);
    // >0 bytes, 0 at the peer's close, -1 on error or at the deadline.
    ssize_t read(char* buf, size_t size, Clock::time_point deadline);
    // All of it by the deadline, or -1.
    ssize_t write(const char* buf, size_t size, Clock::time_point deadline);
    bool wait_writable(Clock::time_point deadline);

    int fd() const { return fd_; }
    const std::string& peer_ip() const { return peer_ip_; }
    int peer_port() const { return peer_port_; }

private:
    // Waits for `events` on the socket until the deadline.
    bool wait(short events, Clock::time_point deadline);
    // One read from the socket or TLS into ahead_; as read().
    ssize_t fill(Clock::time_point deadline);

    int fd_;
    SSL* ssl_;
    std::string peer_ip_;
    int peer_port_;
    std::vector<char> ahead_;
    size_t ahead_pos_ = 0;
};

// The httplib::Stream one request is read from and answered on: the
// connection with that request's deadline, and a cap on the bytes the
// request may take (httplib bounds each header line, not their number).
class DeadlineStream : public httplib::Stream {
public:
    DeadlineStream(HttpConnection& connection, Clock::time_point deadline, size_t max_bytes)
        : connection_(connection), deadline_(deadline), bytes_left_(max_bytes) {}

    bool is_readable() const override { return connection_.wait_readable(deadline_); }
    bool is_writable() const override { return connection_.wait_writable(deadline_); }
    ssize_t read(char* ptr, size_t size) override {
        if (bytes_left_ == 0) return -1;
        ssize_t n = connection_.read(ptr, std::min(size, bytes_left_), deadline_);
        if (n > 0) bytes_left_ -= static_cast<size_t>(n);
        return n;
    }
    ssize_t write(const char* ptr, size_t size) override { return connection_.write(ptr, size, deadline_); }
    void get_remote_ip_and_port(std::string& ip, int& port) const override;
    void get_local_ip_and_port(std::string& ip, int& port) const override;
    socket_t socket() const override { return connection_.fd(); }
    bool deadline_passed() const { return Clock::now() >= deadline_; }
    bool byte_limit_reached() const { return bytes_left_ == 0; }

private:
    HttpConnection& connection_;
    Clock::time_point deadline_;
    size_t bytes_left_;
};

}  // namespace tcpscope
