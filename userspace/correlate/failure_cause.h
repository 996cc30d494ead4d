// Why a call failed, from the kernel's events: `tcpscope exec` has no
// scenario facts, so it explains each error a call handed the program
// (EPIPE, ECONNRESET, ETIMEDOUT, ECONNREFUSED, EAGAIN) by the event that
// caused it, e.g. "RST received in CLOSE_WAIT at 153.1 ms (peer's timewait
// socket, TCP_TIMEWAIT_SOCKET)".
//
// A call hands an error over in three ways, and each gets the same
// explanation: it fails with it (errno); getsockopt(SO_ERROR) fetches it
// (the call returns 0, the error is the value); a readiness call (poll,
// epoll_wait; select has no such bit) reports ERR or HUP on a socket the
// error closed.
// The last two are how a non-blocking connect() ends, which is how most
// clients connect (curl, any client with a timeout).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "event.h"
#include "names.h"
#include "step.h"

namespace tcpscope {

// An error a step handed the program, and the socket it came from.
struct DeliveredError {
    std::string errno_name;  // "ECONNREFUSED"
    uint64_t cookie = 0;
    // How it was handed over: "" a failed call's errno, "so_error" the
    // value getsockopt(SO_ERROR) fetched, "ready" a readiness call's ERR
    // or HUP on the socket.
    std::string via;
};

// The errors `step` handed over: its errno; the nonzero SO_ERROR it
// fetched; for a readiness call, for each socket it reported with ERR or
// HUP, the last error the kernel set on that socket (a sock_error event)
// before the call returned and since the socket last left CLOSE (a socket
// that connects again starts afresh). A HUP with no such error (both
// sides closed in order) hands over nothing.
std::vector<DeliveredError> delivered_errors(const Step& step, const std::vector<Event>& events);

// The cause of the errors a step handed over, in words; "" when it handed
// none, or no event explains it. A readiness call's cause names the error
// first ("ECONNREFUSED: RST received in SYN_SENT ..."), since the call's
// line shows only bits. Times are relative to t0_ns (the first call's start).
std::string failure_cause(const Step& step, const std::vector<Event>& events,
                          const ResetReasons& reasons, uint64_t t0_ns);

// Each step's cause into its info ("cause"); returns how many got one.
size_t explain_failures(std::vector<Step>& steps, const std::vector<Event>& events,
                        const ResetReasons& reasons);

// The "Why:" lines of the steps explained: "  client connect(3, 127.0.0.1:7199)
// = -1 ECONNREFUSED: RST received in ...", one per step with info.cause, the
// call as the ladder shows it (what it fetched included); "" for none.
std::string why_lines(const std::vector<Step>& steps);

}  // namespace tcpscope
