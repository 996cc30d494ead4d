#include "metrics_command.h"

#include <signal.h>

#include <algorithm>
#include <chrono>
#include <cstring>
#include <ctime>
#include <fstream>
#include <mutex>

#include "btf_reasons.h"
#include "command_failure.h"
#include "container_labels.h"
#include "container_resolver.h"
#include "exit_codes.h"
#include "exposition.h"
#include "listen_address.h"
#include "metric_families.h"
#include "metrics_server.h"
#include "series_expiry.h"
#include "session.h"
#include "socket_census.h"
#include "stuck_detector.h"
#include "stuck_families.h"
#include "trace_loop.h"
#include "web_config.h"

namespace tcpscope {
namespace {

const char* const kMe = "tcpscope metrics";
constexpr const char* kVersion = TCPSCOPE_VERSION;  // CMake's project(VERSION)
// What a scrape lacks when sock_diag cannot be asked.
constexpr const char* kSnapshotFamilies = "tcpscope_sockets, tcpscope_close_wait_* and tcpscope_stuck_*";

bool bpf_stats_enabled() {
    std::ifstream in("/proc/sys/kernel/bpf_stats_enabled");
    int v = 0;
    return (in >> v) && v != 0;
}

// The stop signals, blocked in every thread (the server's inherit the
// mask) and taken by sigwait in the main thread: no handler runs inside a
// scrape, and stopping is an ordinary call.
sigset_t stop_signals() {
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGINT);
    sigaddset(&set, SIGTERM);
    sigaddset(&set, SIGHUP);
    return set;
}

SessionOptions session_options(const MetricsOptions& o) {
    SessionOptions s;
    s.command = "metrics";
    s.filter = o.filter;
    s.events = "state,reset,retransmit,error,signal,drop";
    s.doing = "counting";
    s.tracer.metrics_mode = true;
    s.tracer.max_series = o.max_series;
    s.tracer.verbose = o.verbose;
    s.tracer.all_drops = o.filter.all_drops;
    return s;
}

// What a scrape reads and remembers between scrapes: the kernel's counts
// (their series labelled by container, the idle ones expired), the socket
// census of sock_diag, the stuck sockets, and tcpscope's own numbers. One
// scrape at a time: each reads a few thousand map slots, and concurrent
// scrapers would only queue in the kernel instead of here.
class Scraper {
public:
    Scraper(const MetricsOptions& o, const SessionPlan& plan)
        : o_(o), reasons_(plan.reasons), label_mask_(plan.config.label_mask),
          expiry_(static_cast<uint64_t>(o.series_idle_s * 1e9)) {
        // --stuck: the detector of `trace --stuck`, fed a snapshot per
        // scrape; sockets older than tcpscope are "at least" since it started.
        if (o.stuck_s > 0) {
            stuck_ = std::make_unique<StuckDetector>(StuckOptions{static_cast<uint64_t>(o.stuck_s * 1e9), 0},
                                                     monotonic_ns());
        }
        // --labels container: cgroup ids into container IDs, from the
        // cgroup tree (found now, while /proc/self/mountinfo is ours to read).
        if (label_mask_ & TS_LABEL_CONTAINER) {
            resolver_ = std::make_unique<ContainerResolver>();
            if (!resolver_->mounted()) {
                warn(kMe, std::string("no cgroup v2 is mounted: every container label is \"") +
                              kUnknownContainer + "\"");
            }
        }
    }

    // Once the programs are loaded: the session's tracer, sock_diag for
    // the census (null: those families are left out), the server's own
    // counters.
    void start(Session* session, std::unique_ptr<SockDiag> census, const MetricsServer* endpoint) {
        std::lock_guard<std::mutex> lock(mutex_);
        session_ = session;
        census_ = std::move(census);
        endpoint_ = endpoint;
    }

