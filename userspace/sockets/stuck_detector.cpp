#include "stuck_detector.h"

#include <unordered_set>

namespace tcpscope {
namespace {
constexpr int kEstablished = 1, kSynSent = 2, kSynRecv = 3, kFinWait2 = 5, kCloseWait = 8,
              kLastAck = 9;
}  // namespace

bool stuck_candidate(const SocketRecord& s) {
    switch (s.state) {
    case kCloseWait:
    case kFinWait2:
    case kSynSent:
    case kSynRecv:
    case kLastAck:
        return true;
    case kEstablished:
        return s.has_info && s.retransmits > 0;
    default:
        return false;
    }
}

const char* stuck_phase_name(StuckPhase phase) {
    return phase == StuckPhase::Stuck ? "stuck" : "ended";
}

StuckDetector::StuckDetector(StuckOptions options, uint64_t start_ns)
    : options_(options), start_ns_(start_ns) {
    if (options_.period_ns == 0) options_.period_ns = options_.threshold_ns;
}

std::vector<StuckReport> StuckDetector::update(const SocketSnapshot& snap) {
    std::vector<StuckReport> out;
    const uint64_t now = snap.taken_ns;
    std::unordered_set<uint64_t> seen;
    for (const auto& s : snap.sockets) {
        if (!stuck_candidate(s)) continue;
        seen.insert(s.cookie);
        auto it = tracked_.find(s.cookie);
        if (it != tracked_.end() && it->second.state != s.state) {
            // It moved from one watched state to another (CLOSE_WAIT ->
            // LAST_ACK): the first spell ended; a new one begins.
            if (it->second.reports) {
                StuckReport r;
                r.phase = StuckPhase::Ended;
                r.socket = it->second.last;
                r.ts_ns = now;
                r.netns = snap.netns;
                r.age_ns = now - it->second.since_ns;
                r.age_at_least = it->second.at_least;
                r.report = it->second.reports + 1;
                r.new_state = s.state;
                out.push_back(std::move(r));
            }
            tracked_.erase(it);
            it = tracked_.end();
        }
        if (it == tracked_.end()) {
            Tracked t;
            t.state = s.state;
            if (s.state != kEstablished && s.state_ts && s.state_ts <= now) {
                t.since_ns = s.state_ts;
            } else {
                // Not seen entering it: at least since it was first seen,
                // and an old socket at least since we started.
                t.since_ns = first_ ? start_ns_ : now;
                t.at_least = true;
            }
            it = tracked_.emplace(s.cookie, t).first;
        }
        Tracked& t = it->second;
        t.last = s;
        uint64_t age = now > t.since_ns ? now - t.since_ns : 0;
        if (age < options_.threshold_ns) continue;
        if (t.reports && now - t.last_report_ns < options_.period_ns) continue;
        StuckReport r;
        r.socket = s;
        r.ts_ns = now;
                r.netns = snap.netns;
        r.age_ns = age;
        r.age_at_least = t.at_least;
        r.report = ++t.reports;
        t.last_report_ns = now;
        out.push_back(std::move(r));
    }
    // Gone, or out of every watched state: the final record of those that
    // were reported.
    for (auto it = tracked_.begin(); it != tracked_.end();) {
        if (seen.count(it->first)) {
            ++it;
            continue;
        }
        if (it->second.reports) {
            StuckReport r;
            r.phase = StuckPhase::Ended;
            r.socket = it->second.last;
            r.ts_ns = now;
                r.netns = snap.netns;
            r.age_ns = now - it->second.since_ns;
            r.age_at_least = it->second.at_least;
            r.report = it->second.reports + 1;
            for (const auto& s : snap.sockets) {
                if (s.cookie == it->first) r.new_state = s.state;
            }
            out.push_back(std::move(r));
        }
        it = tracked_.erase(it);
    }
    first_ = false;
    return out;
}

}  // namespace tcpscope
