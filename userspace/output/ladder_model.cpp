#include "ladder_model.h"

#include <algorithm>
#include <limits>

#include "event_text.h"
#include "facts.h"
#include "run_json.h"

namespace tcpscope {

namespace {

// How far apart a RST segment and the tcp_send_reset that sent it may be
// and still be paired, to give the arrow the kernel's reason.
constexpr uint64_t kRstReasonWindowNs = 50'000'000;

std::string other_side(const std::string& side) {
    if (side == "client") return "server";
    if (side == "server") return "client";
    return "";
}

std::string step_text(const Step& s) {
    // A sock_diag query is an observation, not a call the application
    // made: show what it found instead of its "= 0".
    bool observation = s.info.contains("tcp_state");
    std::string text = observation ? s.call : describe(s);
    if (s.info.contains("term_signal") && s.info["term_signal"].is_number_integer() &&
        s.info["term_signal"].get<int>() != 0) {
        text += " [killed by " + signal_name(s.info["term_signal"].get<int>()) + "]";
    }
    if (observation) {
        text += s.info["tcp_state"].is_string() ? " -> " + s.info["tcp_state"].get<std::string>()
                                                : " -> no socket";
        // The queues, when they hold anything: what is waiting is often the
        // point (a reader that stopped, a window shut).
        for (const char* queue : {"send_q", "recv_q"}) {
            if (s.info.value(queue, 0u) == 0) continue;
            text += std::string(queue[0] == 's' ? ", Send-Q " : ", Recv-Q ") +
                    std::to_string(s.info.value(queue, 0u));
        }
    }
    return text;
}

// The reason of the tcp_send_reset that sent this RST segment: same flow,
// closest in time.
std::string rst_reason(const Timeline& timeline, const Event& packet, const ResetReasons& reasons) {
    const Event* best = nullptr;
    uint64_t best_gap = std::numeric_limits<uint64_t>::max();
    for (const Event& e : timeline.events()) {
        if (e.kind != EventKind::ResetSent || !e.reason) continue;
        if (e.netns != packet.netns || !(e.local == packet.local) || !(e.remote == packet.remote)) continue;
        uint64_t gap = e.ts_ns > packet.ts_ns ? e.ts_ns - packet.ts_ns : packet.ts_ns - e.ts_ns;
        if (gap <= kRstReasonWindowNs && gap < best_gap) {
            best = &e;
            best_gap = gap;
        }
    }
    return best ? reasons.name(*best->reason) : "";
}

LadderRowKind row_kind(EventKind kind) {
    switch (kind) {
    case EventKind::State: return LadderRowKind::State;
    case EventKind::ResetSent:
    case EventKind::ResetReceived: return LadderRowKind::Reset;
    case EventKind::SockError: return LadderRowKind::SockError;
    case EventKind::Signal: return LadderRowKind::Signal;
    case EventKind::Packet: return LadderRowKind::Segment;
    default: return LadderRowKind::Other;
    }
}

}  // namespace

std::string ladder_event_text(const Event& e, const ResetReasons& reasons) {
    switch (e.kind) {
    case EventKind::State:
        return state_change_text(e);
    case EventKind::ResetSent:
        return "RST sent (" + (e.reason ? reasons.name(*e.reason) : std::string("no reason")) +
               (e.minisock ? ", timewait socket" : "") + (e.no_socket ? ", no socket" : "") + ")";
    case EventKind::ResetReceived:
        return "RST received in " + tcp_state_name(e.state);
    case EventKind::SockError:
        return "socket error " + errno_name(e.error);
    case EventKind::Signal:
        return signal_name(e.signal) + " generated";
    case EventKind::Packet: {
        std::string text = tcp_flags_name(e.tcp_flags);
        if (e.payload_len > 0) text += " " + std::to_string(e.payload_len) + "B";
        return text;
    }
    case EventKind::Drop: {
        std::string text = tcp_flags_name(e.tcp_flags);
        if (e.payload_len > 0) text += " " + std::to_string(e.payload_len) + "B";
        return text + " dropped (" + e.drop_reason + ")";
    }
    default:
        return event_detail(e, reasons);
    }
}

LadderModel build_ladder_model(const Timeline& timeline, const ResetReasons& reasons,
                               const std::string& scenario, const WallClock* clock) {
    LadderModel model;
    std::vector<LadderRow> rows;
    std::vector<int> owner_step;  // per row: the step it fired inside, -1 if none
    for (const auto& entry : timeline.entries()) {
        LadderRow row;
        row.is_step = entry.is_step;
        row.index = entry.index;
        row.ts_ns = entry.ts_ns;
        row.end_ns = entry.ts_ns;
        row.lane = entry.side;
        if (entry.is_step) {
            const Step& s = timeline.steps()[entry.index];
            row.kind = LadderRowKind::Call;
            row.text = step_text(s);
            row.call = s.call;
            // Red as well: a call that returned fine but handed over an
            // error (SO_ERROR fetched one, poll reported the socket dead).
            auto so_error = fetched_so_error(s);
            row.error = s.failed() || (so_error && *so_error != "0") || s.info.contains("cause");
            row.end_ns = std::max(s.ts_ns, entry.ts_ns);
            append_run_step_json(row.raw_json, s, scenario);
        } else {
            const Event& e = timeline.events()[entry.index];
            // Send/recv results repeat the step they belong to; they are a
            // row only when no step reported the call.
            if ((e.kind == EventKind::Send || e.kind == EventKind::Recv) && entry.step >= 0) continue;
            row.kind = row_kind(e.kind);
            row.text = ladder_event_text(e, reasons);
            row.inside_call = entry.step >= 0;
            row.error = e.kind == EventKind::ResetSent || e.kind == EventKind::ResetReceived ||
                        e.kind == EventKind::SockError || e.kind == EventKind::Signal;
            if (e.kind == EventKind::Packet) {
                std::string src = timeline.side_of_endpoint(endpoint_key(e.local, e.family));
                std::string dst = timeline.side_of_endpoint(endpoint_key(e.remote, e.family));
                if (src.empty()) src = other_side(dst);
                if (dst.empty()) dst = other_side(src);
                // Nothing ties it to a side: the older ladder's convention,
                // server to client.
                if (src.empty()) src = "server", dst = "client";
                row.lane = src;
                row.to_lane = dst;
                if (e.tcp_flags & TS_TCP_RST) {
                    row.error = true;
                    row.detail = rst_reason(timeline, e, reasons);
                }
            }
            append_run_event_json(row.raw_json, e, reasons, scenario, entry.side, clock);
        }
        rows.push_back(std::move(row));
        owner_step.push_back(entry.is_step ? -1 : entry.step);
    }

    // Calls that blocked get a row at their return, placed among the rows
    // by the time it returned: before the first later row that began after
    // it returned and did not fire inside it.
    std::vector<std::vector<size_t>> returns_before(rows.size() + 1);
    for (size_t i = 0; i < rows.size(); ++i) {
        if (!rows[i].is_step) continue;
        const Step& s = timeline.steps()[rows[i].index];
        // A step on a process or namespace (wait(), kill()) is shown where
        // it returned already.
        if (!s.cookie) continue;
        size_t j = i + 1;
        bool other_call = false;
        while (j < rows.size()) {
            bool inside = !rows[j].is_step && owner_step[j] == static_cast<int>(rows[i].index);
            if (!inside && rows[j].ts_ns > s.ts_ns) break;
            other_call |= rows[j].is_step;
            ++j;
        }
        if (j == i + 1) continue;
        if (s.ts_ns - s.start_ns < kBlockingCallNs && !other_call) continue;
        returns_before[j].push_back(i);
    }
    for (auto& calls : returns_before) {
        std::stable_sort(calls.begin(), calls.end(), [&](size_t a, size_t b) {
            return timeline.steps()[rows[a].index].ts_ns < timeline.steps()[rows[b].index].ts_ns;
        });
    }
    std::vector<int> new_index(rows.size(), -1);
    for (size_t k = 0; k <= rows.size(); ++k) {
        for (size_t call : returns_before[k]) {
            const LadderRow& c = rows[call];
            const Step& s = timeline.steps()[c.index];
            LadderRow ret;
            ret.kind = LadderRowKind::CallReturn;
            ret.lane = c.lane;
            ret.ts_ns = s.ts_ns;
            ret.end_ns = s.ts_ns;
            ret.text = c.text;
            ret.call = c.call;
            ret.detail = "blocked " + duration_text(s.ts_ns - s.start_ns);
            ret.error = c.error;
            ret.is_step = true;
            ret.index = c.index;
            ret.raw_json = c.raw_json;
            ret.call_row = static_cast<int>(call);  // an old index, fixed below
            model.rows.push_back(std::move(ret));
        }
        if (k < rows.size()) {
            new_index[k] = static_cast<int>(model.rows.size());
            model.rows.push_back(rows[k]);
        }
    }
    for (size_t r = 0; r < model.rows.size(); ++r) {
        LadderRow& row = model.rows[r];
        if (row.kind != LadderRowKind::CallReturn) continue;
        row.call_row = new_index[static_cast<size_t>(row.call_row)];
        model.rows[static_cast<size_t>(row.call_row)].return_row = static_cast<int>(r);
    }

    // An event shown before a row with an earlier raw timestamp is in
    // causal, not timestamp, order.
    uint64_t later_min = std::numeric_limits<uint64_t>::max();
    for (size_t r = model.rows.size(); r-- > 0;) {
        LadderRow& row = model.rows[r];
        if (!row.is_step && row.ts_ns > later_min) row.reordered = true;
        later_min = std::min(later_min, row.ts_ns);
    }

    for (const std::string side : {"client", "server"}) model.lanes.push_back(side);
    for (const auto& row : model.rows) {
        for (const std::string* lane : {&row.lane, &row.to_lane}) {
            if (lane->empty()) {
                if (lane == &row.lane) model.has_unknown_lane = true;
                continue;
            }
            if (std::find(model.lanes.begin(), model.lanes.end(), *lane) == model.lanes.end()) {
                model.lanes.push_back(*lane);
            }
        }
    }
    if (!model.rows.empty()) model.t0_ns = model.rows.front().ts_ns;
    return model;
}

}  // namespace tcpscope
