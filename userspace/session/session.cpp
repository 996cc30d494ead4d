#include "session.h"

#include <cstdio>

#include "btf_reasons.h"
#include "command_failure.h"
#include "container_resolver.h"
#include "exit_codes.h"
#include "host_filter.h"
#include "netns_check.h"
#include "privileges.h"
#include "unmatched_filters.h"

namespace tcpscope {

bool prepare_session(const SessionOptions& options, SessionPlan* plan, CommandFailure* failure) {
    plan->options = options;
    plan->config = options.tracer;
    FilterOptions filter = options.filter;
    if (!options.events.empty()) filter.events = options.events;
    std::string error;
    if (!resolve_filter_container(&filter, &error) || !build_host_filter(filter, &plan->config.filter, &error)) {
        *failure = {kExitUsage, error};
        return false;
    }
    const uint32_t kib = options.ringbuf_kib;
    if (kib != 0) {
        if ((kib & (kib - 1)) != 0) {
            *failure = {kExitUsage, "--ringbuf-kib: " + std::to_string(kib) + " is not a power of two"};
            return false;
        }
        plan->config.ringbuf_bytes = kib * 1024u;
    }
    plan->reasons = load_kernel_reset_reasons(&plan->reasons_error);
    return true;
}

std::unique_ptr<Session> open_session(SessionPlan plan, Tracer::RecordHandler handler,
                                      CommandFailure* failure) {
    std::unique_ptr<Session> session(new Session());
    session->me_ = "tcpscope " + plan.options.command;
    session->plan_ = std::move(plan);
    const SessionPlan& p = session->plan_;
    TracerError error;
    session->tracer_ = Tracer::start(p.config, std::move(handler), &error);
    if (!session->tracer_) {
        *failure = {p.options.start_failure_exit, error.text()};
        return nullptr;
    }
    const std::string& me = session->me_;
    for (const auto& w : session->tracer_->warnings()) warn(me, w);
    // A process or namespace may appear later (the filter holds for it
    // then), but a mistyped one should not pass for a quiet host.
    for (const auto& w : unmatched_filter_warnings(p.options.filter, p.config.filter, p.options.doing)) {
        warn(me, w);
    }
    if (!p.reasons_error.empty()) warn(me, p.reasons_error + "; reset reasons shown as numbers");
    return session;
}

std::string Session::netns_path(std::string* why) const {
    return netns_file(plan_.options.filter.netns, why);
}

std::unique_ptr<SockDiag> Session::open_sock_diag(std::string* why, bool* no_file) const {
    const std::string path = netns_path(why);
    const bool none = !plan_.options.filter.netns.empty() && path.empty();
    if (no_file) *no_file = none;
    if (none) return nullptr;
    return SockDiag::open(path, tracer_->socket_storage_fd(), why, tracer_->older_owners_fd());
}

bool Session::drop_root(const std::string& user, bool keep_bpf, const std::string& hint, std::string* kept,
                        CommandFailure* failure) const {
    std::string error;
    const bool dropped = keep_bpf ? drop_to_bpf_reader(user, kept, &error) : drop_privileges(user, &error);
    if (!dropped) *failure = {kExitEnvironment, error + hint};
    return dropped;
}

void read_ephemeral_ports(uint16_t* low, uint16_t* high) {
    std::FILE* f = std::fopen("/proc/sys/net/ipv4/ip_local_port_range", "r");
    if (f == nullptr) return;
    unsigned a = 0, b = 0;
    if (std::fscanf(f, "%u %u", &a, &b) == 2 && a > 0 && a <= b && b <= 65535) {
        *low = static_cast<uint16_t>(a);
        *high = static_cast<uint16_t>(b);
    }
    std::fclose(f);
}

}  // namespace tcpscope
