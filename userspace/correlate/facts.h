// Facts: what a scenario expects, in plain words and as a check over the
// timeline. A check says what it saw whether it holds or not, so that a
// failed verdict explains itself.
#pragma once

#include <functional>
#include <string>
#include <vector>

#include "kernel_support.h"
#include "names.h"
#include "timeline.h"

namespace tcpscope {

struct FactResult {
    FactResult() = default;
    FactResult(bool ok, std::string detail, std::vector<std::string> unseen = {})
        : ok(ok), detail(std::move(detail)), unseen(std::move(unseen)) {}

    bool ok = false;
    std::string detail;  // what was seen
    // What the check needed and this kernel cannot show (KernelSupport's
    // why_not): a result that is ok but unseen is "not observable".
    std::vector<std::string> unseen;
    // Events the kernel's own counters show that its tracepoints never
    // reported, when that is all that keeps the check from holding: the
    // fact is then not judged, rather than failed. Seen on our VMs about
    // once in 25 runs of receiver-overrun: a timer's retransmit, the
    // segment on the wire and the receiver's drop of it, with no
    // tracepoint firing for any of them (perf's own tracepoint counts
    // missed them too), while TcpRetransSegs and BeyondWindow counted them.
    uint64_t untraced = 0;
};

struct FactContext {
    const Timeline& timeline;
    const ResetReasons& reasons;
    const KernelSupport& kernel;  // what the run's kernel could show
};

struct Fact {
    // Stable name, "<scenario>.<check>": what tests look a fact up by, so
    // that rewording the text breaks nothing. Never printed: the verdict
    // lines and the JSON carry the text.
    std::string id;    // "zero-byte-send.zero-send-is-silent"
    std::string text;  // "send(0) returned 0 and no segment left"
    std::function<FactResult(const FactContext&)> check;
};

// A fact holds (ok), does not hold, or could not be observed: it depends on
// what the kernel cannot show, and nothing it could see contradicts it. Or
// it is not judged: the kernel counted events its tracepoints never
// reported (FactResult::untraced), and they are what is missing.
struct Verdict {
    std::string fact;
    bool ok = false;
    std::string detail;
    bool observable = true;
    uint64_t untraced = 0;
    std::string fact_id{};  // the Fact's id; not printed

