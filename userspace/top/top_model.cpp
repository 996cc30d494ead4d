#include "top_model.h"

#include <algorithm>
#include <cctype>
#include <cmath>

#include "names.h"

namespace tcpscope {
namespace {

constexpr int kSynSent = 2, kSynRecv = 3, kListen = 10;

struct ColumnInfo {
    Column column;
    const char* header;
    const char* name;
};
constexpr ColumnInfo kColumns[kColumnCount] = {
    {Column::Group, "GROUP", "group"},
    {Column::NewPerS, "NEW/s", "new_per_s"},
    {Column::Conns, "CONNS", "conns"},
    {Column::Active, "ACTIVE", "active"},
    {Column::Fin, "FIN", "fin"},
    {Column::Aborted, "ABORT", "aborted"},
    {Column::ResetSent, "RSTTX", "reset_sent"},
    {Column::ResetReceived, "RSTRX", "reset_received"},
    {Column::Refused, "REFUSED", "refused"},
    {Column::Timeout, "TIMEOUT", "timeout"},
    {Column::RetransPerS, "RETR/s", "retrans_per_s"},
    {Column::Stuck, "STUCK", "stuck"},
    {Column::StuckOldest, "OLDEST", "stuck_oldest"},
    {Column::ConnectP50, "CONN50", "connect_p50"},
    {Column::ConnectP99, "CONN99", "connect_p99"},
    {Column::RttP50, "RTT50", "rtt_p50"},
    {Column::RttP99, "RTT99", "rtt_p99"},
    {Column::Reasons, "RST SENT BY REASON", "reset_sent_reasons"},
};

std::string lower(std::string s) {
    for (char& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    return s;
}

// A column's value as a number to sort by; an unknown percentile sorts
// below every known one.
double sort_value(const TopRow& r, Column c) {
    auto opt = [](const std::optional<uint64_t>& v) { return v ? static_cast<double>(*v) : -1.0; };
    switch (c) {
    case Column::NewPerS: return r.new_per_s;
    case Column::Conns: return static_cast<double>(r.conns);
    case Column::Active: return static_cast<double>(r.active);
    case Column::Fin: return static_cast<double>(r.ended_by(Ending::Fin));
    case Column::Aborted: return static_cast<double>(r.ended_by(Ending::Aborted));
    case Column::ResetSent: return static_cast<double>(r.ended_by(Ending::ResetSent));
    case Column::ResetReceived: return static_cast<double>(r.ended_by(Ending::ResetReceived));
    case Column::Refused: return static_cast<double>(r.ended_by(Ending::Refused));
    case Column::Timeout: return static_cast<double>(r.ended_by(Ending::Timeout));
    case Column::RetransPerS: return r.retrans_per_s;
    case Column::Stuck: return static_cast<double>(r.stuck);
    case Column::StuckOldest: return static_cast<double>(r.stuck_oldest_ns);
    case Column::ConnectP50: return opt(r.connect_p50_us);
    case Column::ConnectP99: return opt(r.connect_p99_us);
    case Column::RttP50: return opt(r.rtt_p50_us);
    case Column::RttP99: return opt(r.rtt_p99_us);
    case Column::Reasons: {
        uint64_t n = 0;
        for (const auto& [name, count] : r.reset_sent_reasons) n += count;
        return static_cast<double>(n);
    }
    case Column::Group: break;
    }
    return 0;
}

double per_second(uint64_t delta, uint64_t interval_ns) {
    return interval_ns ? static_cast<double>(delta) * 1e9 / static_cast<double>(interval_ns) : 0;
}

}  // namespace

const char* grouping_name(Grouping g) {
    switch (g) {
    case Grouping::Process: return "process";
    case Grouping::LocalPort: return "port";
    case Grouping::RemoteAddr: return "remote";
    }
    return "?";
}

std::optional<Grouping> grouping_from_name(const std::string& name) {
    for (size_t i = 0; i < kGroupingCount; ++i) {
        if (name == grouping_name(static_cast<Grouping>(i))) return static_cast<Grouping>(i);
    }
    return std::nullopt;
}

Grouping next_grouping(Grouping g) {
    return static_cast<Grouping>((static_cast<size_t>(g) + 1) % kGroupingCount);
}

const char* column_header(Column c) { return kColumns[static_cast<size_t>(c)].header; }
const char* column_name(Column c) { return kColumns[static_cast<size_t>(c)].name; }
std::optional<Column> column_from_name(const std::string& name) {
    for (const auto& info : kColumns) {
        if (name == info.name) return info.column;
    }
    return std::nullopt;
}

std::string TopModel::process_key(uint32_t pid, const std::string& comm) const {
    if (pid == 0) return "(unknown)";
    return comm + "[" + std::to_string(pid) + "]";
}

// A client's local port is ephemeral, one per connection: its connections
// are grouped by the port they reach ("->80"), a server's by its own (":80").
std::string TopModel::port_key(Role role, const Endpoint& local, const Endpoint& remote) const {
    auto ephemeral = [&](uint16_t p) {
        return p >= options_.ephemeral_low && p <= options_.ephemeral_high;
    };
    if (role == Role::Unknown) {
        if (ephemeral(local.port) && !ephemeral(remote.port)) role = Role::Client;
        else role = Role::Server;
    }
    if (role == Role::Client) return "->" + std::to_string(remote.port);
    return ":" + std::to_string(local.port);
}

std::string TopModel::remote_key(const Endpoint& remote) {
    return remote.addr.empty() ? "(none)" : remote.addr;
}

std::array<std::string, kGroupingCount> TopModel::keys(uint32_t pid, const std::string& comm,
                                                       Role role, const Endpoint& local,
                                                       const Endpoint& remote) const {
    return {process_key(pid, comm), port_key(role, local, remote), remote_key(remote)};
}

TopModel::Group& TopModel::group(Grouping g, const std::string& key) {
    auto& groups = groups_[static_cast<size_t>(g)];
    auto it = groups.find(key);
    if (it == groups.end()) {
        it = groups.emplace(key, Group{}).first;
        it->second.row.key = key;
    }
    return it->second;
}

void TopModel::on_event(const Event& e) {
    if (e.kind == EventKind::State) {
        Role role;
        if (e.new_state == kSynSent) role = Role::Client;
        else if (e.old_state == kListen && e.new_state == kSynRecv) role = Role::Server;
        else return;
        ++conns_total_;
        const auto k = keys(e.pid, e.comm, role, e.local, e.remote);
        for (size_t g = 0; g < kGroupingCount; ++g) ++group(static_cast<Grouping>(g), k[g]).row.conns;
    } else if (e.kind == EventKind::Retransmit) {
        ++retransmits_total_;
        const auto k = keys(e.pid, e.comm, Role::Unknown, e.local, e.remote);
        for (size_t g = 0; g < kGroupingCount; ++g) {
            ++group(static_cast<Grouping>(g), k[g]).row.retransmits;
        }
    }
}

void TopModel::on_story(const ConnectionStory& s) {
    ++ended_total_[static_cast<size_t>(s.ending)];
    // The connect time: a client's SYN_SENT, when it got an answer.
    std::optional<uint64_t> connect_us;
    if (s.role == Role::Client && s.established) {
        for (const auto& span : s.states) {
            if (span.state == kSynSent && span.ns) connect_us = *span.ns / 1000;
        }
    }
    const uint32_t srtt_us = s.stats ? s.stats->srtt_us : 0;  // 0: the kernel did not say
    const bool reset_sent = s.ending == Ending::ResetSent || s.ending == Ending::Aborted;
    const std::string reason =
        reset_sent ? (s.reset_reason ? reasons_.name(*s.reset_reason) : std::string("?")) : "";
    const auto k = keys(s.pid, s.comm, s.role, s.local, s.remote);
    for (size_t g = 0; g < kGroupingCount; ++g) {
        Group& grp = group(static_cast<Grouping>(g), k[g]);
        ++grp.row.ended[static_cast<size_t>(s.ending)];
        if (reset_sent) ++grp.row.reset_sent_reasons[reason];
        if (connect_us) grp.connect.add(*connect_us);
        if (srtt_us) grp.rtt.add(srtt_us);
        grp.recent.push_back(s);
        if (grp.recent.size() > options_.recent_stories) grp.recent.pop_front();
    }
}

TopFrame TopModel::frame(
    uint64_t now_ns,
    const std::function<void(const std::function<void(const ConnectionStory&)>&)>& for_each_open,
    const std::vector<StuckReport>& stuck, std::map<std::string, uint64_t> sockets_by_state,
    const TopView& view) {
    TopFrame f;
    f.ts_ns = now_ns;
    f.interval_ns = last_frame_ns_ && now_ns > last_frame_ns_ ? now_ns - last_frame_ns_ : 0;
    f.view = view;
    // What is now, not counted: recomputed each frame.
    for (auto& groups : groups_) {
        for (auto& [key, grp] : groups) {
            grp.row.active = 0;
            grp.row.stuck = 0;
            grp.row.stuck_oldest_ns = 0;
            grp.row.stuck_oldest_state.clear();
        }
    }
    uint64_t active = 0;
    if (for_each_open) {
        for_each_open([&](const ConnectionStory& s) {
            ++active;
            const auto k = keys(s.pid, s.comm, s.role, s.local, s.remote);
            for (size_t g = 0; g < kGroupingCount; ++g) ++group(static_cast<Grouping>(g), k[g]).row.active;
        });
    }
    for (const auto& r : stuck) {
        const SocketRecord& sock = r.socket;
        const uint32_t pid = sock.has_storage ? sock.pid : 0;
        const auto k = keys(pid, sanitize_comm(sock.comm.c_str(), sock.comm.size()), Role::Unknown, sock.local, sock.remote);
        for (size_t g = 0; g < kGroupingCount; ++g) {
            TopRow& row = group(static_cast<Grouping>(g), k[g]).row;
            ++row.stuck;
            if (r.age_ns >= row.stuck_oldest_ns) {
                row.stuck_oldest_ns = r.age_ns;
                row.stuck_oldest_state = tcp_state_name(sock.state);
            }
        }
    }
    // Rates and percentiles, for every grouping (the next `g` shows them at once).
    for (auto& groups : groups_) {
        for (auto& [key, grp] : groups) {
            grp.row.new_per_s = per_second(grp.row.conns - grp.conns_at_last_frame, f.interval_ns);
            grp.row.retrans_per_s =
                per_second(grp.row.retransmits - grp.retransmits_at_last_frame, f.interval_ns);
            grp.conns_at_last_frame = grp.row.conns;
            grp.retransmits_at_last_frame = grp.row.retransmits;
            grp.row.connect_p50_us = grp.connect.percentile(0.5);
            grp.row.connect_p99_us = grp.connect.percentile(0.99);
            grp.row.rtt_p50_us = grp.rtt.percentile(0.5);
            grp.row.rtt_p99_us = grp.rtt.percentile(0.99);
        }
    }
    TopTotals& t = f.totals;
    t.new_per_s = per_second(conns_total_ - conns_at_last_frame_, f.interval_ns);
    t.retrans_per_s = per_second(retransmits_total_ - retransmits_at_last_frame_, f.interval_ns);
    conns_at_last_frame_ = conns_total_;
    retransmits_at_last_frame_ = retransmits_total_;
    t.conns = conns_total_;
    t.active = active;
    t.ended = ended_total_;
    t.retransmits = retransmits_total_;
    t.stuck = stuck.size();
    t.sockets_by_state = std::move(sockets_by_state);
    last_frame_ns_ = now_ns;

    for (size_t g = 0; g < kGroupingCount; ++g) {
        f.all_rows[g].reserve(groups_[g].size());
        for (const auto& [key, grp] : groups_[g]) f.all_rows[g].push_back(grp.row);
    }
    recut(f, view);
    return f;
}

void recut(TopFrame& f, const TopView& view) {
    f.view = view;
    f.rows.clear();
    f.rows_hidden = 0;
    for (const TopRow& row : f.all_rows[static_cast<size_t>(view.grouping)]) {
        if (!row_matches(row, view.filter)) {
            ++f.rows_hidden;
            continue;
        }
        f.rows.push_back(row);
    }
    sort_rows(f.rows, view.sort, view.ascending);
}

std::vector<ConnectionStory> TopModel::recent_stories(Grouping grouping, const std::string& key) const {
    const auto& groups = groups_[static_cast<size_t>(grouping)];
    auto it = groups.find(key);
    if (it == groups.end()) return {};
    return {it->second.recent.begin(), it->second.recent.end()};
}

void sort_rows(std::vector<TopRow>& rows, Column column, bool ascending) {
    // Ties (and the group column) by key, so that rows stand still between
    // frames.
    std::stable_sort(rows.begin(), rows.end(), [&](const TopRow& a, const TopRow& b) {
        if (column != Column::Group) {
            const double va = sort_value(a, column), vb = sort_value(b, column);
            if (va != vb) return ascending ? va < vb : va > vb;
            return a.key < b.key;
        }
        return ascending ? a.key < b.key : a.key > b.key;
    });
}

bool row_matches(const TopRow& row, const std::string& filter) {
    if (filter.empty()) return true;
    return lower(row.key).find(lower(filter)) != std::string::npos;
}

}  // namespace tcpscope
