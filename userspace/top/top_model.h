// `tcpscope top`'s model: connections' events, their stories and the stuck
// sockets aggregated into one row per group (process, local port or remote
// address), and each interval's frame of those rows, filtered and sorted.
//
//   TopModel model(options);
//   per event:           model.on_event(e)       (new connections, retransmits)
//   per complete story:  model.on_story(story)   (how it ended, connect time, RTT)
//   per interval:        TopFrame f = model.frame(now, open_stories, stuck_now, view)
//
// Counts since top started, rates over the last interval. The endings are
// the stories' own (Ending, and the kernel's RST reason): top adds no
// classification of its own. Pure: unit tests feed it by hand.
#pragma once

#include <array>
#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

#include "connection_story.h"
#include "latency_histogram.h"
#include "names.h"
#include "stuck_detector.h"

namespace tcpscope {

enum class Grouping { Process, LocalPort, RemoteAddr };
constexpr size_t kGroupingCount = 3;
const char* grouping_name(Grouping g);  // "process", "port", "remote"
std::optional<Grouping> grouping_from_name(const std::string& name);
Grouping next_grouping(Grouping g);

constexpr size_t kEndingCount = static_cast<size_t>(Ending::Unknown) + 1;

// The table's columns, in screen order; sort keys for all but Reasons.
enum class Column {
    Group, NewPerS, Conns, Active, Fin, Aborted, ResetSent, ResetReceived, Refused, Timeout,
    RetransPerS, Stuck, StuckOldest, ConnectP50, ConnectP99, RttP50, RttP99, Reasons,
};
constexpr size_t kColumnCount = static_cast<size_t>(Column::Reasons) + 1;
const char* column_header(Column c);  // "NEW/s", ...
const char* column_name(Column c);    // "new_per_s", ... (--sort, JSON)
std::optional<Column> column_from_name(const std::string& name);

// One group's row as shown.
struct TopRow {
    std::string key;
    double new_per_s = 0;
    uint64_t conns = 0;       // new connections since start
    uint64_t active = 0;      // open now
    std::array<uint64_t, kEndingCount> ended{};  // by Ending, since start
    std::map<std::string, uint64_t> reset_sent_reasons;  // RSTs of ResetSent and Aborted
    double retrans_per_s = 0;
    uint64_t retransmits = 0;  // since start
    uint64_t stuck = 0;        // stuck now
    uint64_t stuck_oldest_ns = 0;
    std::string stuck_oldest_state;  // "CLOSE_WAIT"
    std::optional<uint64_t> connect_p50_us, connect_p99_us;
    std::optional<uint64_t> rtt_p50_us, rtt_p99_us;

    uint64_t ended_by(Ending e) const { return ended[static_cast<size_t>(e)]; }
};

// How a frame is cut: grouping, sort, and the typed filter (a substring of
// the group's key, case-insensitive).
struct TopView {
    Grouping grouping = Grouping::Process;
    Column sort = Column::Conns;
    bool ascending = false;
    std::string filter;
};

// The whole host (what passed trace's filters), whatever the view.
struct TopTotals {
    double new_per_s = 0;
    uint64_t conns = 0;
    uint64_t active = 0;
    std::array<uint64_t, kEndingCount> ended{};
    double retrans_per_s = 0;
    uint64_t retransmits = 0;
    uint64_t stuck = 0;
    // The namespace's sockets by state name, from the last snapshot (empty
    // without one).
    std::map<std::string, uint64_t> sockets_by_state;
};

// tcpscope's own cost and losses, filled by the command.
struct TopSelf {
    double cpu_percent = 0;  // user + system time over the interval, of one CPU
    std::map<std::string, uint64_t> lost_by_reason;  // since start, by LossReason name
    uint64_t stories_evicted = 0;    // StoryBuilder's bound at work
    uint64_t stories_cut_short = 0;
};

struct TopFrame {
    uint64_t ts_ns = 0;        // the end of the interval (CLOCK_MONOTONIC)
    uint64_t interval_ns = 0;  // its length
    TopView view;
    TopTotals totals;
    std::vector<TopRow> rows;  // the view's grouping, filtered and sorted
    size_t rows_hidden = 0;    // by the filter
    // Every grouping's rows, unfiltered: a paused screen re-cuts these.
    std::array<std::vector<TopRow>, kGroupingCount> all_rows;
    TopSelf self;
    std::string clock;  // the header's time of day ("12:44:50 UTC"), filled by the command
};

struct TopModelOptions {
    uint16_t ephemeral_low = 32768;  // the client's side of a connection not seen opening
    uint16_t ephemeral_high = 60999;
    size_t recent_stories = 20;      // kept per row for the story view
};

class TopModel {
public:
    // reasons: the kernel's RST reason names, for the reasons column.
    explicit TopModel(const ResetReasons& reasons, TopModelOptions options = {})
        : reasons_(reasons), options_(options) {}

    // A live event: a new connection (SYN_SENT, or LISTEN -> SYN_RECV) or
    // a retransmit. Other events go to the stories.
    void on_event(const Event& e);
    // A complete story: its ending, connect time and smoothed RTT.
    void on_story(const ConnectionStory& story);

    // The frame of the interval ending at now_ns. `for_each_open` visits the
    // connections open now (the story builder's); `stuck` is the stuck
    // detector's stuck_now() (or empty), sockets_by_state the census.
    TopFrame frame(uint64_t now_ns,
                   const std::function<void(const std::function<void(const ConnectionStory&)>&)>&
                       for_each_open,
                   const std::vector<StuckReport>& stuck,
                   std::map<std::string, uint64_t> sockets_by_state, const TopView& view);

    // The most recent stories of the row `key` under `grouping`, oldest first.
    std::vector<ConnectionStory> recent_stories(Grouping grouping, const std::string& key) const;
    size_t rows(Grouping grouping) const { return groups_[static_cast<size_t>(grouping)].size(); }

    // The key of each grouping, public for the tests.
    std::string process_key(uint32_t pid, const std::string& comm) const;
    std::string port_key(Role role, const Endpoint& local, const Endpoint& remote) const;
    static std::string remote_key(const Endpoint& remote);

private:
    struct Group {
        TopRow row;  // the counts since start; active, stuck, rates and percentiles at frame()
        uint64_t conns_at_last_frame = 0;
        uint64_t retransmits_at_last_frame = 0;
        LatencyHistogram connect;
        LatencyHistogram rtt;
        std::deque<ConnectionStory> recent;
    };
    using Groups = std::unordered_map<std::string, Group>;

    // The three keys of one connection, in Grouping order.
    std::array<std::string, kGroupingCount> keys(uint32_t pid, const std::string& comm, Role role,
                                                 const Endpoint& local, const Endpoint& remote) const;
    Group& group(Grouping g, const std::string& key);

    const ResetReasons& reasons_;
    TopModelOptions options_;
    std::array<Groups, kGroupingCount> groups_;
    uint64_t last_frame_ns_ = 0;
    uint64_t conns_total_ = 0, conns_at_last_frame_ = 0;
    uint64_t retransmits_total_ = 0, retransmits_at_last_frame_ = 0;
    std::array<uint64_t, kEndingCount> ended_total_{};
};

// Cuts frame.rows from frame.all_rows for `view` (grouping, filter, sort).
void recut(TopFrame& frame, const TopView& view);
// Sorting and the filter, on their own for the tests.
void sort_rows(std::vector<TopRow>& rows, Column column, bool ascending);
bool row_matches(const TopRow& row, const std::string& filter);

}  // namespace tcpscope