    bool failed() const { return !ok && observable && untraced == 0; }
    const char* status() const {
        return ok ? "holds" : untraced ? "not_judged" : observable ? "fails" : "not_observable";
    }
};

// Checks every fact; a list with no facts yields one failed verdict, since
// a scenario that checks nothing must not pass.
std::vector<Verdict> evaluate(const std::vector<Fact>& facts, const FactContext& context);

// ---- Building blocks for checks ----

// The steps most facts look for.
inline const StepMatch kConnect{StepOp::Connect};
inline const StepMatch kAccept{StepOp::Accept};
inline const StepMatch kListen{StepOp::Listen};
inline const StepMatch kClose{StepOp::Close};
inline const StepMatch kRecv{StepOp::Recv};
inline const StepMatch kSockDiag{StepOp::SockDiag};
inline const StepMatch kSoError{StepOp::GetSockOpt, "SO_ERROR"};
inline const StepMatch kSendOne{StepOp::Send, "", 1};  // send(fd, "x", 1)


FactResult holds(std::string detail);
FactResult fails(std::string detail);
// Both must hold; details joined, and what neither could see.
FactResult both(const FactResult& a, const FactResult& b);

// Whether the run's kernel shows `feature`; when it does not, why goes
// into `unseen`, and the caller skips the part of its check that needs it.
bool shows(const FactContext& c, KernelFeature feature, std::vector<std::string>* unseen);

// The step's call returned what the kernel's own result says (a result of
// its socket during it, -errno for a failed call); on a kernel without them
// (before 6.3) the comparison goes into `unseen` and counts as agreeing.
bool kernel_agrees(const FactContext& c, const Step& step, EventKind kind,
                   std::vector<std::string>* unseen);

// `send(fd, "", 0) = -1 EPIPE`; what a call fetched follows its result:
// `poll(fds, 1) = 1 OUT|ERR|HUP`, `getsockopt(5, SO_ERROR) = 0, so_error ECONNREFUSED`
std::string describe(const Step& step);
// `state ESTABLISHED -> CLOSE`, `reset_sent reason NO_SOCKET`, `packet tx RST len 0`
std::string describe(const Event& event, const ResetReasons& reasons);
std::string describe(const std::vector<const Event*>& events, const ResetReasons& reasons);

// The state changes of one socket in order: {"ESTABLISHED->FIN_WAIT1", ...}.
std::vector<std::string> state_path(const Timeline& timeline, uint64_t cookie);
std::string join(const std::vector<std::string>& parts, const std::string& sep = ", ");
// Whether `expected` occurs in `path` in order (not necessarily adjacent).
bool contains_in_order(const std::vector<std::string>& path,
                       const std::vector<std::string>& expected);
// The side's socket went through `expected` transitions in order.
FactResult went_through(const FactContext& c, const std::string& side,
                        const std::vector<std::string>& expected);

// The nth step of `side` that `match` matches returned `ret` (and
// `errno_name`, "" meaning success). Missing step fails.
FactResult returned(const FactContext& c, const std::string& side, const StepMatch& match,
                    int nth, int64_t ret, const std::string& errno_name = "");

// Events of `kind` among `events` (optionally only those of `side`).
std::vector<const Event*> select(const Timeline& timeline, const std::vector<const Event*>& events,
                                 EventKind kind, const std::string& side = "");
// Packets among `events` sent by `side` (its endpoint is the source).
std::vector<const Event*> packets_from(const Timeline& timeline,
                                       const std::vector<const Event*>& events,
                                       const std::string& side);

// `side` sent a RST among `events`: tcp_send_reset (with `reason`, unless
// empty) and a RST segment from its endpoint on the wire.
FactResult sent_reset(const FactContext& c, const std::vector<const Event*>& events,
                      const std::string& side, const std::string& reason = "");
// The RST with which `side`'s closed socket answered data among `events`.
// After close() the orphan usually becomes a FIN_WAIT2 timewait mini-socket,
// which answers with TCP_TIMEWAIT_SOCKET. But when the peer's ACK of our FIN
// is processed while close() still owns the socket (loopback's softirq runs
// inside the call), the kernel keeps the full orphan in FIN_WAIT2 on a timer;
// data then aborts it (TCP_ABORT_ON_DATA, FIN_WAIT2 -> CLOSE among `events`).
// Both are the kernel's choice; the detail says which one it made.
FactResult closed_socket_answered_reset(const FactContext& c,
                                        const std::vector<const Event*>& events,
                                        const std::string& side);
// Among `resets` (tcp_send_reset events), one sent with no socket at all,
// reason NO_SOCKET. Before 6.10 the tracepoint is silent for such a RST:
// the caller's check of the RST on the wire then stands in for it, and its
// reason goes into `unseen`.
bool sent_without_socket(const FactContext& c, const std::vector<const Event*>& resets,
                         std::vector<std::string>* unseen);
// A RST closed `side`'s socket among `events`: tcp_receive_reset in `state`,
// `state` -> CLOSE, and socket error `error` ("ECONNRESET", "EPIPE").
FactResult closed_by_reset(const FactContext& c, const std::vector<const Event*>& events,
                           const std::string& side, const std::string& state,
                           const std::string& error);
// `side`'s socket went from ESTABLISHED straight to CLOSE (no FIN_WAIT), and
// `diag`, a sock_diag step taken after that, found nothing left of it (no
// FIN_WAIT2 or TIME_WAIT mini-socket).
FactResult closed_leaving_nothing(const FactContext& c, const std::string& side,
                                  const Step* diag);

// `step` (a send of `payload` bytes by `side`) returned `payload`, and
// exactly one segment, carrying `payload` bytes, left `side` during it.
FactResult sent_one_segment(const FactContext& c, const Step* step, const std::string& side,
                            int payload);

// The client process was killed by SIGPIPE at its second one-byte send
// (nth 1, never reported because it never returned), as `wait` reports:
// signal 13, shell exit status 141.
FactResult killed_by_sigpipe(const FactContext& c, const Step* wait);

// The client's nth one-byte send returned -1 EPIPE, as the kernel's own
// send result says, and raised exactly one SIGPIPE for the client.
FactResult send_epipe_with_sigpipe(const FactContext& c, int nth);

// A number or a string from a step's info object; -1 / "" when absent.
int64_t info_number(const Step& step, const char* key);
std::string info_string(const Step& step, const char* key);

// The sock_diag looks `side` took at its own connection (the 4-tuple whose
// local end is the address its connect() got), in order.
std::vector<const Step*> own_diags(const FactContext& c, const std::string& side);

// Exponential backoff: at least three events, each gap 1.5 to 2.5 times
// the one before. `gaps_ns` receives the gaps.
bool gaps_double(const std::vector<const Event*>& events, std::vector<uint64_t>* gaps_ns);
// "200 ms, 400 ms, 800 ms", or "none".
std::string gaps_text(const std::vector<uint64_t>& gaps_ns);

// What a sock_diag step found: its TCP state, "" when no socket matched.
std::string diag_state(const Step& step);
// `sock_diag(...) = TIME_WAIT, timer timewait 59900 ms, Send-Q 0, Recv-Q 5`
// or `sock_diag(...) = no socket`.
std::string describe_diag(const Step& step);

}  // namespace tcpscope
