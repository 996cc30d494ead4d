// The socket calls `tcpscope exec` captured in the kernel (bpf/syscalls.h
// records), turned into steps of the same schema the scenario programs
// report, so that the timeline and the ladder take them as they take a
// scenario's.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "socket_options.h"
#include "step.h"

namespace tcpscope {

// A socket a readiness call reported ready.
struct CapturedReady {
    int fd = -1;
    uint32_t events = 0;  // poll's bits
    uint64_t sk = 0;
    uint64_t cookie = 0;
};

struct CapturedCall {
    Step step;                 // cookie, side and info are completed by finish_calls
    std::string syscall;       // the kernel's name: "sendto", "accept4", ...
    int fd = -1;               // the descriptor acted on (socket/accept: returned), -1 if none
    uint32_t tid = 0;
    std::string comm;
    uint64_t sk = 0;           // the socket's kernel address, 0 if none
    uint64_t accepted_sk = 0;  // accept: the connection handed out
    uint64_t accepted_cookie = 0;
    std::optional<int> optval; // setsockopt/getsockopt: the int value
    std::vector<CapturedReady> ready;
};

// "sendto", ... for an x86_64 syscall number; "syscall_<n>" otherwise.
std::string syscall_name(uint32_t nr);

// One ts_call record; nothing when its size is not the record's (*error says).
std::optional<CapturedCall> decode_call(const void* data, size_t size, std::string* error = nullptr);

// Completes the calls (in the order they were made): a socket's cookie
// exists only once something asked for it, so each call gets the cookie
// seen on the same socket (kernel address) at any time of its life, from
// socket()/accept() to close(); then each call's side ("server" for a
// listener and the connections it accepted, "client" for a socket that
// connected, else its process's), and info (accepted, ready) as the
// scenario programs report it. A readiness call that came back with no TCP
// socket ready (it waited on a pipe, say) is left out. Returns the steps,
// in order.
std::vector<Step> finish_calls(std::vector<CapturedCall>& calls);

}  // namespace tcpscope
