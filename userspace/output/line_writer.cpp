#include "line_writer.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <algorithm>
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
    buffer_ += line;
    buffer_ += '\n';
    if (is_event) event_ends_.push_back(buffer_.size());
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
            const int err = errno;
            status_ = err == EPIPE ? Status::PipeClosed : Status::Failed;
            error_ = std::string("write failed: ") + std::strerror(err);
            // The first `done` bytes went out. Lines wholly among them
            // stay; a line cut short is taken back where the output is a
            // regular file, so that it ends at the last whole line.
            const void* nl = done ? memrchr(buffer_.data(), '\n', done) : nullptr;
            const size_t whole =
                nl ? static_cast<size_t>(static_cast<const char*>(nl) - buffer_.data()) + 1 : 0;
            if (whole < done) cut_back(done - whole);
            const size_t kept = static_cast<size_t>(
                std::upper_bound(event_ends_.begin(), event_ends_.end(), whole) -
                event_ends_.begin());
            events_written_ += kept;
            events_dropped_ += event_ends_.size() - kept;
            event_ends_.clear();
            buffer_.clear();
            return status_;
        }
        done += static_cast<size_t>(n);
    }
    events_written_ += event_ends_.size();
    event_ends_.clear();
    buffer_.clear();
    return status_;
}

void LineWriter::cut_back(size_t bytes) {
    struct stat st {};
    if (fstat(fd_, &st) != 0 || !S_ISREG(st.st_mode)) return;
    off_t end = lseek(fd_, 0, SEEK_CUR);
    if (end < 0 || static_cast<uint64_t>(end) < bytes) return;
    const off_t keep = end - static_cast<off_t>(bytes);
    if (ftruncate(fd_, keep) == 0) lseek(fd_, keep, SEEK_SET);
}

}  // namespace tcpscope
