// Buffered output to a file descriptor with errors we can act on: a closed
// pipe (the reader went away: stop quietly) and any other write failure
// (a full disk: stop with an error). stdio would hide both until fclose.
// When a write fails part way through a regular file, the file is cut back
// to the end of the last whole line: a reader never meets half a line.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

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
    // `is_event` lines are counted when a failure keeps them from the
    // output (lines_dropped), so that the loss can be reported.
    Status write_line(const std::string& line, bool is_event = false);
    // The same for a line that `append(std::string&)` writes straight onto
    // the buffer: the hot path of --json, where building the line in a
    // string of its own cost one more copy of every line.
    template <class Append>
    Status write_line_in_place(Append&& append, bool is_event) {
        if (status_ != Status::Ok) {
            if (is_event) ++events_dropped_;
            return status_;
        }
        append(buffer_);
        buffer_ += '\n';
        if (is_event) event_ends_.push_back(buffer_.size());
        if (buffer_.size() >= capacity_) return flush();
        return status_;
    }
    Status flush();

    Status status() const { return status_; }
    const std::string& error() const { return error_; }
    bool has_pending() const { return !buffer_.empty(); }
    // Event lines accepted but never written: those in a buffer whose
    // write failed, and all offered after the failure.
    uint64_t events_dropped() const { return events_dropped_; }
    // Event lines that reached the output whole.
    uint64_t events_written() const { return events_written_; }

private:
    // Removes the last `bytes` written from a regular file.
    void cut_back(size_t bytes);

    int fd_;
    bool owns_fd_;
    size_t capacity_;
    std::string buffer_;
    // Where each buffered event line ends in buffer_ (one past its '\n').
    std::vector<size_t> event_ends_;
    uint64_t events_dropped_ = 0;
    uint64_t events_written_ = 0;
    Status status_ = Status::Ok;
    std::string error_;
};

}  // namespace tcpscope
