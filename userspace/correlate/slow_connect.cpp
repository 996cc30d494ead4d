#include "slow_connect.h"

#include <cstdio>

#include "connection_drops.h"
#include "event_text.h"
#include "timeline.h"

namespace tcpscope {

namespace {

constexpr int kSynSent = 2;
// A listener counts its drops at its next look, a second apart: a drop
// is looked for from the connect's start to this long after it returned.
constexpr uint64_t kLookSlackNs = 1'500'000'000ull;

bool is_wildcard(const std::string& addr) { return addr == "0.0.0.0" || addr == "::"; }

// The listener drop that refused the connect's SYN: a look at a listener
// the step connected to (its address, or a wildcard one on its port in
// the same namespace) that counted drops while the connect waited.
const Event* listener_drop(const Step& step, const std::vector<Event>& events) {
    const Event* found = nullptr;
    for (const auto& e : events) {
        if (e.kind != EventKind::Drop || e.drop_seen_by != "listener") continue;
        if (e.ts_ns < step.start_ns || e.ts_ns > step.ts_ns + kLookSlackNs) continue;
        if (!reaches_listener(step.remote, e.local, e.family)) continue;
        // A wildcard listener takes the port of its own namespace only.
        if (is_wildcard(e.local.addr) && step.netns && e.netns != step.netns) continue;
        found = &e;
        if (e.drop_reason == "ACCEPT_QUEUE_FULL") break;  // the plainest cause first
    }
    return found;
}

}  // namespace

bool reaches_listener(const std::string& remote, const Endpoint& listener, int family) {
    if (remote == endpoint_key(listener, family)) return true;
    if (!is_wildcard(listener.addr)) return false;
    const std::string port = ":" + std::to_string(listener.port);
    return remote.size() > port.size() && remote.compare(remote.size() - port.size(), port.size(), port) == 0;
}

std::string slow_connect_cause(const Step& step, const std::vector<Event>& events) {
    if (step.op != StepOp::Connect || step.failed() || step.ret != 0 || !step.cookie) return "";
    size_t syn_retransmits = 0;
    for (const auto& e : events) {
        if (e.kind == EventKind::Retransmit && e.cookie == step.cookie && e.state == kSynSent &&
            e.ts_ns >= step.start_ns && e.ts_ns <= step.ts_ns) {
            ++syn_retransmits;
        }
    }
    if (!syn_retransmits) return "";
    char took[64];
    std::snprintf(took, sizeof(took), "took %.2f s: ", (step.ts_ns - step.start_ns) / 1e9);
    std::string text = std::string(took) + "its SYN was retransmitted " +
                       (syn_retransmits == 1 ? std::string("once") : std::to_string(syn_retransmits) + " times");
    if (const Event* d = listener_drop(step, events)) {
        text += "; the listener " + endpoint_text(d->local, d->family) + " dropped SYNs";
        if (d->drop_reason == "ACCEPT_QUEUE_FULL") {
            text += ", its accept queue full";
            if (d->accept_backlog) text += " (backlog " + std::to_string(*d->accept_backlog) + ")";
        } else {
            text += " (" + d->drop_reason + ": its SYN queue, or memory)";
        }
        return text;
    }
    const std::string dropped = drops_text(connection_drops(events, step.cookie, step.ts_ns));
    if (!dropped.empty()) return text + ": " + dropped;
    return text + " (the first went unanswered)";
}

size_t explain_slow_connects(std::vector<Step>& steps, const std::vector<Event>& events) {
    size_t explained = 0;
    for (auto& s : steps) {
        if (s.info.contains("cause")) continue;
        std::string cause = slow_connect_cause(s, events);
        if (cause.empty()) continue;
        s.info["cause"] = cause;
        ++explained;
    }
    return explained;
}

}  // namespace tcpscope
