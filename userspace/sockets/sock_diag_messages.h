// The replies of a sock_diag dump (NETLINK_SOCK_DIAG, SOCK_DIAG_BY_FAMILY)
// read into a snapshot. Pure: kernel/sock_diag.cpp sends the request and
// hands each buffer it receives here; tests build their own buffers.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>

#include "socket_snapshot.h"

namespace tcpscope {

enum class DumpProgress {
    More,   // the dump goes on: read another buffer
    Done,   // NLMSG_DONE of this dump
    Error,  // NLMSG_ERROR of this dump (the reason in *error)
};

// Adds the sockets of one received buffer to *snapshot. Messages whose
// sequence number is not `seq` belong to an earlier dump that timed out
// before it was read to its end: they are skipped, their DONE included,
// so a late reply never passes for the current one.
DumpProgress read_sock_diag_messages(const char* buf, size_t len, uint32_t seq,
                                     SocketSnapshot* snapshot, std::string* error);

}  // namespace tcpscope
