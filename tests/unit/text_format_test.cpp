// Human-readable lines.
#include <sys/socket.h>

#include <gtest/gtest.h>

#include "ladder_model.h"
#include "text_format.h"

namespace tcpscope {
namespace {

const ResetReasons kReasons({{1, "NO_SOCKET"}, {11, "TCP_ABORT_ON_CLOSE"}});

Event make(EventKind kind) {
    Event e;
    e.kind = kind;
    e.ts_ns = 2500000000ull;
    e.pid = 4242;
    e.comm = "curl";
    e.family = AF_INET;
    e.local = {"127.0.0.1", 40000};
    e.remote = {"127.0.0.1", 80};
    return e;
}

TEST(Text, Durations) {
    EXPECT_EQ(duration_text(0), "0 ns");
    EXPECT_EQ(duration_text(999), "999 ns");
    EXPECT_EQ(duration_text(1000), "1.0 us");
    EXPECT_EQ(duration_text(12345), "12.3 us");
    EXPECT_EQ(duration_text(12300000), "12.3 ms");
    EXPECT_EQ(duration_text(1500000000ull), "1.50 s");
    EXPECT_EQ(duration_text(3600ull * 1000000000ull), "3600.00 s");
}

TEST(Text, Endpoints) {
    EXPECT_EQ(endpoint_text({"127.0.0.1", 5000}, AF_INET), "127.0.0.1:5000");
    EXPECT_EQ(endpoint_text({"::1", 5000}, AF_INET6), "[::1]:5000");
    EXPECT_EQ(endpoint_text({"fe80::1", 0}, AF_INET6), "[fe80::1]:0");
    // The IPv4 peer of a dual-stack socket reads as the IPv4 host it is.
    EXPECT_EQ(endpoint_text({"::ffff:127.0.0.1", 5000}, AF_INET6), "127.0.0.1:5000");
    // Only the dotted form inet_ntop writes for a mapped address is one.
    EXPECT_EQ(endpoint_text({"::ffff:7f00:1", 5000}, AF_INET6), "[::ffff:7f00:1]:5000");
}

TEST(Text, StateDetail) {
    Event e = make(EventKind::State);
    e.old_state = 1;
    e.new_state = 4;
    EXPECT_EQ(event_detail(e, kReasons), "ESTABLISHED -> FIN_WAIT1");
    e.prev_state_ns = 12300000;
    EXPECT_EQ(event_detail(e, kReasons), "ESTABLISHED -> FIN_WAIT1 (12.3 ms)");
    // close() after shutdown(SHUT_WR): the kernel sets FIN_WAIT1 again.
    e.old_state = 4;
    e.prev_state_ns.reset();
    EXPECT_EQ(event_detail(e, kReasons),
              "FIN_WAIT1 -> FIN_WAIT1: close() after shutdown(), state set again, no new FIN");
    EXPECT_EQ(ladder_event_text(e, kReasons), event_detail(e, kReasons)) << "the ladder says the same";
}

TEST(Text, ResetDetails) {
    Event e = make(EventKind::ResetSent);
    e.state = 1;
    e.reason = 11;
    EXPECT_EQ(event_detail(e, kReasons), "RST sent, reason TCP_ABORT_ON_CLOSE in ESTABLISHED");
    e.reason.reset();
    EXPECT_EQ(event_detail(e, kReasons), "RST sent, reason unknown in ESTABLISHED");
    e.no_socket = true;
    e.reason = 1;
    EXPECT_EQ(event_detail(e, kReasons), "RST sent, reason NO_SOCKET (no socket)");
    Event r = make(EventKind::ResetReceived);
    r.state = 8;
    EXPECT_EQ(event_detail(r, kReasons), "RST received in CLOSE_WAIT");
}

TEST(Text, OtherDetails) {
    Event e = make(EventKind::Retransmit);
    e.state = 1;
    EXPECT_EQ(event_detail(e, kReasons), "retransmit in ESTABLISHED");
    e.err = 0;
    EXPECT_EQ(event_detail(e, kReasons), "retransmit in ESTABLISHED");
    e.err = -105;
    EXPECT_EQ(event_detail(e, kReasons), "retransmit in ESTABLISHED, err ENOBUFS");
    Event s = make(EventKind::SockError);
    s.error = 111;
    EXPECT_EQ(event_detail(s, kReasons), "socket error ECONNREFUSED");
    Event g = make(EventKind::Signal);
    g.signal = 13;
    g.target_pid = 4242;
    EXPECT_EQ(event_detail(g, kReasons), "SIGPIPE generated for pid 4242 (delivered)");
    g.signal_result = 1;
    EXPECT_EQ(event_detail(g, kReasons), "SIGPIPE generated for pid 4242 (ignored)");
    Event snd = make(EventKind::Send);
    snd.ret = -32;
    EXPECT_EQ(event_detail(snd, kReasons), "send returned -32 (EPIPE)");
    Event rcv = make(EventKind::Recv);
    rcv.ret = 10;
    EXPECT_EQ(event_detail(rcv, kReasons), "recv returned 10");
    Event p = make(EventKind::Packet);
    p.dir = TS_DIR_TX;
    p.tcp_flags = TS_TCP_RST | TS_TCP_ACK;
    p.payload_len = 0;
    EXPECT_EQ(event_detail(p, kReasons), "tx RST|ACK len 0");
}

TEST(Text, LineColumnsAndAttributionMark) {
    Event e = make(EventKind::State);
    e.old_state = 2;
    e.new_state = 1;
    std::string line = text_line(e, 500000000ull, kReasons);
    EXPECT_EQ(line.rfind("2.000000", 0), 0u) << line;
    EXPECT_NE(line.find(" 4242 "), std::string::npos) << line;
    EXPECT_NE(line.find("curl "), std::string::npos) << line;
    EXPECT_EQ(line.find("curl*"), std::string::npos) << line;
    EXPECT_NE(line.find("127.0.0.1:40000"), std::string::npos) << line;
    EXPECT_NE(line.find("127.0.0.1:80 "), std::string::npos) << line;
    EXPECT_NE(line.find("SYN_SENT -> ESTABLISHED"), std::string::npos) << line;
    // Columns line up with the header.
    std::string header = text_header();
    EXPECT_EQ(line.find("curl"), header.find("COMM"));
    EXPECT_EQ(line.find("127.0.0.1:40000"), header.find("LOCAL"));
    EXPECT_EQ(line.find("state"), header.find("EVENT"));

    e.attribution = "owner";
    line = text_line(e, 0, kReasons);
    EXPECT_NE(line.find("curl*"), std::string::npos) << line;
    // Attributed to nobody: pid 0, "?" for the name.
    e.attribution = "unknown";
    e.pid = 0;
    e.comm = "";
    line = text_line(e, 0, kReasons);
    EXPECT_EQ(line.find("?"), header.find("COMM")) << line;
    EXPECT_NE(line.find(" 0 "), std::string::npos) << line;
    // An event older than the start prints as 0, never a wrapped huge number.
    line = text_line(e, 9000000000ull, kReasons);
    EXPECT_EQ(line.rfind("0.000000", 0), 0u) << line;
}

// --timestamps wall: the time column is the event's UTC time, RFC 3339,
// and the other columns still line up with the header.
TEST(Text, WallClockTimeColumn) {
    Event e = make(EventKind::State);
    e.old_state = 2;
    e.new_state = 1;
    e.ts_ns = 5000000999;
    const WallClock clock{1795910395000000000};  // 2026-11-28T23:59:55
    std::string line = text_line(e, 0, kReasons, &clock);
    EXPECT_EQ(line.rfind("2026-11-29T00:00:00.000000Z ", 0), 0u) << line;
    std::string header = text_header(&clock);
    EXPECT_EQ(header.rfind("TIME(UTC) ", 0), 0u) << header;
    EXPECT_EQ(line.find("curl"), header.find("COMM")) << header << "\n" << line;
    EXPECT_EQ(line.find("127.0.0.1:40000"), header.find("LOCAL"));
    EXPECT_EQ(line.find("state"), header.find("EVENT"));
    EXPECT_EQ(text_header().rfind("TIME(s) ", 0), 0u) << "relative stays the default";
}

TEST(Text, SignalLineHasNoEndpoints) {
    Event e = make(EventKind::Signal);
    e.signal = 13;
    e.target_pid = 1;
    std::string line = text_line(e, 0, kReasons);
    EXPECT_EQ(line.find("127.0.0.1"), std::string::npos) << line;
    EXPECT_NE(line.find(" - "), std::string::npos) << line;
}

TEST(Text, LongCommDoesNotTruncateDetail) {
    Event e = make(EventKind::State);
    e.comm = std::string(64, 'x');  // escaped comms can be 64 chars
    e.local = {"ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff", 65535};
    e.remote = e.local;
    e.family = AF_INET6;
    e.old_state = 1;
    e.new_state = 7;
    std::string line = text_line(e, 0, kReasons);
    EXPECT_NE(line.find("ESTABLISHED -> CLOSE"), std::string::npos) << line;
    EXPECT_NE(line.find(std::string(64, 'x')), std::string::npos) << line;
    // Nothing between the comm and the detail may be cut off either.
    EXPECT_NE(line.find("[ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff]:65535 "
                        "[ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff]:65535"),
              std::string::npos)
        << line;
    EXPECT_NE(line.find(" state "), std::string::npos) << line;
}

TEST(Text, LostAndSummary) {
    EXPECT_EQ(text_lost_line(3, 10, LossReason::RingbufFull),
              "*** 3 events lost (ring buffer full), 10 in all");
    EXPECT_EQ(text_lost_line(1, 11, LossReason::ProgramSkipped),
              "*** 1 events lost (kernel skipped the probe: it was already running on that CPU), "
              "11 in all");
    TraceSummary s;
    s.counts["state"] = 4;
    s.counts["reset_sent"] = 1;
    s.lost = 2;
    s.duration_ns = 1500000000ull;
    EXPECT_EQ(text_summary(s), "summary: reset_sent=1 state=4 events=5 lost=2 duration=1.50 s");
    s.undecodable = 1;
    EXPECT_EQ(text_summary(s),
              "summary: reset_sent=1 state=4 events=5 lost=2 undecodable=1 duration=1.50 s");
    s.lost_by_reason[static_cast<size_t>(LossReason::RingbufFull)] = 1;
    s.lost_by_reason[static_cast<size_t>(LossReason::WriteFailed)] = 1;
    EXPECT_EQ(text_summary(s),
              "summary: reset_sent=1 state=4 events=5 lost=2 ringbuf_full=1 write_failed=1 "
              "undecodable=1 duration=1.50 s");
}

}  // namespace
}  // namespace tcpscope
