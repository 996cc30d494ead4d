// Command lines through add_trace_command into TraceOptions.
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include <CLI/CLI.hpp>

#include "trace_options.h"

namespace tcpscope {
namespace {

struct Parsed {
    bool ok = false;
    std::string error;
    TraceOptions options;
    bool trace_parsed = false;
};

// Parses "tcpscope <args...>" the way main() sets the app up.
Parsed parse(std::vector<std::string> args) {
    Parsed p;
    CLI::App app{"tcpscope"};
    app.require_subcommand(1);
    CLI::App* trace = add_trace_command(app, p.options);
    std::vector<std::string> argv_storage = {"tcpscope"};
    argv_storage.insert(argv_storage.end(), args.begin(), args.end());
    std::vector<char*> argv;
    for (auto& s : argv_storage) argv.push_back(s.data());
    try {
        app.parse(static_cast<int>(argv.size()), argv.data());
        p.ok = true;
        p.trace_parsed = trace->parsed();
    } catch (const CLI::ParseError& e) {
        p.error = e.what();
    }
    return p;
}

TEST(Cli, Defaults) {
    Parsed p = parse({"trace"});
    ASSERT_TRUE(p.ok) << p.error;
    EXPECT_TRUE(p.trace_parsed);
    const TraceOptions& o = p.options;
    EXPECT_FALSE(o.json);
    EXPECT_EQ(o.duration_s, 0);
    EXPECT_EQ(o.count, 0u);
    EXPECT_EQ(o.output, "");
    EXPECT_FALSE(o.verbose);
    EXPECT_EQ(o.ringbuf_kib, 4096u);
    EXPECT_EQ(o.flush_ms, 100);
    EXPECT_EQ(o.user, "nobody");
    EXPECT_FALSE(o.no_drop);
    EXPECT_EQ(o.filter.pid, 0u);
    EXPECT_EQ(o.filter.netns, "");
    EXPECT_EQ(o.filter.comm, "");
    EXPECT_EQ(o.filter.ports, "");
    EXPECT_EQ(o.filter.addr, "");
    EXPECT_EQ(o.filter.cgroup, "");
    EXPECT_EQ(o.filter.events, "state,reset,retransmit,error,signal,drop");
    EXPECT_FALSE(o.filter.all_drops);
}

TEST(Cli, AllOptions) {
    Parsed p = parse({"trace", "--json", "--pid", "77", "--comm", "nginx", "--port", "80,443",
                      "--addr", "::1", "--netns", "4026531840", "--cgroup", "/sys/fs/cgroup/x",
                      "--events", "all", "--duration", "2.5", "--count", "10", "--output",
                      "/tmp/out.jsonl", "--ringbuf-kib", "64", "--verbose", "--flush-ms", "5",
                      "--user", "daemon"});
    ASSERT_TRUE(p.ok) << p.error;
    const TraceOptions& o = p.options;
    EXPECT_TRUE(o.json);
    EXPECT_EQ(o.filter.pid, 77u);
    EXPECT_EQ(o.filter.comm, "nginx");
    EXPECT_EQ(o.filter.ports, "80,443");
    EXPECT_EQ(o.filter.addr, "::1");
    EXPECT_EQ(o.filter.netns, "4026531840");
    EXPECT_EQ(o.filter.cgroup, "/sys/fs/cgroup/x");
    EXPECT_EQ(o.filter.events, "all");
    EXPECT_DOUBLE_EQ(o.duration_s, 2.5);
    EXPECT_EQ(o.count, 10u);
    EXPECT_EQ(o.output, "/tmp/out.jsonl");
    EXPECT_EQ(o.ringbuf_kib, 64u);
    EXPECT_TRUE(o.verbose);
    EXPECT_EQ(o.flush_ms, 5);
    EXPECT_EQ(o.user, "daemon");
}

TEST(Cli, Timestamps) {
    EXPECT_EQ(parse({"trace"}).options.timestamps, Timestamps::Relative);
    Parsed p = parse({"trace", "--timestamps", "wall"});
    ASSERT_TRUE(p.ok) << p.error;
    EXPECT_EQ(p.options.timestamps, Timestamps::Wall);
    p = parse({"trace", "--timestamps", "relative"});
    ASSERT_TRUE(p.ok) << p.error;
    EXPECT_EQ(p.options.timestamps, Timestamps::Relative);
    p = parse({"trace", "--timestamps", "utc"});
    ASSERT_FALSE(p.ok);
    EXPECT_NE(p.error.find("--timestamps: must be wall or relative"), std::string::npos) << p.error;
}

TEST(Cli, ConnectionsAndStuck) {
    Parsed p = parse({"trace", "--connections", "--stuck", "30", "--stuck-period", "60", "--json"});
    ASSERT_TRUE(p.ok) << p.error;
    EXPECT_TRUE(p.options.connections);
    EXPECT_DOUBLE_EQ(p.options.stuck_s, 30);
    EXPECT_DOUBLE_EQ(p.options.stuck_period_s, 60);
    EXPECT_FALSE(parse({"trace"}).options.connections);
    EXPECT_EQ(parse({"trace"}).options.stuck_s, 0);
    // --connections chooses its own event kinds.
    p = parse({"trace", "--connections", "--events", "all"});
    EXPECT_FALSE(p.ok);
    EXPECT_NE(p.error.find("--events"), std::string::npos) << p.error;
    // sock_diag hands out the owners only to a privileged process.
    p = parse({"trace", "--stuck", "5", "--user", "nobody"});
    EXPECT_FALSE(p.ok);
    EXPECT_NE(p.error.find("--user"), std::string::npos) << p.error;
    p = parse({"trace", "--stuck-period", "5"});
    EXPECT_FALSE(p.ok) << "a period without --stuck";
    p = parse({"trace", "--stuck", "0"});
    ASSERT_FALSE(p.ok);
    EXPECT_NE(p.error.find("--stuck: must be a positive number of seconds"), std::string::npos) << p.error;
}

TEST(Cli, NetnsAboveInt32Accepted) {
    // Namespace inodes are 0xF0000000 and up: larger than INT_MAX.
    Parsed p = parse({"trace", "--netns", "4294967295"});
    ASSERT_TRUE(p.ok) << p.error;
    EXPECT_EQ(p.options.filter.netns, "4294967295");
}

TEST(Cli, PortZeroRejected) {
    // Either the command line or build_filter must refuse it, naming --port.
    Parsed p = parse({"trace", "--port", "0"});
    if (p.ok) {
        ts_filter f{};
        std::string error;
        EXPECT_FALSE(build_filter(p.options.filter, &f, &error));
        EXPECT_NE(error.find("--port"), std::string::npos) << error;
    } else {
        EXPECT_NE(p.error.find("--port"), std::string::npos) << p.error;
    }
}

class RejectedCommandLine : public ::testing::TestWithParam<std::vector<std::string>> {};

TEST_P(RejectedCommandLine, ParseFails) {
    Parsed p = parse(GetParam());
    EXPECT_FALSE(p.ok) << "accepted: duration=" << p.options.duration_s
                       << " count=" << p.options.count;
    EXPECT_FALSE(p.error.empty());
}

INSTANTIATE_TEST_SUITE_P(
    Cli, RejectedCommandLine,
    ::testing::Values(std::vector<std::string>{"trace", "--duration", "0"},
                      std::vector<std::string>{"trace", "--duration", "-1"},
                      std::vector<std::string>{"trace", "--duration", "abc"},
                      std::vector<std::string>{"trace", "--count", "0"},
                      std::vector<std::string>{"trace", "--count", "-3"},
                      std::vector<std::string>{"trace", "--pid", "0"},
                      std::vector<std::string>{"trace", "--pid", "-5"},
                      std::vector<std::string>{"trace", "--netns", "0"},
                      std::vector<std::string>{"trace", "--netns", "4294967296"},
                      std::vector<std::string>{"trace", "--ringbuf-kib", "2"},
                      std::vector<std::string>{"trace", "--flush-ms", "0"},
                      std::vector<std::string>{"trace", "--flush-ms", "10001"},
                      std::vector<std::string>{"trace", "--user", "x", "--no-drop"},
                      std::vector<std::string>{"trace", "--no-such-option"},
                      std::vector<std::string>{"trace", "extra-positional"},
                      std::vector<std::string>{"trace", "--pid"},
                      std::vector<std::string>{"no-such-command"},
                      std::vector<std::string>{}));

// Each numeric option's error says what is allowed in words, not CLI11's
// digits of a type's limits (`--duration -1` once printed a 300-digit range).
struct WordedError {
    std::vector<std::string> args;
    std::string expected;  // the whole message must contain this
};

class NumericOptionError : public ::testing::TestWithParam<WordedError> {};

TEST_P(NumericOptionError, SaysTheRangeInWords) {
    Parsed p = parse(GetParam().args);
    ASSERT_FALSE(p.ok);
    EXPECT_NE(p.error.find(GetParam().expected), std::string::npos) << p.error;
    EXPECT_LT(p.error.size(), 200u) << p.error;
    EXPECT_EQ(p.error.find("e+"), std::string::npos) << p.error;
    EXPECT_EQ(p.error.find("179769"), std::string::npos) << p.error;
    EXPECT_EQ(p.error.find("Could not convert"), std::string::npos) << p.error;
    EXPECT_EQ(p.error.find("not in range"), std::string::npos) << p.error;
}

const char kSeconds[] = "--duration: must be a positive number of seconds";
const char kCount[] = "--count: must be a positive whole number of events";
const char kPid[] = "--pid: must be a process id, a whole number from 1 to 4194304";
const char kNetns[] = "--netns: must be a network namespace's inode number";
const char kKib[] = "--ringbuf-kib: must be a power of two of KiB, from 4 to 1048576";
const char kFlush[] = "--flush-ms: must be a whole number of milliseconds from 1 to 10000";

INSTANTIATE_TEST_SUITE_P(
    Cli, NumericOptionError,
    ::testing::Values(WordedError{{"trace", "--duration", "-1"}, kSeconds},
                      WordedError{{"trace", "--duration", "0"}, kSeconds},
                      WordedError{{"trace", "--duration", "abc"}, kSeconds},
                      WordedError{{"trace", "--duration", "nan"}, kSeconds},
                      WordedError{{"trace", "--duration", "inf"}, kSeconds},
                      WordedError{{"trace", "--duration", "1e300"}, kSeconds},
                      WordedError{{"trace", "--duration", "2s"}, kSeconds},
                      WordedError{{"trace", "--count", "0"}, kCount},
                      WordedError{{"trace", "--count", "-3"}, kCount},
                      WordedError{{"trace", "--count", "1.5"}, kCount},
                      WordedError{{"trace", "--count", "99999999999999999999"}, kCount},
                      WordedError{{"trace", "--pid", "0"}, kPid},
                      WordedError{{"trace", "--pid", "-5"}, kPid},
                      WordedError{{"trace", "--pid", "4194305"}, kPid},
                      WordedError{{"trace", "--pid", "x"}, kPid},
                      WordedError{{"trace", "--netns", "0"}, kNetns},
                      WordedError{{"trace", "--netns", "4294967296"}, kNetns},
                      WordedError{{"trace", "--netns", "-1"}, kNetns},
                      WordedError{{"trace", "--netns", "cookie:0"}, kNetns},
                      WordedError{{"trace", "--netns", "cookie:x"}, kNetns},
                      WordedError{{"trace", "--ringbuf-kib", "2"}, kKib},
                      WordedError{{"trace", "--ringbuf-kib", "12"}, kKib},
                      WordedError{{"trace", "--ringbuf-kib", "2097152"}, kKib},
                      WordedError{{"trace", "--ringbuf-kib", "-4"}, kKib},
                      WordedError{{"trace", "--flush-ms", "0"}, kFlush},
                      WordedError{{"trace", "--flush-ms", "10001"}, kFlush},
                      WordedError{{"trace", "--flush-ms", "-1"}, kFlush},
                      WordedError{{"trace", "--flush-ms", "0.5"}, kFlush}));

TEST(Cli, NumericOptionsAcceptTheirRange) {
    for (const std::vector<std::string>& args :
         {std::vector<std::string>{"trace", "--duration", "0.001"},
          std::vector<std::string>{"trace", "--duration", "1000000000"},
          std::vector<std::string>{"trace", "--count", "9223372036854775807"},
          std::vector<std::string>{"trace", "--pid", "4194304"},
          std::vector<std::string>{"trace", "--ringbuf-kib", "4"},
          std::vector<std::string>{"trace", "--ringbuf-kib", "1048576"},
          std::vector<std::string>{"trace", "--flush-ms", "10000"}}) {
        Parsed p = parse(args);
        EXPECT_TRUE(p.ok) << args[1] << " " << args[2] << ": " << p.error;
    }
}

}  // namespace
}  // namespace tcpscope
