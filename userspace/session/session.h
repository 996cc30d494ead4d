// The one way into the kernel for every command. Two steps, because the
// sinks a command builds between them need the reset reasons, and the
// tracer needs the sinks' handler:
//
//   SessionPlan plan;  CommandFailure failure;
//   if (!prepare_session(options, &plan, &failure)) return fail(me, failure);
//   ... sinks, the loop, from plan.reasons ...
//   auto session = open_session(std::move(plan), loop.handler(), &failure);
//   if (!session) return fail(me, failure);
//
// prepare_session checks the options and builds the kernel's filter (a
// bad one is a usage error, said before anything is loaded) and reads the
// reset reasons from BTF. open_session loads and attaches the programs and
// says the warnings: event kinds this kernel lacks, filters that match
// nothing now (the namespace check among them), reset reasons shown as
// numbers. What comes after (sock_diag, dropping root) is the command's,
// with the session's helpers.
#pragma once

#include <cstdint>
#include <memory>
#include <string>

#include "filter_options.h"
#include "load_failure.h"
#include "names.h"
#include "sock_diag.h"
#include "tracer.h"

namespace tcpscope {

struct SessionOptions {
    // "trace": every message starts "tcpscope trace: ".
    std::string command;
    // The user's filter, as given (the warnings name its options).
    FilterOptions filter;
    // The event kinds the command takes, in place of the filter's own
    // --events (empty: those).
    std::string events;
    // --ringbuf-kib, a power of two (0: the tracer's default).
    uint32_t ringbuf_kib = 0;
    // What the command does, for the warnings ("tracing anyway").
    std::string doing = "tracing";
    // The rest of the tracer's configuration (verbose, all_drops,
    // metrics mode...); its filter is built from `filter`.
    TracerConfig tracer;
    // The exit code when the programs cannot start.
    int start_failure_exit = 3;  // kExitEnvironment
};

// What prepare_session found: the tracer's configuration, its filter
// built, and the kernel's reset reasons.
struct SessionPlan {
    SessionOptions options;
    TracerConfig config;
    ResetReasons reasons;
    std::string reasons_error;  // why BTF gave none: said as a warning at the start
};

// The options checked, the filter built (--container resolved into its
// cgroup), the reset reasons read. False with a usage failure.
bool prepare_session(const SessionOptions& options, SessionPlan* plan, CommandFailure* failure);

class Session {
public:
    Tracer& tracer() { return *tracer_; }
    const TracerConfig& config() const { return plan_.config; }
    const ts_filter& filter() const { return plan_.config.filter; }
    const ResetReasons& reasons() const { return plan_.reasons; }
    // "tcpscope trace", the prefix of every message.
    const std::string& me() const { return me_; }

    // sock_diag in --netns's namespace, or ours, with the socket owners
    // the tracer knows. Null with *why when --netns names no namespace
    // file (*no_file set then) or sock_diag cannot be opened.
    std::unique_ptr<SockDiag> open_sock_diag(std::string* why, bool* no_file = nullptr) const;
    // The namespace file of --netns ("" for ours); "" with *why when it
    // names none (a cookie).
    std::string netns_path(std::string* why) const;

    // Gives up root once everything is open: to `user` with nothing kept,
    // or with CAP_BPF alone when `keep_bpf` (sock_diag's owners, metrics'
    // reads). *kept says what is left. False with the failure, whose text
    // ends with `hint` (" (use --no-drop to keep root)").
    bool drop_root(const std::string& user, bool keep_bpf, const std::string& hint, std::string* kept,
                   CommandFailure* failure) const;

    // Ends the tracer before the session (detaches the programs).
    void close() { tracer_.reset(); }

private:
    friend std::unique_ptr<Session> open_session(SessionPlan plan, Tracer::RecordHandler handler,
                                                 CommandFailure* failure);
    Session() = default;

    SessionPlan plan_;
    std::string me_;
    std::unique_ptr<Tracer> tracer_;
};

// Loads and attaches the programs, then says the warnings. Null with the
// failure (exit code options.start_failure_exit) when they cannot start.
std::unique_ptr<Session> open_session(SessionPlan plan, Tracer::RecordHandler handler,
                                      CommandFailure* failure);

// Reads net.ipv4.ip_local_port_range into *low and *high; leaves them as
// they are when it cannot (`trace --connections` and `top` read a client's
// role from it).
void read_ephemeral_ports(uint16_t* low, uint16_t* high);

}  // namespace tcpscope
