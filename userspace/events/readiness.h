// Readiness bits as poll, select and epoll report them, by name.
//
// poll's revents and epoll's events share one numbering (EPOLLIN == POLLIN,
// ... EPOLLRDHUP == POLLRDHUP), so one set of names serves both: the
// scenario programs write "IN|OUT|RDHUP" into their readiness steps, and the
// facts read the number next to it. Kept here, in the event model, so that
// the programs and the runner cannot name a bit differently.
#pragma once

#include <cstdint>
#include <optional>
#include <string>

namespace tcpscope {

// The bits (values fixed by the Linux ABI, <poll.h> and <sys/epoll.h>).
enum ReadyBit : uint32_t {
    kReadyIn = 0x001,
    kReadyPri = 0x002,
    kReadyOut = 0x004,
    kReadyErr = 0x008,
    kReadyHup = 0x010,
    kReadyNval = 0x020,
    kReadyRdnorm = 0x040,
    kReadyRdband = 0x080,
    kReadyWrnorm = 0x100,
    kReadyWrband = 0x200,
    kReadyMsg = 0x400,
    kReadyRdhup = 0x2000,
    // epoll_ctl registration flags, never reported back by epoll_wait.
    kReadyExclusive = 1u << 28,
    kReadyWakeup = 1u << 29,
    kReadyOneshot = 1u << 30,
    kReadyEdgeTriggered = 1u << 31,
};

// "IN|OUT|RDHUP" (bits in the order above; "ET" for edge-triggered), "0"
// for none; a bit without a name is written in hex.
std::string readiness_names(uint32_t mask);
// The reverse: "IN|RDHUP" -> 0x2001; nothing when a name is unknown.
std::optional<uint32_t> readiness_from_names(const std::string& names);

}  // namespace tcpscope
