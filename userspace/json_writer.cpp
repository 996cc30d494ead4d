#include "json_writer.h"

#include <sys/socket.h>

#include <charconv>

#include "json_encoding.h"

namespace tcpscope {

namespace {

template <class Int>
void append_int(std::string& out, Int value) {
    char buf[24];
    auto result = std::to_chars(buf, buf + sizeof(buf), value);
    out.append(buf, static_cast<size_t>(result.ptr - buf));
}

// ,"key":
void key(std::string& out, const char* name) {
    out += ",\"";
    out += name;
    out += "\":";
}

template <class Int>
void int_field(std::string& out, const char* name, Int value) {
    key(out, name);
    append_int(out, value);
}

void string_field(std::string& out, const char* name, const std::string& value) {
    key(out, name);
    append_json_string(out, value);
}

void bool_field(std::string& out, const char* name, bool value) {
    key(out, name);
    out += value ? "true" : "false";
}

}  // namespace

void append_json_string(std::string& out, const std::string& text) {
    static const char hex[] = "0123456789abcdef";
    out += '"';
    for (char ch : text) {
        auto c = static_cast<unsigned char>(ch);
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
            } else if (c >= 0x80) {
                // Names are sanitised to ASCII before they get here; a
                // stray byte becomes U+FFFD as nlohmann's replace handler does.
                out += "\xef\xbf\xbd";
            } else {
                out += static_cast<char>(c);
            }
        }
    }
    out += '"';
}

void append_event_json(std::string& out, const Event& e, const ResetReasons& reasons) {
    out += "{\"v\":";
    append_int(out, kJsonSchemaVersion);
    string_field(out, "type", kind_name(e.kind));
    int_field(out, "ts_ns", e.ts_ns);
    int_field(out, "pid", e.pid);
    int_field(out, "tid", e.tid);
    string_field(out, "comm", e.comm);
    string_field(out, "attribution", e.attribution);
    int_field(out, "cur_pid", e.cur_pid);
    string_field(out, "cur_comm", e.cur_comm);
    string_field(out, "context", e.irq ? "softirq" : "process");
    int_field(out, "cgroup_id", e.cgroup_id);
    if (e.is_socket_event()) {
        string_field(out, "family", e.family == AF_INET6 ? "inet6" : "inet");
        string_field(out, "saddr", e.local.addr);
        int_field(out, "sport", e.local.port);
        string_field(out, "daddr", e.remote.addr);
        int_field(out, "dport", e.remote.port);
        int_field(out, "cookie", e.cookie);
        int_field(out, "netns", e.netns);
    }
    switch (e.kind) {
    case EventKind::State:
        string_field(out, "old_state", tcp_state_name(e.old_state));
        string_field(out, "new_state", tcp_state_name(e.new_state));
        key(out, "prev_state_ns");
        if (e.prev_state_ns) {
            append_int(out, *e.prev_state_ns);
        } else {
            out += "null";
        }
        break;
    case EventKind::ResetSent:
    case EventKind::ResetReceived:
        string_field(out, "state", tcp_state_name(e.state));
        key(out, "reason");
        if (e.reason) {
            append_json_string(out, reasons.name(*e.reason));
        } else {
            out += "null";
        }
        if (e.kind == EventKind::ResetSent) {
            bool_field(out, "no_socket", e.no_socket);
            bool_field(out, "minisock", e.minisock);
        }
        break;
    case EventKind::Retransmit:
        string_field(out, "state", tcp_state_name(e.state));
        key(out, "err");
        if (e.err) {
            append_int(out, *e.err);
        } else {
            out += "null";
        }
        break;
    case EventKind::SockError:
        string_field(out, "errno", errno_name(e.error));
        int_field(out, "errno_value", e.error);
        break;
    case EventKind::Signal:
        string_field(out, "signal", signal_name(e.signal));
        int_field(out, "target_pid", e.target_pid);
        int_field(out, "netns", e.netns);
        string_field(out, "result", signal_result_name(e.signal_result));
        break;
    case EventKind::Send:
    case EventKind::Recv:
        int_field(out, "ret", e.ret);
        if (e.ret < 0) string_field(out, "errno", errno_name(static_cast<int>(-e.ret)));
        break;
    case EventKind::Packet:
        string_field(out, "dir", e.dir == TS_DIR_RX ? "rx" : "tx");
        string_field(out, "flags", tcp_flags_name(e.tcp_flags));
        int_field(out, "payload_len", e.payload_len);
        int_field(out, "seq", e.seq);
        int_field(out, "ack_seq", e.ack_seq);
        int_field(out, "ifindex", e.ifindex);
        break;
    }
    out += '}';
}

}  // namespace tcpscope
