// The socket census at scrape time, from NETLINK_SOCK_DIAG (as ss reads
// it), with each socket's tcpscope storage (ts_sock_info: its owner and
// when it entered its state) dumped by the kernel beside it
// (INET_DIAG_REQ_SK_BPF_STORAGES), so a CLOSE_WAIT names its process and
// its age without a walk of /proc.
#pragma once

#include <memory>
#include <string>

#include "socket_census.h"

namespace tcpscope {

class SockDiag {
public:
    // A netlink socket in the network namespace at netns_path (empty: our
    // own): sock_diag answers for the namespace its socket was made in.
    static std::unique_ptr<SockDiag> open(const std::string& netns_path, int storage_map_fd,
                                          std::string* error);
    ~SockDiag();
    SockDiag(const SockDiag&) = delete;
    SockDiag& operator=(const SockDiag&) = delete;

    bool read(SocketCensus* census, std::string* error);

private:
    SockDiag() = default;
    bool dump(int family, SocketCensus* census, std::string* error);
    int fd_ = -1;
    int map_fd_ = -1;
};

}  // namespace tcpscope
