#include "ladder.h"

#include <algorithm>
#include <cstdio>

#include "text_format.h"

namespace tcpscope {

namespace {

constexpr size_t kTimeWidth = 10;
constexpr size_t kSideWidth = 44;
constexpr size_t kWireWidth = 24;

std::string fit(const std::string& text, size_t width) {
    if (text.size() <= width) return text + std::string(width - text.size(), ' ');
    return text.substr(0, width - 1) + "~";
}

std::string wire_arrow(const Event& e, bool from_client) {
    std::string label = tcp_flags_name(e.tcp_flags);
    if (e.payload_len > 0) label += " " + std::to_string(e.payload_len) + "B";
    std::string body = from_client ? "-" + label + "->" : "<-" + label + "-";
    size_t pad = body.size() < kWireWidth ? kWireWidth - body.size() : 0;
    // Arrows lean towards their destination.
    return from_client ? std::string(pad / 2, '-') + body + std::string(pad - pad / 2, ' ')
                       : std::string(pad / 2, ' ') + body + std::string(pad - pad / 2, '-');
}

// One row; a client text too long for its column continues on the rows
// below (server text has the rest of the line to itself).
std::string row(const std::string& time, const std::string& client, const std::string& wire,
                const std::string& server) {
    std::string out;
    std::string rest = client;
    std::string when = time;
    do {
        size_t take = std::min(rest.size(), kSideWidth - 1);
        // Break at a space when the text goes on, so words stay whole.
        if (take < rest.size()) {
            size_t space = rest.rfind(' ', take);
            if (space != std::string::npos && space > 4) take = space;
        }
        std::string part = rest.substr(0, take);
        rest.erase(0, take);
        while (!rest.empty() && rest.front() == ' ') rest.erase(0, 1);
        std::string line = fit(when, kTimeWidth) + fit(part, kSideWidth) + fit(wire, kWireWidth) +
                           " " + (out.empty() ? server : "");
        while (!line.empty() && line.back() == ' ') line.pop_back();
        out += (out.empty() ? "" : "\n") + line;
        when.clear();
        if (!rest.empty()) rest = "    " + rest;
    } while (!rest.empty());
    return out;
}

std::string event_text(const Event& e, const ResetReasons& reasons) {
    switch (e.kind) {
    case EventKind::State:
        return tcp_state_name(e.old_state) + " -> " + tcp_state_name(e.new_state);
    case EventKind::ResetSent:
        return "RST sent (" + (e.reason ? reasons.name(*e.reason) : std::string("no reason")) +
               (e.minisock ? ", timewait socket" : "") + (e.no_socket ? ", no socket" : "") + ")";
    case EventKind::ResetReceived:
        return "RST received in " + tcp_state_name(e.state);
    case EventKind::SockError:
        return "socket error " + errno_name(e.error);
    case EventKind::Signal:
        return signal_name(e.signal) + " generated";
    default:
        return event_detail(e, reasons);
    }
}

}  // namespace

std::string render_ladder(const Timeline& timeline, const ResetReasons& reasons) {
    std::string out;
    out += row("TIME(ms)", "CLIENT", "WIRE", "SERVER") + "\n";
    uint64_t t0 = 0;
    for (const auto& entry : timeline.entries()) {
        t0 = entry.ts_ns;
        break;
    }
    char when[32];
    for (const auto& entry : timeline.entries()) {
        std::snprintf(when, sizeof(when), "%8.3f", (entry.ts_ns - t0) / 1e6);
        if (entry.is_step) {
            const Step& s = timeline.steps()[entry.index];
            // A sock_diag query is an observation, not a call the
            // application made: show what it found instead of its "= 0".
            bool observation = s.info.contains("tcp_state");
            std::string text = observation ? s.call : describe(s);
            if (s.info.contains("term_signal") && s.info["term_signal"].is_number_integer() &&
                s.info["term_signal"].get<int>() != 0) {
                text += " [killed by " + signal_name(s.info["term_signal"].get<int>()) + "]";
            }
            if (observation) {
                text += s.info["tcp_state"].is_string()
                            ? " -> " + s.info["tcp_state"].get<std::string>()
                            : " -> no socket";
                // The queues, when they hold anything: what is waiting is
                // often the point (a reader that stopped, a window shut).
                for (const char* queue : {"send_q", "recv_q"}) {
                    if (s.info.value(queue, 0u) == 0) continue;
                    text += std::string(queue[0] == 's' ? ", Send-Q " : ", Recv-Q ") +
                            std::to_string(s.info.value(queue, 0u));
                }
            }
            out += s.side == "server" ? row(when, "", "", text) : row(when, text, "", "") ;
            out += "\n";
            continue;
        }
        const Event& e = timeline.events()[entry.index];
        // Send/recv results repeat the step they belong to; show them only
        // when no step reported the call.
        if ((e.kind == EventKind::Send || e.kind == EventKind::Recv) && entry.step >= 0) continue;
        std::string indent = entry.step >= 0 ? "  * " : "  ";
        if (e.kind == EventKind::Packet) {
            std::string src = timeline.side_of_endpoint(endpoint_key(e.local, e.family));
            std::string dst = timeline.side_of_endpoint(endpoint_key(e.remote, e.family));
            bool from_client = src == "client" || (src.empty() && dst == "server");
            out += row(when, "", wire_arrow(e, from_client), "") + "\n";
            continue;
        }
        std::string text = indent + event_text(e, reasons);
        if (entry.side == "server") {
            out += row(when, "", "", text) + "\n";
        } else if (entry.side == "client") {
            out += row(when, text, "", "") + "\n";
        } else {
            out += row(when, "", "  " + event_text(e, reasons), "") + "\n";
        }
    }
    return out;
}

std::string render_verdicts(const std::string& scenario, const std::string& explanation,
                            const std::vector<Verdict>& verdicts) {
    std::string out = "\nFacts (" + scenario + "):\n";
    for (const auto& v : verdicts) {
        out += std::string(v.ok           ? "  [holds]          "
                           : v.observable ? "  [DOES NOT HOLD]  "
                                          : "  [not observable] ") +
               v.fact + "\n";
        out += "                   seen: " + v.detail + "\n";
    }
    out += "\nWhy:\n";
    // Wrap the explanation at ~90 columns, indented.
    std::string line = "  ";
    for (size_t i = 0; i < explanation.size();) {
        size_t sp = explanation.find(' ', i);
        std::string word = explanation.substr(i, sp == std::string::npos ? std::string::npos : sp - i);
        if (line.size() + word.size() > 92) {
            out += line + "\n";
            line = "  ";
        }
        line += word + " ";
        if (sp == std::string::npos) break;
        i = sp + 1;
    }
    out += line + "\n";
    return out;
}

}  // namespace tcpscope
