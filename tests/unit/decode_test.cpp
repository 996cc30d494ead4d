// decode_event: raw ts_event records, built by hand as the BPF side lays
// them out, into Event. Also kind names and comm sanitising.
#include <arpa/inet.h>
#include <sys/socket.h>

#include <cstring>
#include <vector>

#include <gtest/gtest.h>

#include "event.h"

namespace tcpscope {
namespace {

ts_event base_record(uint16_t kind) {
    ts_event r;
    std::memset(&r, 0, sizeof(r));
    r.kind = kind;
    r.ts_ns = 123456789012ull;
    r.cookie = 0xdeadbeefcafe0001ull;
    r.cgroup_id = 4242;
    r.pid = 1001;
    r.tid = 1002;
    r.cur_pid = 1003;
    r.netns = 4026531840u;
    r.family = AF_INET;
    r.sport = 5000;
    r.dport = 43210;
    inet_pton(AF_INET, "127.0.0.1", r.saddr);
    inet_pton(AF_INET, "10.1.2.3", r.daddr);
    std::memcpy(r.comm, "server", 6);
    std::memcpy(r.cur_comm, "swapper/0", 9);
    std::memcpy(r.cur_thread, "ksoftirqd/0", 11);
    return r;
}

Event decode_ok(const ts_event& r) {
    auto e = decode_event(&r, sizeof(r));
    EXPECT_TRUE(e.has_value());
    return e.value_or(Event{});
}

TEST(Decode, CommonFields) {
    ts_event r = base_record(TS_KIND_STATE);
    Event e = decode_ok(r);
    EXPECT_EQ(e.kind, EventKind::State);
    EXPECT_EQ(e.ts_ns, 123456789012ull);
    EXPECT_EQ(e.cookie, 0xdeadbeefcafe0001ull);
    EXPECT_EQ(e.cgroup_id, 4242u);
    EXPECT_EQ(e.pid, 1001u);
    EXPECT_EQ(e.tid, 1002u);
    EXPECT_EQ(e.cur_pid, 1003u);
    EXPECT_EQ(e.netns, 4026531840u);
    EXPECT_EQ(e.comm, "server");
    EXPECT_EQ(e.cur_comm, "swapper/0");
    EXPECT_EQ(e.cur_thread, "ksoftirqd/0");
    EXPECT_EQ(e.family, AF_INET);
    EXPECT_EQ(e.local, (Endpoint{"127.0.0.1", 5000}));
    EXPECT_EQ(e.remote, (Endpoint{"10.1.2.3", 43210}));
    EXPECT_EQ(e.attribution, "current");
    EXPECT_FALSE(e.irq);
    EXPECT_FALSE(e.no_socket);
    EXPECT_FALSE(e.minisock);
}

TEST(Decode, Ipv6Addresses) {
    ts_event r = base_record(TS_KIND_STATE);
    r.family = AF_INET6;
    inet_pton(AF_INET6, "::1", r.saddr);
    inet_pton(AF_INET6, "fd00:1::beef", r.daddr);
    Event e = decode_ok(r);
    EXPECT_EQ(e.family, AF_INET6);
    EXPECT_EQ(e.local.addr, "::1");
    EXPECT_EQ(e.remote.addr, "fd00:1::beef");
}

TEST(Decode, StateWithAndWithoutPrevTime) {
    ts_event r = base_record(TS_KIND_STATE);
    r.state.old_state = 1;   // ESTABLISHED
    r.state.new_state = 4;   // FIN_WAIT1
    r.prev_state_ns = 777;
    Event e = decode_ok(r);
    EXPECT_EQ(e.old_state, 1);
    EXPECT_EQ(e.new_state, 4);
    EXPECT_FALSE(e.prev_state_ns.has_value()) << "no TS_F_PREV_TIME: value must be ignored";

    r.flags = TS_F_PREV_TIME;
    e = decode_ok(r);
    ASSERT_TRUE(e.prev_state_ns.has_value());
    EXPECT_EQ(*e.prev_state_ns, 777u);
}

TEST(Decode, CloseStatsOnlyWithTheirFlag) {
    ts_event r = base_record(TS_KIND_STATE);
    r.state.old_state = 9;   // LAST_ACK
    r.state.new_state = 7;   // CLOSE
    r.state.total_retrans = 3;
    r.bytes_acked = 5000000000ull;  // past 32 bits
    r.bytes_received = 4242;
    Event e = decode_ok(r);
    EXPECT_FALSE(e.close_stats.has_value()) << "no TS_F_CLOSE_STATS: values must be ignored";

    r.flags = TS_F_CLOSE_STATS;
    e = decode_ok(r);
    ASSERT_TRUE(e.close_stats.has_value());
    EXPECT_EQ(e.close_stats->bytes_acked, 5000000000ull);
    EXPECT_EQ(e.close_stats->bytes_received, 4242u);
    EXPECT_EQ(e.close_stats->total_retrans, 3u);
    EXPECT_FALSE(e.close_stats->fin_received);
    r.flags |= TS_F_FIN_RECEIVED;
    EXPECT_TRUE(decode_ok(r).close_stats->fin_received);
}

TEST(Decode, RttStateOnlyWithItsFlag) {
    ts_event r = base_record(TS_KIND_STATE);
    r.state.old_state = 1;   // ESTABLISHED
    r.state.new_state = 7;   // CLOSE
    r.srtt_us = 41234;
    r.min_rtt_us = 40012;
    r.rto_us = 244000;
    r.snd_cwnd = 17;
    r.flags = TS_F_CLOSE_STATS;
    Event e = decode_ok(r);
    ASSERT_TRUE(e.close_stats.has_value());
    EXPECT_EQ(e.close_stats->srtt_us, 0u) << "no TS_F_RTT: values must be ignored";
    EXPECT_EQ(e.close_stats->snd_cwnd, 0u);

    r.flags |= TS_F_RTT;
    e = decode_ok(r);
    ASSERT_TRUE(e.close_stats.has_value());
    EXPECT_EQ(e.close_stats->srtt_us, 41234u);
    EXPECT_EQ(e.close_stats->min_rtt_us, 40012u);
    EXPECT_EQ(e.close_stats->rto_us, 244000u);
    EXPECT_EQ(e.close_stats->snd_cwnd, 17u);
}

TEST(Decode, RecordFromBeforeTheRttIsTooShort) {
    // A record of the 192-byte layout (before the RTT fields) is refused.
    ts_event r = base_record(TS_KIND_STATE);
    EXPECT_FALSE(decode_event(&r, 192).has_value());
}

TEST(Decode, RecordFromBeforeTheCloseStatsIsTooShort) {
    // A record of the old 160-byte layout is refused, not read past its end.
    ts_event r = base_record(TS_KIND_STATE);
    EXPECT_FALSE(decode_event(&r, 160).has_value());
}

TEST(Decode, ResetSentFlagsAndReason) {
    ts_event r = base_record(TS_KIND_RESET_SENT);
    r.reset.state = 7;    // CLOSE
    r.reset.reason = 1;    // NO_SOCKET
    r.flags = TS_F_NO_SOCKET | TS_F_IRQ;
    Event e = decode_ok(r);
    EXPECT_EQ(e.kind, EventKind::ResetSent);
    EXPECT_EQ(e.state, 7);
    EXPECT_FALSE(e.reason.has_value()) << "reason without TS_F_REASON must stay unknown";
    EXPECT_TRUE(e.no_socket);
    EXPECT_TRUE(e.irq);
    EXPECT_FALSE(e.minisock);

    r.flags = TS_F_REASON | TS_F_MINISOCK;
    r.reset.state = 6;
    r.reset.reason = 9;
    e = decode_ok(r);
    ASSERT_TRUE(e.reason.has_value());
    EXPECT_EQ(*e.reason, 9);
    EXPECT_EQ(e.state, 6);
    EXPECT_TRUE(e.minisock);
    EXPECT_FALSE(e.no_socket);
}

TEST(Decode, ResetReceived) {
    ts_event r = base_record(TS_KIND_RESET_RECEIVED);
    r.reset.state = 1;
    Event e = decode_ok(r);
    EXPECT_EQ(e.kind, EventKind::ResetReceived);
    EXPECT_EQ(e.state, 1);
    EXPECT_FALSE(e.reason.has_value());
}

TEST(Decode, RetransmitErr) {
    ts_event r = base_record(TS_KIND_RETRANSMIT);
    r.retransmit.state = 1;
    r.retransmit.err = -105;
    Event e = decode_ok(r);
    EXPECT_EQ(e.kind, EventKind::Retransmit);
    EXPECT_EQ(e.state, 1);
    EXPECT_FALSE(e.err.has_value());
    r.flags = TS_F_RETRANS_ERR;
    e = decode_ok(r);
    ASSERT_TRUE(e.err.has_value());
    EXPECT_EQ(*e.err, -105);
}

TEST(Decode, SockError) {
    ts_event r = base_record(TS_KIND_SOCK_ERROR);
    r.sock_error.err = 104;
    Event e = decode_ok(r);
    EXPECT_EQ(e.kind, EventKind::SockError);
    EXPECT_EQ(e.error, 104);
}

TEST(Decode, SignalHasNoTuple) {
    ts_event r = base_record(TS_KIND_SIGNAL);
    r.signal.sig = 13;
    r.signal.target_pid = 31337;
    r.signal.result = 0;
    Event e = decode_ok(r);
    EXPECT_EQ(e.kind, EventKind::Signal);
    EXPECT_EQ(e.signal, 13);
    EXPECT_EQ(e.target_pid, 31337u);
    EXPECT_EQ(e.signal_result, 0);
    EXPECT_FALSE(e.is_socket_event());
    EXPECT_EQ(e.family, 0) << "signal events carry no socket tuple";
    EXPECT_EQ(e.local.port, 0);
    EXPECT_EQ(e.netns, 4026531840u);
}

TEST(Decode, SendRecvNegativeReturn) {
    ts_event r = base_record(TS_KIND_SEND);
    r.length.ret = -32;
    r.length.msg_flags = 0x4000;  // MSG_NOSIGNAL
    Event e = decode_ok(r);
    EXPECT_EQ(e.kind, EventKind::Send);
    EXPECT_EQ(e.ret, -32);
    EXPECT_EQ(e.msg_flags, 0x4000);

    r.kind = TS_KIND_RECV;
    r.length.ret = 1448;
    r.length.msg_flags = 0;
    e = decode_ok(r);
    EXPECT_EQ(e.kind, EventKind::Recv);
    EXPECT_EQ(e.ret, 1448);
}

TEST(Decode, Packet) {
    ts_event r = base_record(TS_KIND_PACKET);
    r.packet.dir = TS_DIR_RX;
    r.packet.tcp_flags = TS_TCP_SYN | TS_TCP_ACK;
    r.packet.payload_len = 0;
    r.packet.ifindex = 7;
    r.seq = 0xfffffff0u;
    r.ack_seq = 12345;
    Event e = decode_ok(r);
    EXPECT_EQ(e.kind, EventKind::Packet);
    EXPECT_EQ(e.dir, TS_DIR_RX);
    EXPECT_EQ(e.tcp_flags, TS_TCP_SYN | TS_TCP_ACK);
    EXPECT_EQ(e.payload_len, 0);
    EXPECT_EQ(e.ifindex, 7);
    EXPECT_EQ(e.seq, 0xfffffff0u);
    EXPECT_EQ(e.ack_seq, 12345u);
}

TEST(Decode, AttributionFlags) {
    ts_event r = base_record(TS_KIND_STATE);
    r.flags = TS_F_OWNER | TS_F_IRQ;
    Event e = decode_ok(r);
    EXPECT_EQ(e.attribution, "owner");
    EXPECT_TRUE(e.irq);
    r.flags = TS_F_LISTENER;
    EXPECT_EQ(decode_ok(r).attribution, "listener");
    r.flags = TS_F_UNKNOWN | TS_F_IRQ;
    EXPECT_EQ(decode_ok(r).attribution, "unknown");
    r.flags = 0;
    EXPECT_EQ(decode_ok(r).attribution, "current");
}

TEST(Decode, TooShortRecordsRejected) {
    ts_event r = base_record(TS_KIND_STATE);
    EXPECT_FALSE(decode_event(&r, 0).has_value());
    EXPECT_FALSE(decode_event(&r, 1).has_value());
    EXPECT_FALSE(decode_event(&r, sizeof(r) - 1).has_value());
    EXPECT_FALSE(decode_event(nullptr, sizeof(r)).has_value());
    // A longer record (future fields appended) still decodes.
    std::vector<unsigned char> longer(sizeof(r) + 16, 0xee);
    std::memcpy(longer.data(), &r, sizeof(r));
    EXPECT_TRUE(decode_event(longer.data(), longer.size()).has_value());
}

// A drop: the kernel's reason number (named later from BTF), the segment's
// flags and length, and which way it was going (TS_F_DROP_RX).
TEST(Decode, DropCarriesReasonSegmentAndDirection) {
    ts_event r = base_record(TS_KIND_DROP);
    r.drop.reason = 77;
    r.drop.tcp_flags = TS_TCP_SYN;
    r.drop.payload_len = 0;
    r.drop.ifindex = 3;
    r.seq = 4000000000u;
    r.flags = TS_F_DROP_RX | TS_F_UNKNOWN | TS_F_IRQ;
    Event e = decode_ok(r);
    EXPECT_EQ(e.kind, EventKind::Drop);
    EXPECT_EQ(e.drop_reason_code, 77);
    EXPECT_EQ(e.drop_reason, "");  // the decoder has no kernel at hand
    EXPECT_EQ(e.dir, TS_DIR_RX);
    EXPECT_EQ(e.tcp_flags, TS_TCP_SYN);
    EXPECT_EQ(e.ifindex, 3);
    EXPECT_EQ(e.seq, 4000000000u);
    EXPECT_EQ(e.attribution, "unknown");
    r.flags = 0;
    r.drop.payload_len = 1448;
    e = decode_ok(r);
    EXPECT_EQ(e.dir, TS_DIR_TX);
    EXPECT_EQ(e.payload_len, 1448);
}

// The metrics' port label has a field of its own, which records leave 0:
// it once shared its slot with a packet's and a drop's ifindex. Whatever it
// holds, the device decoded is the record's own.
TEST(Decode, ServicePortIsNotTheDevice) {
    for (uint16_t kind : {uint16_t{TS_KIND_PACKET}, uint16_t{TS_KIND_DROP}}) {
        ts_event r = base_record(kind);
        if (kind == TS_KIND_PACKET) {
            r.packet.ifindex = 2;
        } else {
            r.drop.ifindex = 2;
        }
        r.service_port = 8080;
        EXPECT_EQ(decode_ok(r).ifindex, 2) << kind;
    }
}

TEST(Decode, UnknownKindsRejected) {
    for (uint16_t kind : {uint16_t{TS_KIND_COUNT}, uint16_t{TS_KIND_COUNT + 1}, uint16_t{0xffff}}) {
        ts_event r = base_record(kind);
        EXPECT_FALSE(decode_event(&r, sizeof(r)).has_value()) << "kind " << kind;
    }
}

TEST(Decode, EveryKnownKindDecodesAndHasAName) {
    for (uint16_t k = 0; k < TS_KIND_COUNT; ++k) {
        ts_event r = base_record(k);
        auto e = decode_event(&r, sizeof(r));
        ASSERT_TRUE(e.has_value()) << k;
        EXPECT_EQ(static_cast<uint16_t>(e->kind), k);
        std::string name = kind_name(e->kind);
        EXPECT_NE(name, "unknown");
        auto back = kind_from_name(name);
        ASSERT_TRUE(back.has_value()) << name;
        EXPECT_EQ(*back, e->kind);
    }
}

// Every member of two Events, compared one by one (Event has no ==: the
// decoder's static_assert on its size makes a new member come here too).
void expect_same_event(const Event& a, const Event& b, const std::string& what) {
    SCOPED_TRACE(what);
    EXPECT_EQ(a.kind, b.kind);
    EXPECT_EQ(a.ts_ns, b.ts_ns);
    EXPECT_EQ(a.cookie, b.cookie);
    EXPECT_EQ(a.cgroup_id, b.cgroup_id);
    EXPECT_EQ(a.container, b.container);
    EXPECT_EQ(a.pid, b.pid);
    EXPECT_EQ(a.tid, b.tid);
    EXPECT_EQ(a.cur_pid, b.cur_pid);
    EXPECT_EQ(a.netns, b.netns);
    EXPECT_EQ(a.netns_cookie, b.netns_cookie);
    EXPECT_EQ(a.comm, b.comm);
    EXPECT_EQ(a.cur_comm, b.cur_comm);
    EXPECT_EQ(a.cur_thread, b.cur_thread);
    EXPECT_EQ(a.attribution, b.attribution);
    EXPECT_EQ(a.irq, b.irq);
    EXPECT_EQ(a.no_socket, b.no_socket);
    EXPECT_EQ(a.minisock, b.minisock);
    EXPECT_EQ(a.family, b.family);
    EXPECT_EQ(a.local, b.local);
    EXPECT_EQ(a.remote, b.remote);
    EXPECT_EQ(a.old_state, b.old_state);
    EXPECT_EQ(a.new_state, b.new_state);
    EXPECT_EQ(a.prev_state_ns, b.prev_state_ns);
    EXPECT_EQ(a.close_stats, b.close_stats);
    EXPECT_EQ(a.state, b.state);
    EXPECT_EQ(a.reason, b.reason);
    EXPECT_EQ(a.err, b.err);
    EXPECT_EQ(a.error, b.error);
    EXPECT_EQ(a.signal, b.signal);
    EXPECT_EQ(a.target_pid, b.target_pid);
    EXPECT_EQ(a.signal_result, b.signal_result);
    EXPECT_EQ(a.ret, b.ret);
    EXPECT_EQ(a.msg_flags, b.msg_flags);
    EXPECT_EQ(a.dir, b.dir);
    EXPECT_EQ(a.tcp_flags, b.tcp_flags);
    EXPECT_EQ(a.payload_len, b.payload_len);
    EXPECT_EQ(a.ifindex, b.ifindex);
    EXPECT_EQ(a.seq, b.seq);
    EXPECT_EQ(a.ack_seq, b.ack_seq);
    EXPECT_EQ(a.drop_reason, b.drop_reason);
    EXPECT_EQ(a.drop_reason_code, b.drop_reason_code);
    EXPECT_EQ(a.drop_seen_by, b.drop_seen_by);
    EXPECT_EQ(a.drop_count, b.drop_count);
    EXPECT_EQ(a.accept_queue, b.accept_queue);
    EXPECT_EQ(a.accept_backlog, b.accept_backlog);
}

// Records of every kind with every optional part set, and bare ones, from
// other processes and addresses (IPv4 and IPv6), and one with a name that
// needs escaping.
std::vector<ts_event> varied_records() {
    std::vector<ts_event> out;
    for (uint16_t k = 0; k < TS_KIND_COUNT; ++k) {
        ts_event bare = base_record(k);
        out.push_back(bare);
        ts_event full = base_record(k);
        full.flags = TS_F_OWNER | TS_F_IRQ | TS_F_NO_SOCKET | TS_F_MINISOCK | TS_F_PREV_TIME |
                     TS_F_CLOSE_STATS | TS_F_RTT | TS_F_FIN_RECEIVED | TS_F_REASON |
                     TS_F_RETRANS_ERR | TS_F_DROP_RX;
        full.family = AF_INET6;
        inet_pton(AF_INET6, "fd00::1", full.saddr);
        inet_pton(AF_INET6, "fd00::2", full.daddr);
        std::memcpy(full.comm, "other\x01name", 10);  // a control byte: escaped
        std::memcpy(full.cur_thread, "worker-7", 8);
        full.prev_state_ns = 77;
        full.bytes_acked = 100;
        full.bytes_received = 200;
        full.srtt_us = 300;
        full.min_rtt_us = 40;
        full.rto_us = 201000;
        full.snd_cwnd = 10;
        full.seq = 5;
        full.ack_seq = 6;
        switch (k) {
        case TS_KIND_STATE: full.state.old_state = 1; full.state.new_state = 7; full.state.total_retrans = 3; break;
        case TS_KIND_RESET_SENT:
        case TS_KIND_RESET_RECEIVED: full.reset.state = 8; full.reset.reason = 9; break;
        case TS_KIND_RETRANSMIT: full.retransmit.state = 1; full.retransmit.err = -11; break;
        case TS_KIND_SOCK_ERROR: full.sock_error.err = 104; break;
        case TS_KIND_SIGNAL: full.signal.sig = 13; full.signal.target_pid = 55; full.signal.result = 1; break;
        case TS_KIND_SEND:
        case TS_KIND_RECV: full.length.ret = -32; full.length.msg_flags = 0x40; break;
        case TS_KIND_PACKET: full.packet.dir = TS_DIR_RX; full.packet.tcp_flags = 0x12; full.packet.payload_len = 9; full.packet.ifindex = 3; break;
        case TS_KIND_DROP: full.drop.reason = 2; full.drop.tcp_flags = 0x02; full.drop.payload_len = 4; full.drop.ifindex = 5; break;
        }
        out.push_back(full);
        ts_event listener = base_record(k);
        listener.flags = TS_F_LISTENER;
        listener.daddr[3] = 99;
        out.push_back(listener);
        ts_event unknown = base_record(k);
        unknown.flags = TS_F_UNKNOWN;
        std::memset(unknown.comm, 0, sizeof(unknown.comm));
        unknown.pid = 0;
        out.push_back(unknown);
    }
    return out;
}

// The trace loop decodes every record into one kept Event, converting names
// and addresses only when their bytes change: whatever came before, each
// record must come out exactly as a fresh decode makes it.
TEST(Decode, AReusedDecoderGivesWhatAFreshOneGives) {
    const auto records = varied_records();
    for (size_t i = 0; i < records.size(); ++i) {
        for (size_t j = 0; j < records.size(); ++j) {
            EventDecoder reused;
            ASSERT_NE(reused.decode(&records[i], sizeof(ts_event)), nullptr);
            const Event* second = reused.decode(&records[j], sizeof(ts_event));
            ASSERT_NE(second, nullptr);
            EventDecoder fresh;
            const Event* alone = fresh.decode(&records[j], sizeof(ts_event));
            ASSERT_NE(alone, nullptr);
            expect_same_event(*second, *alone, std::to_string(i) + " then " + std::to_string(j));
            // Back to the first (what the second cleared, a signal's
            // addresses, must come back), then past a record that is not one.
            const Event* third = reused.decode(&records[i], sizeof(ts_event));
            EventDecoder fresh_first;
            expect_same_event(*third, *fresh_first.decode(&records[i], sizeof(ts_event)),
                              std::to_string(i) + " then " + std::to_string(j) + " then " + std::to_string(i));
            EXPECT_EQ(reused.decode(&records[i], 3), nullptr);
            second = reused.decode(&records[j], sizeof(ts_event));
            expect_same_event(*second, *alone, std::to_string(i) + ", nothing, then " + std::to_string(j));
        }
    }
}

// A fresh decoder's memo holds nothing that a record could match by
// accident: an all-zero name and address still come out as the record says.
TEST(Decode, AFreshDecoderConvertsZeroNamesAndAddresses) {
    ts_event r = base_record(TS_KIND_STATE);
    std::memset(r.comm, 0, sizeof(r.comm));
    std::memset(r.saddr, 0, sizeof(r.saddr));
    EventDecoder d;
    const Event* e = d.decode(&r, sizeof(r));
    ASSERT_NE(e, nullptr);
    EXPECT_EQ(e->comm, "");
    EXPECT_EQ(e->local.addr, "0.0.0.0");
}

TEST(Decode, KindNames) {
    EXPECT_STREQ(kind_name(EventKind::State), "state");
    EXPECT_STREQ(kind_name(EventKind::ResetSent), "reset_sent");
    EXPECT_STREQ(kind_name(EventKind::ResetReceived), "reset_received");
    EXPECT_STREQ(kind_name(EventKind::Retransmit), "retransmit");
    EXPECT_STREQ(kind_name(EventKind::SockError), "sock_error");
    EXPECT_STREQ(kind_name(EventKind::Signal), "signal");
    EXPECT_STREQ(kind_name(EventKind::Send), "send");
    EXPECT_STREQ(kind_name(EventKind::Recv), "recv");
    EXPECT_STREQ(kind_name(EventKind::Packet), "packet");
    EXPECT_STREQ(kind_name(static_cast<EventKind>(TS_KIND_COUNT)), "unknown");
    EXPECT_FALSE(kind_from_name("reset").has_value());
    EXPECT_FALSE(kind_from_name("").has_value());
    EXPECT_FALSE(kind_from_name("STATE").has_value());
}

bool all_printable(const std::string& s) {
    for (unsigned char c : s) {
        if (c < 0x20 || c >= 0x7f) return false;
    }
    return true;
}

TEST(Decode, CommWithArbitraryBytesIsSanitised) {
    ts_event r = base_record(TS_KIND_STATE);
    const unsigned char nasty[TS_COMM_LEN] = {'a', 0x01, 0xff, '\\', 'b', 0x7f, 0x1b, '[',
                                              '3', '1', 'm', 0x80, 'x', 'y', 'z', 'Q'};
    std::memcpy(r.comm, nasty, sizeof(nasty));  // no NUL terminator in all 16 bytes
    std::memcpy(r.cur_comm, nasty, sizeof(nasty));
    std::memcpy(r.cur_thread, nasty, sizeof(nasty));  // the record's last bytes
    // Bytes right after comm[] are cur_comm; after cur_comm, seq. If the
    // decoder ran past 16 bytes it would pick them up.
    r.seq = 0x41414141;  // "AAAA"
    Event e = decode_ok(r);
    EXPECT_EQ(e.cur_thread, "a\\x01\\xff\\x5cb\\x7f\\x1b[31m\\x80xyzQ");
    EXPECT_EQ(e.comm, "a\\x01\\xff\\x5cb\\x7f\\x1b[31m\\x80xyzQ");
    EXPECT_EQ(e.cur_comm, e.comm);
    EXPECT_TRUE(all_printable(e.comm));
    EXPECT_EQ(e.comm.find("AAAA"), std::string::npos);
}

TEST(Decode, SanitizeCommStopsAtNulAndMaxLen) {
    EXPECT_EQ(sanitize_comm("curl\0junk", 16), "curl");
    EXPECT_EQ(sanitize_comm("abcdef", 3), "abc");
    EXPECT_EQ(sanitize_comm("", 16), "");
    EXPECT_EQ(sanitize_comm("a b~", 16), "a b~");
    const char tab[] = {'\t', '\n', 0};
    EXPECT_EQ(sanitize_comm(tab, 16), "\\x09\\x0a");
    // Every byte value yields printable output of bounded length.
    for (int c = 1; c < 256; ++c) {
        char one[TS_COMM_LEN];
        std::memset(one, c, sizeof(one));
        std::string s = sanitize_comm(one, sizeof(one));
        EXPECT_TRUE(all_printable(s)) << c;
        EXPECT_LE(s.size(), 4u * TS_COMM_LEN) << c;
        EXPECT_GE(s.size(), static_cast<size_t>(TS_COMM_LEN)) << c;
    }
}

// sanitize_comm_into writes into a string its caller may reuse: what
// was there before must not show through, whatever its length.
TEST(Decode, SanitizeCommIntoReplacesWhatTheStringHeld) {
    std::string out = "a-much-longer-previous-name";
    sanitize_comm_into(out, "curl", 16);
    EXPECT_EQ(out, "curl");
    const char tab[] = {'x', '\t', 0};
    sanitize_comm_into(out, tab, 16);
    EXPECT_EQ(out, "x\\x09");
    sanitize_comm_into(out, "", 16);
    EXPECT_EQ(out, "");
    sanitize_comm_into(out, "abcdef", 3);
    EXPECT_EQ(out, "abc");
}

}  // namespace
}  // namespace tcpscope