    std::string scrape(ExpositionFormat format) {
        std::lock_guard<std::mutex> lock(mutex_);
        auto start = std::chrono::steady_clock::now();
        Tracer& tracer = session_->tracer();
        std::vector<prometheus::MetricFamily> families;
        SelfInfo self;
        self.version = kVersion;
        self.kernel = kernel_release();
        self.programs = tracer.program_stats();
        self.bpf_stats_enabled = bpf_stats_enabled();
        self.last_scrape_seconds = last_scrape_seconds_;
        (format == ExpositionFormat::kOpenMetrics ? open_metrics_scrapes_ : text_scrapes_) += 1;
        self.text_scrapes = text_scrapes_;
        self.open_metrics_scrapes = open_metrics_scrapes_;
        if (endpoint_) self.endpoint = endpoint_->counters();
        KernelCounts counts;
        if (tracer.read_counts(&counts)) {
            label_and_expire(&counts);
            families = kernel_families(counts, reasons_, kernel_drop_reasons());
            if (resolver_) families.push_back(container_info_family(container_labels_.containers()));
        }
        if (census_) add_census(&families);
        for (auto& f : self_families(self)) families.push_back(std::move(f));
        std::string body = render(families, format);
        last_scrape_seconds_ = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
        return body;
    }

    // Between scrapes: idle series expire without a scraper too.
    void sweep() {
        std::lock_guard<std::mutex> lock(mutex_);
        KernelCounts counts;
        if (session_->tracer().read_counts(&counts)) label_and_expire(&counts);
    }

private:
    // A cgroup the last walk did not see walks the tree again, once per
    // reading (*walked): that walk sees every cgroup that existed when the
    // kernel's counts or sock_diag's sockets were read (and not removed
    // since). Id 0 (no owner) is never in the tree.
    CgroupLookup lookup_cgroup(uint64_t cgroup_id, bool* walked) {
        CgroupLookup l;
        l.identity = resolver_->in_last_walk(cgroup_id, &l.found);
        if (!l.found && cgroup_id && !*walked) {
            resolver_->walk();
            *walked = true;
            l.identity = resolver_->in_last_walk(cgroup_id, &l.found);
        }
        return l;
    }

    // The containers first: the series of one container go idle together.
    // --labels: series idle for --series-idle are removed from the kernel's
    // map.
    void label_and_expire(KernelCounts* counts) {
        if (resolver_) {
            bool walked = false;
            container_labels_.label(&counts->series,
                                    [&](uint64_t cgroup_id) { return lookup_cgroup(cgroup_id, &walked); });
        }
        if (label_mask_ == 0) return;
        auto idle = expiry_.idle(counts->series, monotonic_ns());
        if (!idle.empty()) series_expired_ += session_->tracer().expire_series(idle);
        counts->series_expired = series_expired_;
    }

    void add_census(std::vector<prometheus::MetricFamily>* families) {
        SocketSnapshot snapshot;
        std::string error;
        if (!census_->read(&snapshot, &error)) {
            warn(kMe, error + "; tcpscope_sockets and tcpscope_stuck_* left out of this scrape");
            return;
        }
        close_wait_ages_.update(snapshot);
        // --labels container: the CLOSE_WAIT gauges by container too, named
        // from the same walks as the counters (one more at most).
        bool walked = false;
        ContainerOf container_of;
        if (resolver_) {
            container_of = [&](uint64_t cgroup_id) { return container_label_of(lookup_cgroup(cgroup_id, &walked)); };
        }
        for (auto& f : census_families(census_of(snapshot, &close_wait_ages_, container_of))) {
            families->push_back(std::move(f));
        }
        if (!stuck_) return;
        stuck_->update(snapshot);
        std::vector<StuckReport> now_stuck;
        // The filters decide what is counted, here as in trace --stuck.
        for (auto& r : stuck_->stuck_now()) {
            if (socket_passes(r.socket, session_->filter())) now_stuck.push_back(std::move(r));
        }
        for (auto& f : stuck_families(now_stuck, static_cast<uint64_t>(o_.stuck_s * 1e9))) {
            families->push_back(std::move(f));
        }
    }

