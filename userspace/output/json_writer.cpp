#include "json_writer.h"

#include <sys/socket.h>

#include <charconv>
#include <cstring>

#include "json_encoding.h"

namespace tcpscope {

namespace {

// Builds one line in a stack buffer and hands it to the string once: a
// line is ~50 small pieces, and appending each to a std::string costs more
// than writing the JSON itself.
class LineBuffer {
public:
    void put(const char* text, size_t len) {
        if (len > sizeof(buf_) - used_) {
            spill();
            if (len > sizeof(buf_)) {
                out_->append(text, len);
                return;
            }
        }
        std::memcpy(buf_ + used_, text, len);
        used_ += len;
    }
    void put(char c) {
        if (used_ == sizeof(buf_)) spill();
        buf_[used_++] = c;
    }
    template <size_t N>
    void lit(const char (&text)[N]) { put(text, N - 1); }
    void str(const std::string& text) { put(text.data(), text.size()); }

    template <class Int>
    void num(Int value) {
        char tmp[24];
        auto result = std::to_chars(tmp, tmp + sizeof(tmp), value);
        put(tmp, static_cast<size_t>(result.ptr - tmp));
    }

    explicit LineBuffer(std::string& out) : out_(&out) {}
    ~LineBuffer() { spill(); }

private:
    void spill() {
        out_->append(buf_, used_);
        used_ = 0;
    }
    std::string* out_;
    char buf_[1024];
    size_t used_ = 0;
};

bool needs_escape(unsigned char c) { return c < 0x20 || c == '"' || c == '\\' || c >= 0x80; }

void quoted(LineBuffer& b, const std::string& text) {
    bool plain = true;
    for (char ch : text) plain &= !needs_escape(static_cast<unsigned char>(ch));
    if (plain) {
        b.put('"');
        b.str(text);
        b.put('"');
        return;
    }
    std::string escaped;
    append_json_string(escaped, text);
    b.str(escaped);
}

// The UTF-8 sequence that starts at text[i]: its length, and whether it is
// valid. An invalid one is its longest prefix that could still have begun a
// valid sequence (at least one byte): a stray continuation byte, an overlong
// form, a surrogate, a code point past U+10FFFF, or a sequence cut short.
// Each becomes one U+FFFD, as nlohmann's replace handler does (Unicode's
// "maximal subpart" practice).
size_t utf8_sequence(const std::string& text, size_t i, bool* valid) {
    auto c = static_cast<unsigned char>(text[i]);
    size_t continuation;
    unsigned char lo = 0x80, hi = 0xbf;  // the range of the next byte
    if (c >= 0xc2 && c <= 0xdf) {
        continuation = 1;
    } else if (c == 0xe0) {
        continuation = 2, lo = 0xa0;
    } else if (c == 0xed) {
        continuation = 2, hi = 0x9f;
    } else if (c >= 0xe1 && c <= 0xef) {
        continuation = 2;
    } else if (c == 0xf0) {
        continuation = 3, lo = 0x90;
    } else if (c == 0xf4) {
        continuation = 3, hi = 0x8f;
    } else if (c >= 0xf1 && c <= 0xf3) {
        continuation = 3;
    } else {
        *valid = false;
        return 1;
    }
    size_t n = 1;
    for (; n <= continuation; ++n) {
        if (i + n >= text.size()) break;
        auto b = static_cast<unsigned char>(text[i + n]);
        if (b < lo || b > hi) break;
        lo = 0x80, hi = 0xbf;
    }
    *valid = n == continuation + 1;
    return n;
}

}  // namespace

void append_json_string(std::string& out, const std::string& text) {
    static const char hex[] = "0123456789abcdef";
    out += '"';
    // Almost every string (names, addresses, states) needs no escaping:
    // copy it in one go, and go character by character only when it does.
    bool plain = true;
    for (char ch : text) plain &= !needs_escape(static_cast<unsigned char>(ch));
    if (plain) {
        out += text;
        out += '"';
        return;
    }
    for (size_t i = 0; i < text.size();) {
        auto c = static_cast<unsigned char>(text[i]);
        if (c >= 0x80) {
            // Valid UTF-8 is copied as it is; anything else becomes U+FFFD,
            // so that every line stays valid UTF-8.
            bool valid = false;
            size_t n = utf8_sequence(text, i, &valid);
            if (valid) {
                out.append(text, i, n);
            } else {
                out += "\xef\xbf\xbd";
            }
            i += n;
            continue;
        }
        ++i;
        switch (c) {
        case '"': out += "\\\""; break;
        case '\\': out += "\\\\"; break;
        case '\b': out += "\\b"; break;
        case '\f': out += "\\f"; break;
        case '\n': out += "\\n"; break;
        case '\r': out += "\\r"; break;
        case '\t': out += "\\t"; break;
        default:
            if (c < 0x20) {
                out += "\\u00";
                out += hex[c >> 4];
                out += hex[c & 0xf];
            } else {
                out += static_cast<char>(c);
            }
        }
    }
    out += '"';
}

// Keys are literals: `,"name":` is spelled out so that its length is known
// at compile time.
#define TS_KEY(name) b.lit(",\"" name "\":")

namespace {

// The segment a packet or a drop is about: the keys they share.
void write_segment(LineBuffer& b, const Event& e) {
    TS_KEY("dir");
    b.lit(e.dir == TS_DIR_RX ? "\"rx\"" : "\"tx\"");
    TS_KEY("flags");
    quoted(b, tcp_flags_name(e.tcp_flags));
    TS_KEY("payload_len");
    b.num(e.payload_len);
    TS_KEY("seq");
    b.num(e.seq);
    TS_KEY("ack_seq");
    b.num(e.ack_seq);
    TS_KEY("ifindex");
    b.num(e.ifindex);
}

// Every key of the event's line, without the closing brace.
void write_event(LineBuffer& b, const Event& e, const ResetReasons& reasons,
                 const WallClock* clock) {
    b.lit("{\"v\":");
    b.num(kJsonSchemaVersion);
    TS_KEY("type");
    b.put('"');
    b.put(kind_name(e.kind), std::strlen(kind_name(e.kind)));
    b.put('"');
    TS_KEY("ts_ns");
    b.num(e.ts_ns);
    if (clock) {
        TS_KEY("time");
        std::string time = "\"";
        append_rfc3339_utc(time, clock->realtime_ns(e.ts_ns));
        time += '"';
        b.str(time);
    }
    TS_KEY("pid");
    b.num(e.pid);
    TS_KEY("tid");
    b.num(e.tid);
    TS_KEY("comm");
    quoted(b, e.comm);
    TS_KEY("attribution");
    quoted(b, e.attribution);
    TS_KEY("cur_pid");
    b.num(e.cur_pid);
    TS_KEY("cur_comm");
    quoted(b, e.cur_comm);
    TS_KEY("cur_thread");
    quoted(b, e.cur_thread);
    TS_KEY("context");
    if (e.irq) {
        b.lit("\"softirq\"");
    } else {
        b.lit("\"process\"");
    }
    TS_KEY("cgroup_id");
    b.num(e.cgroup_id);
    if (e.container && !e.container->empty()) {
        if (!e.container->id.empty()) {
            TS_KEY("container_id");
            quoted(b, e.container->id);
        }
        if (!e.container->runtime.empty()) {
            TS_KEY("container_runtime");
            quoted(b, e.container->runtime);
        }
        if (!e.container->pod_uid.empty()) {
            TS_KEY("pod_uid");
            quoted(b, e.container->pod_uid);
            TS_KEY("pod_qos");
            quoted(b, e.container->qos);
        }
    }
    if (e.is_socket_event()) {
        TS_KEY("family");
        if (e.family == AF_INET6) {
            b.lit("\"inet6\"");
        } else {
            b.lit("\"inet\"");
        }
        TS_KEY("saddr");
        quoted(b, e.local.addr);
        TS_KEY("sport");
        b.num(e.local.port);
        TS_KEY("daddr");
        quoted(b, e.remote.addr);
        TS_KEY("dport");
        b.num(e.remote.port);
        TS_KEY("cookie");
        b.num(e.cookie);
        TS_KEY("netns");
        b.num(e.netns);
        TS_KEY("netns_cookie");
        b.num(e.netns_cookie);
    }
    switch (e.kind) {
    case EventKind::State:
        TS_KEY("old_state");
        quoted(b, tcp_state_name(e.old_state));
        TS_KEY("new_state");
        quoted(b, tcp_state_name(e.new_state));
        TS_KEY("prev_state_ns");
        if (e.prev_state_ns) {
            b.num(*e.prev_state_ns);
        } else {
            b.lit("null");
        }
        if (e.close_stats) {
            TS_KEY("bytes_acked");
            b.num(e.close_stats->bytes_acked);
            TS_KEY("bytes_received");
            b.num(e.close_stats->bytes_received);
            TS_KEY("total_retrans");
            b.num(e.close_stats->total_retrans);
            TS_KEY("fin_received");
            if (e.close_stats->fin_received) {
                b.lit("true");
            } else {
                b.lit("false");
            }
            TS_KEY("srtt_us");
            b.num(e.close_stats->srtt_us);
            TS_KEY("min_rtt_us");
            b.num(e.close_stats->min_rtt_us);
            TS_KEY("rto_us");
            b.num(e.close_stats->rto_us);
            TS_KEY("snd_cwnd");
            b.num(e.close_stats->snd_cwnd);
        }
        break;
    case EventKind::ResetSent:
    case EventKind::ResetReceived:
        TS_KEY("state");
        quoted(b, tcp_state_name(e.state));
        TS_KEY("reason");
        if (e.reason) {
            quoted(b, reasons.name(*e.reason));
        } else {
            b.lit("null");
        }
        if (e.kind == EventKind::ResetSent) {
            TS_KEY("no_socket");
            if (e.no_socket) { b.lit("true"); } else { b.lit("false"); }
            TS_KEY("minisock");
            if (e.minisock) { b.lit("true"); } else { b.lit("false"); }
        }
        break;
    case EventKind::Retransmit:
        TS_KEY("state");
        quoted(b, tcp_state_name(e.state));
        TS_KEY("err");
        if (e.err) {
            b.num(*e.err);
        } else {
            b.lit("null");
        }
        break;
    case EventKind::SockError:
        TS_KEY("errno");
        quoted(b, errno_name(e.error));
        TS_KEY("errno_value");
        b.num(e.error);
        break;
    case EventKind::Signal:
        TS_KEY("signal");
        quoted(b, signal_name(e.signal));
        TS_KEY("target_pid");
        b.num(e.target_pid);
        TS_KEY("netns");
        b.num(e.netns);
        TS_KEY("netns_cookie");
        b.num(e.netns_cookie);
        TS_KEY("result");
        quoted(b, signal_result_name(e.signal_result));
        break;
    case EventKind::Send:
    case EventKind::Recv:
        TS_KEY("ret");
        b.num(e.ret);
        if (e.ret < 0) {
            TS_KEY("errno");
            quoted(b, errno_name(static_cast<int>(-e.ret)));
        }
        break;
    case EventKind::Packet:
        write_segment(b, e);
        break;
    case EventKind::Drop:
        TS_KEY("reason");
        quoted(b, e.drop_reason);
        TS_KEY("reason_code");
        b.num(e.drop_reason_code);
        write_segment(b, e);
        TS_KEY("seen_by");
        quoted(b, e.drop_seen_by);
        TS_KEY("count");
        b.num(e.drop_count);
        TS_KEY("queue");
        if (e.accept_queue) {
            b.num(*e.accept_queue);
        } else {
            b.lit("null");
        }
        TS_KEY("backlog");
        if (e.accept_backlog) {
            b.num(*e.accept_backlog);
        } else {
            b.lit("null");
        }
        break;
    }
}

}  // namespace

void append_event_json(std::string& out, const Event& event, const ResetReasons& reasons,
                       const WallClock* clock) {
    LineBuffer b(out);
    write_event(b, event, reasons, clock);
    b.put('}');
}

void append_event_json_fields(std::string& out, const Event& event, const ResetReasons& reasons,
                              const WallClock* clock) {
    LineBuffer b(out);
    write_event(b, event, reasons, clock);
}

#undef TS_KEY

}  // namespace tcpscope
