// Records as exec's syscall capture hands them over (struct ts_call), for
// the tests of the decoder and of what is built on it.
#pragma once

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include <cstdint>
#include <cstring>

#include "syscalls.h"

namespace tcpscope {

// Syscall `nr` of pid 100 on descriptor 3, from start_ns to start_ns + 10,
// returning ret, on socket sk (its cookie given; 0: none yet).
inline ts_call call_record(uint32_t nr, int64_t ret, uint64_t sk, uint64_t cookie, uint64_t start_ns) {
    ts_call r{};
    r.nr = nr;
    r.ret = ret;
    r.sk = sk;
    r.cookie = cookie;
    r.tgid = r.tid = 100;
    r.start_ns = start_ns;
    r.end_ns = start_ns + 10;
    r.args[0] = 3;
    return r;
}

// The socket's addresses as read at the call: 127.0.0.1:40000 to
// 127.0.0.1:5000.
inline void on_loopback(ts_call& r) {
    r.family = AF_INET;
    const uint32_t lo = htonl(INADDR_LOOPBACK);
    std::memcpy(r.laddr, &lo, 4);
    std::memcpy(r.raddr, &lo, 4);
    r.lport = 40000;
    r.rport = 5000;
}

}  // namespace tcpscope