    const MetricsOptions& o_;
    const ResetReasons reasons_;
    const uint32_t label_mask_;
    std::mutex mutex_;
    Session* session_ = nullptr;
    std::unique_ptr<SockDiag> census_;
    const MetricsServer* endpoint_ = nullptr;
    std::unique_ptr<StuckDetector> stuck_;
    SeriesExpiry expiry_;
    uint64_t series_expired_ = 0;
    std::unique_ptr<ContainerResolver> resolver_;
    ContainerLabels container_labels_;
    CloseWaitAges close_wait_ages_;  // of CLOSE_WAIT sockets older than tcpscope: since first found
    double last_scrape_seconds_ = 0;
    uint64_t text_scrapes_ = 0;
    uint64_t open_metrics_scrapes_ = 0;
};

// The census counts the sockets of one namespace: --netns's, or ours.
std::unique_ptr<SockDiag> open_census(const Session& session) {
    std::string why;
    auto census = session.open_sock_diag(&why);
    if (!census) warn(kMe, why + ": " + kSnapshotFamilies + " are left out");
    return census;
}

void warn_if_open(const ListenAddress& listen, const WebConfig& web) {
    if (listen.loopback || !web.users.empty()) return;
    warn(kMe, "listening on " + listen_address_text(listen) +
                  ", which is not a loopback address, without basic_auth_users in a "
                  "--web.config.file: anyone who can reach it can read these metrics");
}

// Until a stop signal; idle series expire between scrapes too: without a
// scraper the map would otherwise keep what a burst filled.
int wait_for_stop(const MetricsOptions& o, const sigset_t& stops, uint32_t label_mask, Scraper& scraper) {
    const double sweep_s = std::min(o.series_idle_s / 4, 10.0);
    const struct timespec sweep_period = {static_cast<time_t>(sweep_s),
                                          static_cast<long>((sweep_s - static_cast<long>(sweep_s)) * 1e9)};
    int sig = -1;
    while (sig < 0) {
        if (label_mask == 0) {
            sigwait(&stops, &sig);
            break;
        }
        sig = sigtimedwait(&stops, nullptr, &sweep_period);
        if (sig < 0) scraper.sweep();
    }
    return sig;
}

}  // namespace

int run_metrics_command(const MetricsOptions& o) {
    ListenAddress listen;
    std::string error;
    if (!parse_listen_address(o.listen, &listen, &error)) return fail(kMe, kExitUsage, "--listen: " + error);
    WebConfig web;
    if (!o.web_config_file.empty() && !load_web_config(o.web_config_file, &web, &error)) {
        return fail(kMe, kExitUsage, "--web.config.file: " + error);
    }
    SessionPlan plan;
    CommandFailure failure;
    if (!prepare_session(session_options(o), &plan, &failure)) return fail(kMe, failure);
    if (!o.labels.empty() && !parse_label_names(o.labels, &plan.config.label_mask, &error)) {
        return fail(kMe, kExitUsage, "--labels: " + error);
    }
    sigset_t stops = stop_signals();
    pthread_sigmask(SIG_BLOCK, &stops, nullptr);
    signal(SIGPIPE, SIG_IGN);
    const uint32_t label_mask = plan.config.label_mask;
    Scraper scraper(o, plan);
    MetricsServer server([&](ExpositionFormat format) { return scraper.scrape(format); });
    if (!server.configure(web, &error)) return fail(kMe, kExitUsage, "--web.config.file: " + error);
    // Bind before loading: a port in use is found at once, and a scraper
    // that connects while the programs load waits in the backlog.
    if (!server.bind(listen, &error)) return fail(kMe, kExitEnvironment, error);
    auto session = open_session(std::move(plan), [](const void*, size_t) {}, &failure);
    if (!session) return fail(kMe, failure);
    scraper.start(session.get(), open_census(*session), &server);
    warn_if_open(listen, web);
    // Attached, maps and sock_diag socket open, port bound: from here on a
    // scrape needs CAP_BPF and nothing else. The server's threads start
    // after, so they inherit the reduced set.
    if (!o.no_drop) {
        std::string kept;
        if (!session->drop_root(o.user, true, " (use --no-drop to keep every privilege)", &kept, &failure)) {
            return fail(kMe, failure);
        }
        if (o.verbose) say(kMe, "running as " + kept);
    }
    server.serve();
    say(kMe, std::string("serving ") + (web.tls ? "https" : "http") + "://" + listen_address_text(listen) +
                 "/metrics");
    const int sig = wait_for_stop(o, stops, label_mask, scraper);
    say(kMe, std::string(strsignal(sig)) + ", stopping");
    server.stop();
    return kExitOk;
}

}  // namespace tcpscope
