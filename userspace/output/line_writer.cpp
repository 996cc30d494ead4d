#include "line_writer.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

namespace tcpscope {

LineWriter::LineWriter(int fd, bool owns_fd, size_t capacity)
    : fd_(fd), owns_fd_(owns_fd), capacity_(capacity) {
    buffer_.reserve(capacity_ + 1024);
}

LineWriter::~LineWriter() {
    flush();
    if (owns_fd_ && fd_ >= 0) close(fd_);
}

int LineWriter::open_file(const std::string& path, std::string* error) {
    int fd = open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd < 0 && error) *error = "--output: cannot open '" + path + "': " + std::strerror(errno);
    return fd;
}

LineWriter::Status LineWriter::write_line(const std::string& line, bool is_event) {
    if (status_ != Status::Ok) {
        if (is_event) ++events_dropped_;
        return status_;
    }
    if (is_event) ++events_buffered_;
    buffer_ += line;
    buffer_ += '\n';
    if (buffer_.size() >= capacity_) return flush();
    return status_;
}

LineWriter::Status LineWriter::flush() {
    if (status_ != Status::Ok) return status_;
    size_t done = 0;
    while (done < buffer_.size()) {
        ssize_t n = write(fd_, buffer_.data() + done, buffer_.size() - done);
        if (n < 0) {
            if (errno == EINTR) continue;
            status_ = errno == EPIPE ? Status::PipeClosed : Status::Failed;
            error_ = std::string("write failed: ") + std::strerror(errno);
            // A partial write may have carried some of them; we cannot
            // tell which, so the whole buffer counts as not written.
            events_dropped_ += events_buffered_;
            events_buffered_ = 0;
            buffer_.clear();
            return status_;
        }
        done += static_cast<size_t>(n);
    }
    events_buffered_ = 0;
    buffer_.clear();
    return status_;
}

}  // namespace tcpscope
