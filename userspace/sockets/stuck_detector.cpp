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
    std::unordered_map<uint64_t, int> elsewhere;  // sockets in no watched state, by cookie
    for (const auto& s : snap.sockets) {
        if (!stuck_candidate(s)) {
            elsewhere[s.cookie] = s.state;
            continue;
        }
        seen.insert(s.cookie);
        auto it = tracked_.find(s.cookie);
        if (it != tracked_.end() && it->second.state != s.state) {
            // It moved from one watched state to another (CLOSE_WAIT ->
            // LAST_ACK): the first spell ended; a new one begins.
            if (it->second.reports) out.push_back(ended(it->second, now, snap.netns, s.state));
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
        StuckReport r = report_of(t, now, snap.netns);
        if (r.age_ns < options_.threshold_ns) continue;
        if (t.reports && now - t.last_report_ns < options_.period_ns) continue;
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
            auto moved = elsewhere.find(it->first);
            out.push_back(ended(it->second, now, snap.netns, moved == elsewhere.end() ? 0 : moved->second));
        }
        it = tracked_.erase(it);
    }
    first_ = false;
    last_ns_ = now;
    last_netns_ = snap.netns;
    return out;
}

std::vector<StuckReport> StuckDetector::stuck_now() const {
    std::vector<StuckReport> out;
    for (const auto& [cookie, t] : tracked_) {
        StuckReport r = report_of(t, last_ns_, last_netns_);
        if (r.age_ns < options_.threshold_ns) continue;
        r.report = t.reports;
        out.push_back(std::move(r));
    }
    return out;
}

StuckReport StuckDetector::report_of(const Tracked& t, uint64_t now, uint32_t netns) {
    StuckReport r;
    r.socket = t.last;
    r.ts_ns = now;
    r.netns = netns;
    r.age_ns = now > t.since_ns ? now - t.since_ns : 0;
    r.age_at_least = t.at_least;
    return r;
}

StuckReport StuckDetector::ended(const Tracked& t, uint64_t now, uint32_t netns, int new_state) {
    StuckReport r = report_of(t, now, netns);
    r.phase = StuckPhase::Ended;
    r.report = t.reports + 1;
    r.new_state = new_state;
    return r;
}

}  // namespace tcpscope
