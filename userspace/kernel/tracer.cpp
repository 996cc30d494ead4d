#include "tracer.h"

#include <bpf/bpf.h>
#include <bpf/btf.h>
#include <bpf/libbpf.h>
#include <sys/utsname.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <atomic>
#include <thread>
#include <cerrno>
#include <cstddef>
#include <cstdarg>
#include <cstdio>
#include <cstring>

#include "btf_reasons.h"
#include "kernel_hz.h"
#include "ring_reader.h"
#include "tcpscope.skel.h"

// The kernel's ENOTSUPP (524), which it returns for BPF commands a map
// type lacks; not in the C library's errno.h.
constexpr int ENOTSUPP_ERRNO = 524;

namespace tcpscope {

namespace {

bool g_verbose = false;

// libbpf's messages since the last start(), whatever --verbose says: a
// refused load is explained by the verifier's log, which libbpf hands to
// this callback. Bounded: only the last lines are ever shown.
constexpr size_t kKeptLogLines = 2000;
std::vector<std::string> g_log;
std::string g_log_partial;

void keep_log(const char* text) {
    for (const char* p = text; *p; ++p) {
        if (*p != '\n') {
            g_log_partial += *p;
            continue;
        }
        g_log.push_back(std::move(g_log_partial));
        g_log_partial.clear();
        if (g_log.size() > 2 * kKeptLogLines) {
            g_log.erase(g_log.begin(), g_log.end() - static_cast<long>(kKeptLogLines));
        }
    }
}

std::vector<std::string> captured_log() {
    std::vector<std::string> out(
        g_log.size() > kKeptLogLines ? g_log.end() - static_cast<long>(kKeptLogLines) : g_log.begin(),
        g_log.end());
    if (!g_log_partial.empty()) out.push_back(g_log_partial);
    return out;
}

int libbpf_print(enum libbpf_print_level level, const char* format, va_list args) {
    if (level != LIBBPF_DEBUG) {
        va_list sized, filled;
        va_copy(sized, args);
        int n = vsnprintf(nullptr, 0, format, sized);
        va_end(sized);
        if (n > 0) {
            // The verifier's log comes as one message, of any length.
            std::vector<char> text(static_cast<size_t>(n) + 1);
            va_copy(filled, args);
            vsnprintf(text.data(), text.size(), format, filled);
            va_end(filled);
            keep_log(text.data());
        }
    }
    return g_verbose ? vfprintf(stderr, format, args) : 0;
}

void set_error(TracerError* e, std::string stage, int err, std::string message) {
    e->stage = std::move(stage);
    e->err = err;
    e->message = std::move(message);
    e->log = captured_log();
    struct utsname u {};
    e->kernel_release = uname(&u) == 0 ? u.release : "unknown";
}

constexpr int kAlways = -1;

// One program per tracepoint prototype: the event kind it serves (kAlways:
// needed whatever the kinds asked for), the tracepoint, and how many of its
// arguments the program reads. The kernel refuses to load a program that
// reads more arguments than its prototype has.
struct ProgramSpec {
    struct bpf_program* prog;
    int kind;
    const char* tracepoint;
    int args;
};

// The kind of event a program emits.
int emitted_kind(const ProgramSpec& spec, const struct tcpscope_bpf* skel) {
    if (spec.prog == skel->progs.handle_set_state) return TS_KIND_STATE;
    return spec.kind;
}

std::vector<ProgramSpec> program_specs(struct tcpscope_bpf* skel) {
    return {
        {skel->progs.handle_set_state, kAlways, "inet_sock_set_state", 3},
        // (sk, skb) before 6.10, (sk, skb, reason) from 6.10
        {skel->progs.handle_send_reset, TS_KIND_RESET_SENT, "tcp_send_reset", 2},
        {skel->progs.handle_send_reset_reason, TS_KIND_RESET_SENT, "tcp_send_reset", 3},
        {skel->progs.handle_receive_reset, TS_KIND_RESET_RECEIVED, "tcp_receive_reset", 1},
        // (sk, skb) before 6.17, (sk, skb, err) from 6.17
        {skel->progs.handle_retransmit, TS_KIND_RETRANSMIT, "tcp_retransmit_skb", 2},
        {skel->progs.handle_retransmit_err, TS_KIND_RETRANSMIT, "tcp_retransmit_skb", 3},
        {skel->progs.handle_error_report, TS_KIND_SOCK_ERROR, "inet_sk_error_report", 1},
        {skel->progs.handle_signal, TS_KIND_SIGNAL, "signal_generate", 5},
        {skel->progs.handle_send_length, TS_KIND_SEND, "sock_send_length", 3},
        {skel->progs.handle_recv_length, TS_KIND_RECV, "sock_recv_length", 3},
        {skel->progs.handle_dev_xmit, TS_KIND_PACKET, "net_dev_start_xmit", 2},
        // (skb, location, reason) from 5.17, (..., rx_sk) from 6.11
        {skel->progs.handle_kfree_skb, TS_KIND_DROP, "kfree_skb", 3},
        {skel->progs.handle_kfree_skb_rx_sk, TS_KIND_DROP, "kfree_skb", 4},
    };
}

// The --events name of a kind, for the warnings.
const char* kind_option(int kind) {
    switch (kind) {
        case TS_KIND_STATE: return "state";
        case TS_KIND_RESET_SENT:
        case TS_KIND_RESET_RECEIVED: return "reset";
        case TS_KIND_RETRANSMIT: return "retransmit";
        case TS_KIND_SOCK_ERROR: return "error";
        case TS_KIND_SIGNAL: return "signal";
        case TS_KIND_SEND: return "send";
        case TS_KIND_RECV: return "recv";
        case TS_KIND_PACKET: return "packet";
        case TS_KIND_DROP: return "drop";
        default: return "?";
    }
}

// Arguments of the tracepoint's btf_trace_<name> prototype (after the
// context pointer), or -1 when the kernel has no such tracepoint.
int tracepoint_args(const struct btf* vmlinux, const char* name) {
    std::string type = std::string("btf_trace_") + name;
    int id = btf__find_by_name_kind(vmlinux, type.c_str(), BTF_KIND_TYPEDEF);
    if (id < 0) return -1;
    const struct btf_type* t = btf__type_by_id(vmlinux, static_cast<__u32>(id));
    // typedef -> pointer -> function prototype (ctx, args...)
    for (int hops = 0; t != nullptr && hops < 4 && !btf_is_func_proto(t); ++hops) {
        if (!btf_is_typedef(t) && !btf_is_ptr(t)) return -1;
        t = btf__type_by_id(vmlinux, t->type);
    }
    if (t == nullptr || !btf_is_func_proto(t) || btf_vlen(t) < 1) return -1;
    return static_cast<int>(btf_vlen(t)) - 1;
}

}  // namespace

std::string kernel_release() {
    struct utsname u {};
    return uname(&u) == 0 ? u.release : "unknown";
}

KernelSupport probe_kernel_support(std::string* error) {
    KernelSupport support;
    support.release = kernel_release();
    struct btf* vmlinux = btf__load_vmlinux_btf();
    if (vmlinux == nullptr) {
        if (error) *error = std::string("cannot read the kernel's BTF: ") + std::strerror(errno);
        return support;
    }
    support.known = true;
    for (const std::string& name : kernel_tracepoints()) {
        int n = tracepoint_args(vmlinux, name.c_str());
        if (n >= 0) support.tracepoint_args[name] = n;
    }
    btf__free(vmlinux);
    return support;
}

Tracer::~Tracer() {
    ring_buffer__free(ringbuf_);
    tcpscope_bpf__destroy(skel_);  // detaches every link
}

std::unique_ptr<Tracer> Tracer::start(const TracerConfig& config, RecordHandler handler,
                                      TracerError* error) {
    g_verbose = config.verbose;
    g_log.clear();
    g_log_partial.clear();
    libbpf_set_print(libbpf_print);

    std::unique_ptr<Tracer> t(new Tracer());
    t->handler_ = std::move(handler);
    int ncpus = libbpf_num_possible_cpus();
    t->ncpus_ = ncpus > 0 ? ncpus : 1;

    if (access("/sys/kernel/btf/vmlinux", R_OK) != 0) {
        set_error(error, "open", ENOENT,
                  "this kernel exposes no BTF at /sys/kernel/btf/vmlinux (CONFIG_DEBUG_INFO_BTF=y "
                  "is required)");
        return nullptr;
    }
    t->skel_ = tcpscope_bpf__open();
    if (t->skel_ == nullptr) {
        set_error(error, "open", errno, "cannot open the BPF object");
        return nullptr;
    }
    auto* skel = t->skel_;
    // const volatile in the BPF program: lives in .rodata, frozen at load.
    std::memcpy(const_cast<ts_filter*>(&skel->rodata->filter), &config.filter, sizeof(ts_filter));
    skel->rodata->wakeup_bytes =
        config.wakeup_divisor ? config.ringbuf_bytes / config.wakeup_divisor : 0;
    skel->rodata->metrics_mode = config.metrics_mode;
    // For the RTO at a connection's end (jiffies there): unknown leaves it 0.
    skel->rodata->kernel_hz = kernel_hz();
    skel->rodata->label_mask = config.metrics_mode ? config.label_mask : 0;
    // Drop reasons as this kernel numbers them: which value is no drop
    // (SKB_CONSUMED, 6.3+), and which frees lose nothing on the network,
    // shown only with --all-drops (bpf/packets.bpf.h says why).
    const DropReasons& drop_reasons = kernel_drop_reasons();
    if (auto v = drop_reasons.value("SKB_CONSUMED")) {
        skel->rodata->drop_reason_consumed = static_cast<uint32_t>(*v);
    }
    const char* const quiet[] = {"NOT_SPECIFIED", "QUEUE_PURGE", "SOCKET_CLOSE"};
    static_assert(sizeof(quiet) / sizeof(quiet[0]) == sizeof(skel->rodata->drop_reasons_quiet) /
                                                         sizeof(skel->rodata->drop_reasons_quiet[0]),
                  "one slot per quiet reason");
    for (size_t i = 0; i < sizeof(quiet) / sizeof(quiet[0]); ++i) {
        if (auto v = drop_reasons.value(quiet[i])) {
            const_cast<uint32_t&>(skel->rodata->drop_reasons_quiet[i]) = static_cast<uint32_t>(*v);
        }
    }
    skel->rodata->all_drops = config.all_drops;
    t->label_mask_ = skel->rodata->label_mask;
    if (t->label_mask_ != 0) {
        // A hash of at most max_series entries: the hard series limit.
        if (config.max_series < 1 || config.max_series > TS_MAX_SERIES_CAP) {
            set_error(error, "open", EINVAL,
                      "max_series " + std::to_string(config.max_series) + " is not from 1 to " +
                          std::to_string(TS_MAX_SERIES_CAP));
            return nullptr;
        }
        bpf_map__set_max_entries(skel->maps.m_series, config.max_series);
    }
    // Metrics mode sends nothing through the ring buffer: one page will do.
    const uint32_t ringbuf_bytes =
        config.metrics_mode ? static_cast<uint32_t>(sysconf(_SC_PAGESIZE)) : config.ringbuf_bytes;
    int err = bpf_map__set_max_entries(skel->maps.events, ringbuf_bytes);
    if (err) {
        set_error(error, "open", -err, "ring buffer size " + std::to_string(config.ringbuf_bytes) +
                                    " rejected (a power of two, at least the page size)");
        return nullptr;
    }

    std::string btf_error;
    t->support_ = probe_kernel_support(&btf_error);
    const KernelSupport& support = t->support_;
    if (!support.known) {
        set_error(error, "open", ENOENT, btf_error);
        return nullptr;
    }
    // Arguments of each tracepoint as this kernel has it (-1: absent); the
    // has_tracepoint hook plays a kernel that lacks some.
    auto kernel_args = [&](const char* tracepoint) {
        if (config.has_tracepoint && !config.has_tracepoint(tracepoint)) return -1;
        return support.args(tracepoint);
    };
    // Per tracepoint, the program whose prototype fits the kernel's: of
    // those that read no more arguments than it has, the one reading most.
    const auto specs = program_specs(skel);
    std::map<std::string, const ProgramSpec*> chosen;
    for (const auto& spec : specs) {
        const ProgramSpec*& best = chosen[spec.tracepoint];
        if (kernel_args(spec.tracepoint) >= spec.args && (best == nullptr || spec.args > best->args)) {
            best = &spec;
        }
    }
    const bool sigpipe_needs_send = (config.filter.kind_mask & (1u << TS_KIND_SIGNAL)) &&
                                    (config.filter.nports != 0 || config.filter.addr_family != 0);
    if (sigpipe_needs_send && kernel_args("sock_send_length") < 0) {
        t->warnings_.push_back("this kernel (" + support.release +
                               ") has no tracepoint sock_send_length (Linux 6.3 added it), so a "
                               "SIGPIPE cannot be tied to the send and its socket: under --port "
                               "or --addr, signal events are left out");
    }
    std::vector<std::string> reported;
    for (const auto& spec : specs) {
        bool wanted = spec.kind == kAlways || (config.filter.kind_mask & (1u << spec.kind));
        // Under --port or --addr a SIGPIPE waits for the send that raised
        // it, whose socket decides (handle_send_length releases it).
        if (spec.kind == TS_KIND_SEND && sigpipe_needs_send && kernel_args(spec.tracepoint) >= 0) {
            wanted = true;
            skel->rodata->sigpipe_waits_for_send = true;
        }
        const ProgramSpec* best = chosen[spec.tracepoint];
        if (wanted && best == nullptr &&
            std::find(reported.begin(), reported.end(), spec.tracepoint) == reported.end()) {
            reported.push_back(spec.tracepoint);
            int have = kernel_args(spec.tracepoint);
            std::string since = tracepoint_since(spec.tracepoint);
            std::string what =
                have < 0 ? "this kernel (" + support.release + ") has no tracepoint " +
                               spec.tracepoint +
                               (since.empty() ? "" : " (Linux " + since + " added it)")
                         : "this kernel's tracepoint " + std::string(spec.tracepoint) + " has " +
                               std::to_string(have) + " arguments, fewer than tcpscope reads";
            if (spec.kind == kAlways) {
                set_error(error, "open", ENOENT, what + ", which tcpscope needs");
                return nullptr;
            }
            t->warnings_.push_back(what + ": its events (" + kind_option(spec.kind) +
                                   ") are left out");
        }
        bpf_program__set_autoload(spec.prog, wanted && best == &spec);
    }
    // The iterator that learns the owners of older sockets: loaded only
    // where seeding is on.
    bpf_program__set_autoload(skel->progs.learn_owners, config.seed_owners);

    err = tcpscope_bpf__load(skel);
    if (err) {
        set_error(error, "load", -err, "the kernel refused the BPF programs");
        return nullptr;
    }
    err = tcpscope_bpf__attach(skel);
    if (err) {
        set_error(error, "attach", -err, "cannot attach to the tracepoints");
        return nullptr;
    }
    for (const auto& spec : program_specs(skel)) {
        int kind = emitted_kind(spec, skel);
        if (kind >= 0 && bpf_program__autoload(spec.prog)) {
            t->event_programs_.emplace_back(bpf_program__fd(spec.prog), kind);
        }
    }
    // The consumer first: records are taken while owners are learned.
    t->ringbuf_ = ring_buffer__new(bpf_map__fd(skel->maps.events), &call_record_handler, &t->handler_,
                                   nullptr);
    if (t->ringbuf_ == nullptr) {
        set_error(error, "ringbuf", errno, "cannot set up the ring buffer");
        return nullptr;
    }
    // After attaching: a socket made from now on is seen by the programs,
    // one made before is found by the iterator over the tasks' files.
    if (config.seed_owners) t->learn_owners();
    return t;
}

void Tracer::learn_owners() {
    SeedResult& r = seeded_;
    struct bpf_link* link = skel_->links.learn_owners;
    // The pass may spend tens of milliseconds in one process with many
    // sockets, inside one read(): a thread of its own takes the records
    // meanwhile, woken as the buffer fills, as the poll loop would be.
    // Only it touches the handler until it is joined.
    std::atomic<bool> pass_done{false};
    std::thread drain([this, &pass_done] {
        while (!pass_done.load()) ring_buffer__poll(ringbuf_, 5);
        ring_buffer__consume(ringbuf_);
    });
    r.error = link != nullptr ? run_owner_pass(bpf_link__fd(link), nullptr)
                              : "the iterator over the tasks was not attached";
    pass_done = true;
    drain.join();
    const ts_owner_counts& counts = skel_->bss->owner_counts;
    r.ran = r.error.empty();
    // The programs look up what the pass found from now on (bss is
    // mapped: the running programs see the store).
    skel_->bss->older_pass_done = true;
    if (r.ran) {
        r.sockets = counts.sockets;
        r.seeded = counts.seeded;
        r.already_known = counts.already_known;
        r.failed = counts.failed;
    }
    // The pass is done: the link has nothing more to give.
    bpf_link__destroy(link);
    skel_->links.learn_owners = nullptr;
    if (!r.ran) {
        warnings_.push_back("the owners of the TCP sockets older than tcpscope could not be "
                            "learned (" + r.error +
                            "): their events in softirq are attributed to nobody");
    } else if (r.failed != 0) {
        warnings_.push_back("the owners of " + std::to_string(r.failed) + " of the " +
                            std::to_string(r.sockets) +
                            " TCP sockets older than tcpscope could not be recorded (the map of "
                            "older owners is full): their events in softirq are attributed to "
                            "nobody");
    }
}

namespace {

bool refused_as_unsupported(int err);

// Sums a per-CPU array of u64 counters into out (out.size() slots): the
// whole array in one BPF_MAP_LOOKUP_BATCH, or slot by slot on a kernel
// that refuses batches.
template <size_t N>
bool sum_per_cpu(const struct bpf_map* map, int ncpus, std::array<uint64_t, N>* out) {
    const size_t cpus = static_cast<size_t>(ncpus);
    std::vector<uint32_t> keys(N);
    std::vector<uint64_t> values(N * cpus);
    uint32_t out_batch = 0, count = N;
    int err = bpf_map_lookup_batch(bpf_map__fd(map), nullptr, &out_batch, keys.data(),
                                   values.data(), &count, nullptr);
    if ((err == 0 || errno == ENOENT) && count == N) {
        for (size_t i = 0; i < N; ++i) {
            uint64_t total = 0;
            for (size_t cpu = 0; cpu < cpus; ++cpu) total += values[i * cpus + cpu];
            (*out)[keys[i]] = total;
        }
        return true;
    }
    if (err && !refused_as_unsupported(errno)) return false;
    std::vector<uint64_t> per_cpu(cpus, 0);
    for (uint32_t key = 0; key < N; ++key) {
        if (bpf_map__lookup_elem(map, &key, sizeof(key), per_cpu.data(),
                                 per_cpu.size() * sizeof(uint64_t), 0) != 0) {
            return false;
        }
        uint64_t total = 0;
        for (uint64_t v : per_cpu) total += v;
        (*out)[key] = total;
    }
    return true;
}

// The histograms' 128-bit sums (struct ts_sum128), added up over CPUs.
bool sum_per_cpu_128(const struct bpf_map* map, int ncpus,
                     std::array<NsSum, TS_HIST_COUNT>* out) {
    std::vector<ts_sum128> per_cpu(static_cast<size_t>(ncpus));
    for (uint32_t key = 0; key < TS_HIST_COUNT; ++key) {
        if (bpf_map__lookup_elem(map, &key, sizeof(key), per_cpu.data(),
                                 per_cpu.size() * sizeof(ts_sum128), 0) != 0) {
            return false;
        }
        NsSum total;
        for (const ts_sum128& v : per_cpu) total.add(v.lo, v.hi);
        (*out)[key] = total;
    }
    return true;
}

// The series key is read as bytes the BPF object wrote: the same header on
// both sides, and no padding a compiler could place differently.
static_assert(sizeof(ts_series_key) == 48, "ts_series_key size changed: update both sides");
static_assert(offsetof(ts_series_key, comm) == 24, "ts_series_key layout changed");
static_assert(offsetof(ts_series_key, cgroup_id) == 40, "ts_series_key layout changed");

SeriesCount series_count(const ts_series_key& key, const uint64_t* per_cpu, int ncpus) {
    SeriesCount sc;
    sc.key = key;
    sc.family = key.family;
    sc.slot = key.slot;
    sc.netns = key.netns;
    sc.port = key.port;
    sc.comm.assign(key.comm, strnlen(key.comm, TS_COMM_LEN));
    sc.cgroup_id = key.cgroup_id;
    for (int cpu = 0; cpu < ncpus; ++cpu) sc.value += per_cpu[cpu];
    return sc;
}

bool refused_as_unsupported(int err) {
    return err == EINVAL || err == ENOTSUPP_ERRNO || err == EOPNOTSUPP || err == ENOSYS;
}

}  // namespace

// Every series, a batch of keys and per-CPU values per syscall
// (BPF_MAP_LOOKUP_BATCH; a hash map's batch is one or more of its buckets,
// so a batch may end short, and ENOENT says the walk is over). A kernel
// that refuses batches gets two syscalls per series (next key, lookup).
bool Tracer::read_series(std::vector<SeriesCount>* out) const {
    const int fd = bpf_map__fd(skel_->maps.m_series);
    const size_t ncpus = static_cast<size_t>(ncpus_);
    out->reserve(bpf_map__max_entries(skel_->maps.m_series));
    if (!batch_refused_) {
        uint32_t batch_size = 256;
        std::vector<ts_series_key> keys;
        std::vector<uint64_t> values;
        uint32_t in_batch = 0, out_batch = 0;
        bool first = true;
        for (;;) {
            keys.resize(batch_size);
            values.resize(batch_size * ncpus);
            uint32_t count = batch_size;
            int err = bpf_map_lookup_batch(fd, first ? nullptr : &in_batch, &out_batch, keys.data(),
                                           values.data(), &count, nullptr);
            int code = err ? errno : 0;
            if (err && code == ENOSPC && count == 0 && batch_size < (1u << 20)) {
                batch_size *= 2;  // one bucket holds more series than a batch
                continue;
            }
            if (err && code != ENOENT) {
                if (first && refused_as_unsupported(code)) {
                    batch_refused_ = true;
                    break;
                }
                return false;
            }
            for (uint32_t i = 0; i < count; ++i) {
                out->push_back(series_count(keys[i], &values[i * ncpus], ncpus_));
            }
            if (err) return true;  // ENOENT: no bucket left
            in_batch = out_batch;
            first = false;
        }
    }
    std::vector<uint64_t> per_cpu(ncpus, 0);
    ts_series_key key{}, next{};
    const ts_series_key* prev = nullptr;
    while (bpf_map_get_next_key(fd, prev, &next) == 0) {
        key = next;
        prev = &key;
        if (bpf_map_lookup_elem(fd, &key, per_cpu.data()) != 0) continue;  // expired meanwhile
        out->push_back(series_count(key, per_cpu.data(), ncpus_));
    }
    return true;
}

// Deletes series a reading found idle. Lookup-and-delete takes the values
// and the entry in one step under the map's bucket lock: a series counted
// since that reading (its total differs) is put back with all it counted,
// so no count is lost to an expiry; if the kernel made it anew meanwhile,
// the two are added up.
size_t Tracer::expire_series(const std::vector<SeriesCount>& idle) {
    const int fd = bpf_map__fd(skel_->maps.m_series);
    const size_t ncpus = static_cast<size_t>(ncpus_);
    std::vector<uint64_t> taken(ncpus), now(ncpus);
    size_t expired = 0;
    for (const SeriesCount& sc : idle) {
        if (bpf_map_lookup_and_delete_elem(fd, &sc.key, taken.data()) != 0) {
            if (errno == ENOENT) continue;
            // Kernels before 5.14 have no lookup-and-delete for hashes: read,
            // then delete (a count landing in between is lost).
            if (bpf_map_lookup_elem(fd, &sc.key, taken.data()) != 0) continue;
            uint64_t total = 0;
            for (uint64_t v : taken) total += v;
            if (total != sc.value) continue;
            if (bpf_map_delete_elem(fd, &sc.key) == 0) ++expired;
            continue;
        }
        uint64_t total = 0;
        for (uint64_t v : taken) total += v;
        if (total == sc.value) {
            ++expired;
            continue;
        }
        // Counted since the reading: not idle. Put it back.
        if (bpf_map_update_elem(fd, &sc.key, taken.data(), BPF_NOEXIST) == 0) continue;
        if (bpf_map_lookup_elem(fd, &sc.key, now.data()) == 0) {
            for (size_t cpu = 0; cpu < ncpus; ++cpu) now[cpu] += taken[cpu];
            bpf_map_update_elem(fd, &sc.key, now.data(), BPF_EXIST);
        }
    }
    return expired;
}

bool Tracer::read_counts(KernelCounts* out) const {
    const auto& m = skel_->maps;
    out->label_mask = label_mask_;
    if (label_mask_ != 0) {
        std::array<uint64_t, 1> dropped{};
        if (!sum_per_cpu(m.m_series_dropped, ncpus_, &dropped)) return false;
        out->series_dropped = dropped[0];
        if (!read_series(&out->series)) return false;
    }
    return sum_per_cpu(m.m_transitions, ncpus_, &out->transitions) &&
           sum_per_cpu(m.m_resets_sent, ncpus_, &out->resets_sent) &&
           sum_per_cpu(m.m_resets_received, ncpus_, &out->resets_received) &&
           sum_per_cpu(m.m_retransmits, ncpus_, &out->retransmits) &&
           sum_per_cpu(m.m_socket_errors, ncpus_, &out->socket_errors) &&
           sum_per_cpu(m.m_sigpipe, ncpus_, &out->sigpipe) &&
           sum_per_cpu(m.m_drops, ncpus_, &out->drops) &&
           sum_per_cpu(m.m_hist_buckets, ncpus_, &out->hist_buckets) &&
           sum_per_cpu_128(m.m_hist_sum_ns, ncpus_, &out->hist_sum_ns);
}

int Tracer::socket_storage_fd() const { return bpf_map__fd(skel_->maps.socks); }

bool Tracer::add_scope_netns(uint64_t netns_cookie) {
    uint8_t one = 1;
    int err = bpf_map__update_elem(skel_->maps.scope_netns, &netns_cookie, sizeof(netns_cookie), &one,
                                   sizeof(one), BPF_ANY);
    return err == 0;
}

int Tracer::older_owners_fd() const { return bpf_map__fd(skel_->maps.older_socks); }

std::vector<ProgramStats> Tracer::program_stats() const {
    std::vector<ProgramStats> out;
    struct bpf_program* prog = nullptr;
    bpf_object__for_each_program(prog, skel_->obj) {
        if (!bpf_program__autoload(prog)) continue;
        struct bpf_prog_info info {};
        uint32_t len = sizeof(info);
        if (bpf_obj_get_info_by_fd(bpf_program__fd(prog), &info, &len) != 0) continue;
        ProgramStats s;
        s.name = bpf_program__name(prog);
        s.run_time_ns = info.run_time_ns;
        s.run_count = info.run_cnt;
        s.recursion_misses = info.recursion_misses;
        out.push_back(std::move(s));
    }
    return out;
}

int Tracer::poll(int timeout_ms) { return poll_ring_buffer(ringbuf_, timeout_ms); }

int Tracer::drain() { return ring_buffer__consume(ringbuf_); }

uint64_t KernelLosses::ringbuf_full_total() const {
    uint64_t total = 0;
    for (uint64_t n : ringbuf_full) total += n;
    return total;
}

uint64_t KernelLosses::program_skipped_total() const {
    uint64_t total = 0;
    for (uint64_t n : program_skipped) total += n;
    return total;
}

KernelLosses Tracer::losses() const {
    KernelLosses out;
    std::vector<uint64_t> per_cpu(static_cast<size_t>(ncpus_), 0);
    for (uint32_t reason = 0; reason < TS_LOST_REASONS; ++reason) {
        // A fifth nesting level of our programs on one CPU: like a run the
        // kernel skipped, the event was never seen.
        uint64_t* by_kind =
            reason == TS_LOST_RINGBUF_FULL ? out.ringbuf_full : out.program_skipped;
        for (uint32_t kind = 0; kind < TS_KIND_COUNT; ++kind) {
            uint32_t key = reason * TS_KIND_COUNT + kind;
            if (bpf_map__lookup_elem(skel_->maps.lost, &key, sizeof(key), per_cpu.data(),
                                     per_cpu.size() * sizeof(uint64_t), 0) != 0) {
                out.complete = false;
                continue;
            }
            for (uint64_t v : per_cpu) by_kind[kind] += v;
        }
    }
    // The kernel counts, per program, the runs it skipped because the
    // program was already active on that CPU (recursion_misses).
    for (const auto& [fd, kind] : event_programs_) {
        struct bpf_prog_info info {};
        uint32_t len = sizeof(info);
        if (bpf_obj_get_info_by_fd(fd, &info, &len) == 0) {
            out.program_skipped[kind] += info.recursion_misses;
        } else {
            out.complete = false;
        }
    }
    return out;
}

}  // namespace tcpscope
