// LineWriter: buffering, and the two failure kinds a tool must tell apart.
#include <fcntl.h>
#include <sys/resource.h>
#include <unistd.h>

#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <string>

#include <gtest/gtest.h>

#include "line_writer.h"

namespace tcpscope {
namespace {

class IgnoreSigpipe {
public:
    IgnoreSigpipe() { old_ = std::signal(SIGPIPE, SIG_IGN); }
    ~IgnoreSigpipe() { std::signal(SIGPIPE, old_); }

private:
    void (*old_)(int);
};

std::string read_all(int fd) {
    std::string out;
    char buf[4096];
    ssize_t n;
    while ((n = read(fd, buf, sizeof(buf))) > 0) out.append(buf, static_cast<size_t>(n));
    return out;
}

TEST(LineWriter, BuffersUntilFlush) {
    int fds[2];
    ASSERT_EQ(pipe2(fds, O_NONBLOCK), 0);
    {
        LineWriter w(fds[1], true, 1024);
        EXPECT_EQ(w.write_line("one"), LineWriter::Status::Ok);
        EXPECT_EQ(w.write_line("two"), LineWriter::Status::Ok);
        EXPECT_TRUE(w.has_pending());
        EXPECT_EQ(read_all(fds[0]), "") << "written before flush";
        EXPECT_EQ(w.flush(), LineWriter::Status::Ok);
        EXPECT_FALSE(w.has_pending());
        EXPECT_EQ(read_all(fds[0]), "one\ntwo\n");
        EXPECT_EQ(w.write_line("three"), LineWriter::Status::Ok);
    }  // destructor flushes and closes (owns_fd)
    EXPECT_EQ(read_all(fds[0]), "three\n");
    // Write end closed by the destructor: read now sees EOF, not EAGAIN.
    char c;
    EXPECT_EQ(read(fds[0], &c, 1), 0);
    close(fds[0]);
}

TEST(LineWriter, FlushesWhenCapacityReached) {
    int fds[2];
    ASSERT_EQ(pipe2(fds, O_NONBLOCK), 0);
    LineWriter w(fds[1], false, 16);
    EXPECT_EQ(w.write_line("0123456789"), LineWriter::Status::Ok);
    EXPECT_EQ(read_all(fds[0]), "");
    EXPECT_EQ(w.write_line("abcdef"), LineWriter::Status::Ok);
    EXPECT_EQ(read_all(fds[0]), "0123456789\nabcdef\n");
    EXPECT_FALSE(w.has_pending());
    close(fds[1]);
    close(fds[0]);
}

TEST(LineWriter, ZeroCapacityWritesEachLine) {
    int fds[2];
    ASSERT_EQ(pipe2(fds, O_NONBLOCK), 0);
    LineWriter w(fds[1], false, 0);
    EXPECT_EQ(w.write_line("x"), LineWriter::Status::Ok);
    EXPECT_EQ(read_all(fds[0]), "x\n");
    close(fds[1]);
    close(fds[0]);
}

TEST(LineWriter, ClosedPipeIsPipeClosed) {
    IgnoreSigpipe guard;
    int fds[2];
    ASSERT_EQ(pipe(fds), 0);
    close(fds[0]);
    LineWriter w(fds[1], true, 1024);
    EXPECT_EQ(w.write_line("hello"), LineWriter::Status::Ok);
    EXPECT_EQ(w.flush(), LineWriter::Status::PipeClosed);
    EXPECT_EQ(w.status(), LineWriter::Status::PipeClosed);
    EXPECT_FALSE(w.error().empty());
    // Sticky: later writes report the same and do not grow the buffer.
    EXPECT_EQ(w.write_line("more"), LineWriter::Status::PipeClosed);
    EXPECT_FALSE(w.has_pending());
}

TEST(LineWriter, DevFullIsFailed) {
    int fd = open("/dev/full", O_WRONLY | O_CLOEXEC);
    if (fd < 0) GTEST_SKIP() << "/dev/full is not available here";
    LineWriter w(fd, true, 1024);
    EXPECT_EQ(w.write_line("hello"), LineWriter::Status::Ok);
    EXPECT_EQ(w.flush(), LineWriter::Status::Failed);
    EXPECT_EQ(w.status(), LineWriter::Status::Failed);
    EXPECT_NE(w.error().find("No space"), std::string::npos) << w.error();
    EXPECT_EQ(w.write_line("more"), LineWriter::Status::Failed);
}

// Event lines that never reach the output are counted, whichever way
// they were kept from it: in the buffer that failed, or offered after.
TEST(LineWriter, CountsEventLinesItCouldNotWrite) {
    int fd = open("/dev/full", O_WRONLY | O_CLOEXEC);
    if (fd < 0) GTEST_SKIP() << "/dev/full is not available here";
    LineWriter w(fd, true, 1024);
    w.write_line("header");              // not an event
    w.write_line("event 1", true);
    w.write_line("event 2", true);
    EXPECT_EQ(w.events_dropped(), 0u) << "nothing failed yet";
    EXPECT_EQ(w.flush(), LineWriter::Status::Failed);
    EXPECT_EQ(w.events_dropped(), 2u);
    w.write_line("event 3", true);
    w.write_line("summary");
    EXPECT_EQ(w.events_dropped(), 3u);
}

TEST(LineWriter, WrittenEventsAreNotCountedDropped) {
    int fds[2];
    ASSERT_EQ(pipe2(fds, O_NONBLOCK), 0);
    {
        LineWriter w(fds[1], true, 8);
        for (int i = 0; i < 5; ++i) w.write_line("event " + std::to_string(i), true);
        EXPECT_EQ(w.flush(), LineWriter::Status::Ok);
        EXPECT_EQ(w.events_dropped(), 0u);
    }
    EXPECT_EQ(read_all(fds[0]), "event 0\nevent 1\nevent 2\nevent 3\nevent 4\n");
    close(fds[0]);
}

TEST(LineWriter, OpenFile) {
    char dir_template[] = "/tmp/tcpscope-lw-XXXXXX";
    ASSERT_NE(mkdtemp(dir_template), nullptr);
    std::string path = std::string(dir_template) + "/out.txt";
    std::string error;
    int fd = LineWriter::open_file(path, &error);
    ASSERT_GE(fd, 0) << error;
    {
        LineWriter w(fd, true);
        w.write_line("a");
    }
    int rfd = open(path.c_str(), O_RDONLY);
    ASSERT_GE(rfd, 0);
    EXPECT_EQ(read_all(rfd), "a\n");
    close(rfd);
    unlink(path.c_str());
    rmdir(dir_template);

    EXPECT_LT(LineWriter::open_file("/nonexistent-dir-tcpscope/x", &error), 0);
    EXPECT_NE(error.find("--output"), std::string::npos) << error;
}

// A file that fills part way through a flush (RLIMIT_FSIZE stands in for a
// full disk: the kernel writes what fits, then fails with EFBIG) ends at
// the last whole line, and holds exactly the event lines counted written.
TEST(LineWriter, FailedWriteLeavesOnlyWholeLines) {
    char dir_template[] = "/tmp/tcpscope-lw-XXXXXX";
    ASSERT_NE(mkdtemp(dir_template), nullptr);
    std::string path = std::string(dir_template) + "/out.jsonl";
    std::string error;
    int fd = LineWriter::open_file(path, &error);
    ASSERT_GE(fd, 0) << error;

    struct rlimit old {};
    ASSERT_EQ(getrlimit(RLIMIT_FSIZE, &old), 0);
    auto old_handler = std::signal(SIGXFSZ, SIG_IGN);
    struct rlimit small = old;
    small.rlim_cur = 1000;  // not a multiple of the line length
    ASSERT_EQ(setrlimit(RLIMIT_FSIZE, &small), 0);
    uint64_t offered = 0;
    LineWriter::Status status = LineWriter::Status::Ok;
    LineWriter w(fd, true, 300);
    w.write_line("header");
    for (int i = 0; i < 100 && status == LineWriter::Status::Ok; ++i, ++offered) {
        status = w.write_line("{\"v\":1,\"type\":\"state\",\"n\":" + std::to_string(1000 + i) + "}",
                              true);
    }
    w.flush();
    setrlimit(RLIMIT_FSIZE, &old);
    std::signal(SIGXFSZ, old_handler);

    EXPECT_EQ(w.status(), LineWriter::Status::Failed);
    int rfd = open(path.c_str(), O_RDONLY);
    ASSERT_GE(rfd, 0);
    std::string content = read_all(rfd);
    close(rfd);
    unlink(path.c_str());
    rmdir(dir_template);

    ASSERT_FALSE(content.empty());
    EXPECT_LE(content.size(), 1000u);
    EXPECT_EQ(content.back(), '\n') << "ends in half a line: ..."
                                    << content.substr(content.size() > 40 ? content.size() - 40 : 0);
    EXPECT_EQ(content.rfind("header\n", 0), 0u);
    uint64_t event_lines = 0;
    size_t from = 7;
    while (from < content.size()) {
        size_t nl = content.find('\n', from);
        ASSERT_NE(nl, std::string::npos);
        std::string line = content.substr(from, nl - from);
        EXPECT_EQ(line.front(), '{');
        EXPECT_EQ(line.back(), '}');
        ++event_lines;
        from = nl + 1;
    }
    EXPECT_EQ(w.events_written(), event_lines);
    EXPECT_EQ(w.events_written() + w.events_dropped(), offered);
    EXPECT_GT(w.events_dropped(), 0u);
}

}  // namespace
}  // namespace tcpscope
