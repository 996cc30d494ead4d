// Owns the loaded BPF programs: open -> set filters -> load -> attach, then
// poll the ring buffer. Everything libbpf hands out is released by the
// destructor, so links detach on every path out of the process.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include <linux/types.h>

#include "kernel_counts.h"
#include "kernel_support.h"
#include "load_failure.h"
#include "socket_owners.h"
#include "tcpscope.h"

struct tcpscope_bpf;
struct ring_buffer;

namespace tcpscope {

struct TracerConfig {
    ts_filter filter{};
    uint32_t ringbuf_bytes = 4u << 20;  // power of two, multiple of the page size
    bool verbose = false;               // libbpf's own messages on stderr
    // Wake the reader only once this fraction of the ring buffer is
    // waiting (0: on every record). The reader polls on its own timer, so
    // a batch waits at most that long.
    uint32_t wakeup_divisor = 8;
    // Whether this kernel has a tracepoint (by name, e.g. "tcp_send_reset").
    // Unset: looked up in the kernel's BTF. Tests set it to play a kernel
    // that lacks some.
    std::function<bool(const std::string&)> has_tracepoint;
    // Learn the owners of the TCP sockets that exist already (see
    // socket_owners.h). Off where every socket of interest is made after
    // the start (the scenario runner, exec): the iterator is not loaded.
    bool seed_owners = true;
    // `tcpscope metrics`: the programs count into per-CPU arrays (read
    // with read_counts) and send no record; the ring buffer is left at
    // its smallest and never polled.
    bool metrics_mode = false;
    // Metrics mode: the labels of the counters' series (TS_LABEL_*), and
    // how many series the kernel may make at most (1 to TS_MAX_SERIES_CAP).
    uint32_t label_mask = 0;
    uint32_t max_series = 10000;
    // Also the drops that lose nothing on the network (--all-drops):
    // NOT_SPECIFIED, and a socket's queues emptied at close.
    bool all_drops = false;
};

// The running kernel's release (uname -r), "unknown" when uname fails.
std::string kernel_release();

// Reads what the running kernel's tracepoints offer from its BTF (the
// btf_trace_<name> typedef of each: a pointer to a function whose
// parameters after the context are the tracepoint's arguments); *error
// says why when it cannot (then nothing is known).
KernelSupport probe_kernel_support(std::string* error = nullptr);

// Events the kernel side could not deliver, by reason and by event kind.
struct KernelLosses {
    // No room in the ring buffer (the reader fell behind).
    uint64_t ringbuf_full[TS_KIND_COUNT] = {};
    // The kernel skipped our program because it was already running on
    // that CPU (an interrupt arrived while it ran), or our programs were
    // already nested four deep there (process, softirq, hardirq, NMI):
    // the event was never seen. Counted before filtering, so an upper
    // bound on what the filters would have let through.
    uint64_t program_skipped[TS_KIND_COUNT] = {};

    // False when a counter could not be read (then the sums fall short).
    bool complete = true;

    uint64_t ringbuf_full_total() const;
    uint64_t program_skipped_total() const;
    uint64_t total() const { return ringbuf_full_total() + program_skipped_total(); }
};

// Which stage failed, and why, in words that say what to do: the stage,
// the errno, the message, libbpf's messages (the verifier's log among
// them, captured whether --verbose or not) and the kernel's release.
struct TracerError : LoadFailure {
    std::string text() const { return load_failure_text(*this); }
};

class Tracer {
public:
    using RecordHandler = std::function<void(const void* data, size_t size)>;

    ~Tracer();
    Tracer(const Tracer&) = delete;
    Tracer& operator=(const Tracer&) = delete;

    // Loads and attaches; on failure returns null and fills *error.
    static std::unique_ptr<Tracer> start(const TracerConfig& config, RecordHandler handler,
                                         TracerError* error);

    // Waits up to timeout_ms for records (woken early when the buffer
    // fills), then hands every record ready to the handler.
    // Returns the number handled, or a negative errno (-EINTR when a
    // signal interrupted the wait).
    int poll(int timeout_ms);
    // Drains whatever is ready without waiting.
    int drain();

    // What the kernel side could not deliver so far (a few syscalls).
    KernelLosses losses() const;
    uint64_t lost_total() const { return losses().total(); }

    // Metrics mode: the counters, summed over CPUs. False when a map
    // could not be read.
    bool read_counts(KernelCounts* out) const;
    // Metrics mode with labels: removes these series (found idle by a
    // reading, SeriesCount::value as read then) from the kernel's map, so
    // that their space serves new series; a series counted since that
    // reading stays, with every count. Returns how many were removed.
    size_t expire_series(const std::vector<SeriesCount>& idle);
    // The socket storage map (struct ts_sock_info), for sock_diag to dump
    // beside each socket.
    int socket_storage_fd() const;
    // filter.scope: a network namespace (by cookie) whose ownerless events
    // (RSTs with no socket or from a mini-socket) are the scope's too. The
    // kernel adds the namespaces of the --cgroup tree's own sockets itself.
    bool add_scope_netns(uint64_t netns_cookie);
    // The owners of older sockets the start found, by socket inode
    // (struct ts_older_owner, owners.h), for sockets the programs have
    // not met yet.
    int older_owners_fd() const;
    // The kernel's accounting of each loaded program.
    std::vector<ProgramStats> program_stats() const;

    // Event kinds left out because this kernel lacks their tracepoint.
    const std::vector<std::string>& warnings() const { return warnings_; }
    // The kernel's tracepoints as the loader found them.
    const KernelSupport& support() const { return support_; }
    // What seeding the owners of older sockets found (all zero when off).
    const SeedResult& seeded_owners() const { return seeded_; }

private:
    Tracer() = default;
    bool read_series(std::vector<SeriesCount>* out) const;
    // One pass of the iterator over the tasks' files (socket_owners.h),
    // draining the ring buffer meanwhile; fills seeded_ and the warnings.
    void learn_owners();

    struct tcpscope_bpf* skel_ = nullptr;
    struct ring_buffer* ringbuf_ = nullptr;
    RecordHandler handler_;
    std::vector<std::string> warnings_;
    KernelSupport support_;
    SeedResult seeded_;
    int ncpus_ = 1;
    uint32_t label_mask_ = 0;
    // The kernel refused BPF_MAP_LOOKUP_BATCH once: read series one by one.
    mutable bool batch_refused_ = false;
    // Loaded programs that emit events, with the kind they emit.
    std::vector<std::pair<int, int>> event_programs_;  // (prog fd, kind)
};

}  // namespace tcpscope
