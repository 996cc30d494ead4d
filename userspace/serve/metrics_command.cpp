#include "container_resolver.h"
#include "metrics_command.h"

#include <signal.h>

#include <sys/stat.h>

#include <algorithm>
#include <chrono>
#include <ctime>
#include <dirent.h>
#include <cstdio>
#include <fstream>
#include <mutex>

#include "btf_reasons.h"
#include "container_labels.h"
#include "exit_codes.h"
#include "exposition.h"
#include "listen_address.h"
#include "metric_families.h"
#include "metrics_server.h"
#include "series_expiry.h"
#include "netns_check.h"
#include "unmatched_filters.h"
#include "privileges.h"
#include "sock_diag.h"
#include "socket_census.h"
#include "stuck_detector.h"
#include "stuck_families.h"
#include "trace_loop.h"
#include "tracer.h"
#include "web_config.h"

namespace tcpscope {
namespace {

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


}  // namespace

int run_metrics_command(const MetricsOptions& o) {
    const char* me = "tcpscope metrics";
    ListenAddress listen;
    std::string error;
    if (!parse_listen_address(o.listen, &listen, &error)) {
        std::fprintf(stderr, "%s: --listen: %s\n", me, error.c_str());
        return kExitUsage;
    }
    WebConfig web;
    if (!o.web_config_file.empty() && !load_web_config(o.web_config_file, &web, &error)) {
        std::fprintf(stderr, "%s: --web.config.file: %s\n", me, error.c_str());
        return kExitUsage;
    }
    TracerConfig config;
    FilterOptions filter = o.filter;
    filter.events = "state,reset,retransmit,error,signal,drop";
    if (!resolve_filter_container(&filter, &error) || !build_filter(filter, &config.filter, &error)) {
        std::fprintf(stderr, "%s: %s\n", me, error.c_str());
        return kExitUsage;
    }
    config.metrics_mode = true;
    if (!o.labels.empty() && !parse_label_names(o.labels, &config.label_mask, &error)) {
        std::fprintf(stderr, "%s: --labels: %s\n", me, error.c_str());
        return kExitUsage;
    }
    config.max_series = o.max_series;
    config.verbose = o.verbose;
    config.all_drops = o.filter.all_drops;

    sigset_t stops = stop_signals();
    pthread_sigmask(SIG_BLOCK, &stops, nullptr);
    signal(SIGPIPE, SIG_IGN);

    std::string btf_error;
    const ResetReasons reasons = load_kernel_reset_reasons(&btf_error);
    std::unique_ptr<Tracer> tracer;
    std::unique_ptr<SockDiag> census_reader;
    // --stuck: the detector of `trace --stuck`, fed a snapshot per scrape;
    // sockets older than tcpscope are "at least" since it started.
    std::unique_ptr<StuckDetector> stuck;
    if (o.stuck_s > 0) {
        stuck = std::make_unique<StuckDetector>(StuckOptions{static_cast<uint64_t>(o.stuck_s * 1e9), 0},
                                                monotonic_ns());
    }
    // --labels: series idle for --series-idle are removed from the kernel's
    // map at each scrape, and between scrapes by the main thread.
    SeriesExpiry expiry(static_cast<uint64_t>(o.series_idle_s * 1e9));
    uint64_t series_expired = 0;
    // --labels container: cgroup ids into container IDs, from the cgroup
    // tree (found now, while /proc/self/mountinfo is ours to read).
    std::unique_ptr<ContainerResolver> resolver;
    ContainerLabels container_labels;
    if (config.label_mask & TS_LABEL_CONTAINER) {
        resolver = std::make_unique<ContainerResolver>();
        if (!resolver->mounted()) {
            std::fprintf(stderr, "%s: warning: no cgroup v2 is mounted: every container label is \"%s\"\n",
                         me, kUnknownContainer);
        }
    }
    // A cgroup the last walk did not see walks the tree again, once per
    // reading (*walked): that walk sees every cgroup that existed when the
    // kernel's counts or sock_diag's sockets were read (and not removed
    // since). Id 0 (no owner) is never in the tree.
    auto lookup_cgroup = [&](uint64_t cgroup_id, bool* walked) {
        CgroupLookup l;
        l.identity = resolver->in_last_walk(cgroup_id, &l.found);
        if (!l.found && cgroup_id && !*walked) {
            resolver->walk();
            *walked = true;
            l.identity = resolver->in_last_walk(cgroup_id, &l.found);
        }
        return l;
    };
    // Caller holds scrape_mutex. Before the expiry: the series of one
    // container go idle together.
    auto label_containers = [&](KernelCounts* counts) {
        if (!resolver) return;
        bool walked = false;
        container_labels.label(&counts->series, [&](uint64_t cgroup_id) { return lookup_cgroup(cgroup_id, &walked); });
    };
    // Ages of CLOSE_WAIT sockets older than tcpscope: since first found.
    CloseWaitAges close_wait_ages;
    std::mutex scrape_mutex;
    // Caller holds scrape_mutex.
    auto expire_idle_series = [&](KernelCounts* counts) {
        if (config.label_mask == 0) return;
        auto idle = expiry.idle(counts->series, monotonic_ns());
        if (!idle.empty()) series_expired += tracer->expire_series(idle);
        counts->series_expired = series_expired;
    };
    double last_scrape_seconds = 0;
    uint64_t text_scrapes = 0;
    uint64_t open_metrics_scrapes = 0;
    // The server's own counters, read at each scrape (the scrape runs on
    // the server's threads, which start after it is set).
    const MetricsServer* endpoint = nullptr;
    // One scrape at a time: each reads a few thousand map slots, and
    // concurrent scrapers would only queue in the kernel instead of here.
    MetricsServer server([&](ExpositionFormat format) {
        std::lock_guard<std::mutex> lock(scrape_mutex);
        auto start = std::chrono::steady_clock::now();
        KernelCounts counts;
        std::vector<prometheus::MetricFamily> families;
        SelfInfo self;
        self.version = kVersion;
        self.kernel = kernel_release();
        self.programs = tracer->program_stats();
        self.bpf_stats_enabled = bpf_stats_enabled();
        self.last_scrape_seconds = last_scrape_seconds;
        (format == ExpositionFormat::kOpenMetrics ? open_metrics_scrapes : text_scrapes) += 1;
        self.text_scrapes = text_scrapes;
        self.open_metrics_scrapes = open_metrics_scrapes;
        if (endpoint) self.endpoint = endpoint->counters();
        if (tracer->read_counts(&counts)) {
            label_containers(&counts);
            expire_idle_series(&counts);
            families = kernel_families(counts, reasons, kernel_drop_reasons());
            if (resolver) families.push_back(container_info_family(container_labels.containers()));
        }
        if (census_reader) {
            SocketSnapshot snapshot;
            std::string census_error;
            if (census_reader->read(&snapshot, &census_error)) {
                close_wait_ages.update(snapshot);
                // --labels container: the CLOSE_WAIT gauges by container too,
                // named from the same walks as the counters (one more at most).
                bool walked = false;
                ContainerOf container_of;
                if (resolver) {
                    container_of = [&](uint64_t cgroup_id) {
                        return container_label_of(lookup_cgroup(cgroup_id, &walked));
                    };
                }
                for (auto& f : census_families(census_of(snapshot, &close_wait_ages, container_of))) {
                    families.push_back(std::move(f));
                }
                if (stuck) {
                    stuck->update(snapshot);
                    std::vector<StuckReport> now_stuck;
                    // The filters decide what is counted, here as in trace --stuck.
                    for (auto& r : stuck->stuck_now()) {
                        if (socket_passes(r.socket, config.filter)) now_stuck.push_back(std::move(r));
                    }
                    for (auto& f : stuck_families(now_stuck, static_cast<uint64_t>(o.stuck_s * 1e9))) {
                        families.push_back(std::move(f));
                    }
                }
            } else {
                std::fprintf(stderr,
                             "%s: warning: %s; tcpscope_sockets and tcpscope_stuck_* left out of this "
                             "scrape\n",
                             me, census_error.c_str());
            }
        }
        for (auto& f : self_families(self)) families.push_back(std::move(f));
        std::string body = render(families, format);
        last_scrape_seconds =
            std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
        return body;
    });
    if (!server.configure(web, &error)) {
        std::fprintf(stderr, "%s: --web.config.file: %s\n", me, error.c_str());
        return kExitUsage;
    }
    // Bind before loading: a port in use is found at once, and a scraper
    // that connects while the programs load waits in the backlog.
    if (!server.bind(listen, &error)) {
        std::fprintf(stderr, "%s: %s\n", me, error.c_str());
        return kExitEnvironment;
    }
    TracerError terr;
    tracer = Tracer::start(config, [](const void*, size_t) {}, &terr);
    if (!tracer) {
        std::fprintf(stderr, "%s: %s\n", me, terr.text().c_str());
        return kExitEnvironment;
    }
    for (const auto& w : tracer->warnings()) std::fprintf(stderr, "%s: warning: %s\n", me, w.c_str());
    for (const auto& w : unmatched_filter_warnings(o.filter, config.filter, "counting")) {
        std::fprintf(stderr, "%s: warning: %s\n", me, w.c_str());
    }
    // The census counts the sockets of one namespace: --netns's, or ours.
    std::string why;
    std::string census_netns = netns_file(o.filter.netns, &why);
    if (!o.filter.netns.empty() && census_netns.empty()) {
        std::fprintf(stderr, "%s: warning: %s: %s are left out\n",
                     me, why.c_str(), kSnapshotFamilies);
    } else {
        census_reader = SockDiag::open(census_netns, tracer->socket_storage_fd(), &why,
                                       tracer->older_owners_fd());
        if (!census_reader) {
            std::fprintf(stderr, "%s: warning: %s: %s are left out\n",
                         me, why.c_str(), kSnapshotFamilies);
        }
    }
    if (!btf_error.empty()) {
        std::fprintf(stderr, "%s: warning: %s; reset reasons shown as numbers\n", me,
                     btf_error.c_str());
    }
    if (!listen.loopback && web.users.empty()) {
        std::fprintf(stderr,
                     "%s: warning: listening on %s, which is not a loopback address, without "
                     "basic_auth_users in a --web.config.file: anyone who can reach it can read "
                     "these metrics\n",
                     me, listen_address_text(listen).c_str());
    }
    // Attached, maps and sock_diag socket open, port bound: from here on a
    // scrape needs CAP_BPF and nothing else. The server's threads start
    // after, so they inherit the reduced set.
    if (!o.no_drop) {
        std::string kept;
        if (!drop_to_bpf_reader(o.user, &kept, &error)) {
            std::fprintf(stderr, "%s: %s (use --no-drop to keep every privilege)\n", me, error.c_str());
            return kExitEnvironment;
        }
        if (o.verbose) std::fprintf(stderr, "%s: running as %s\n", me, kept.c_str());
    }
    endpoint = &server;
    server.serve();
    std::fprintf(stderr, "%s: serving %s://%s/metrics\n", me, web.tls ? "https" : "http",
                 listen_address_text(listen).c_str());
    // Idle series expire between scrapes too: without a scraper the map
    // would otherwise keep what a burst filled.
    const double sweep_s = std::min(o.series_idle_s / 4, 10.0);
    const struct timespec sweep_period = {static_cast<time_t>(sweep_s),
                                          static_cast<long>((sweep_s - static_cast<long>(sweep_s)) * 1e9)};
    int sig = -1;
    while (sig < 0) {
        if (config.label_mask == 0) {
            sigwait(&stops, &sig);
            break;
        }
        sig = sigtimedwait(&stops, nullptr, &sweep_period);
        if (sig < 0) {
            std::lock_guard<std::mutex> lock(scrape_mutex);
            KernelCounts counts;
            if (tracer->read_counts(&counts)) {
                label_containers(&counts);
                expire_idle_series(&counts);
            }
        }
    }
    std::fprintf(stderr, "%s: %s, stopping\n", me, strsignal(sig));
    server.stop();
    return kExitOk;
}

}  // namespace tcpscope
