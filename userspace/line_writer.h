// Buffered output to a file descriptor with errors we can act on: a closed
// pipe (the reader went away: stop quietly) and any other write failure
// (a full disk: stop with an error). stdio would hide both until fclose.
#pragma once

#include <cstddef>
#include <string>

namespace tcpscope {

class LineWriter {
public:
    enum class Status { Ok, PipeClosed, Failed };

    // Does not take ownership of fd unless owns_fd.
    LineWriter(int fd, bool owns_fd, size_t capacity = 1 << 16);
    ~LineWriter();
    LineWriter(const LineWriter&) = delete;
    LineWriter& operator=(const LineWriter&) = delete;

    // Opens (creates, truncates) a file for writing.
    static int open_file(const std::string& path, std::string* error);

    // Appends text and a newline; flushes when the buffer is full.
    Status write_line(const std::string& line);
    Status flush();

    Status status() const { return status_; }
    const std::string& error() const { return error_; }
    bool has_pending() const { return !buffer_.empty(); }

private:
    int fd_;
    bool owns_fd_;
    size_t capacity_;
    std::string buffer_;
    Status status_ = Status::Ok;
    std::string error_;
};

}  // namespace tcpscope
