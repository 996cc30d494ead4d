#include "socket_options.h"

#include <map>
#include <utility>

namespace tcpscope {
namespace {

// The levels' numbers, as in the headers (x86_64 and every architecture
// but alpha, mips, parisc and sparc, which number SO_* otherwise: the
// capture is x86_64's).
constexpr int kSolSocket = 1;
constexpr int kIpprotoIp = 0;
constexpr int kIpprotoTcp = 6;
constexpr int kIpprotoIpv6 = 41;

struct OptionName {
    const char* name;
    OptionValue value;
};

using Table = std::map<std::pair<int, int>, OptionName>;

const Table& options() {
    constexpr OptionValue I = OptionValue::Int;
    constexpr OptionValue S = OptionValue::Struct;
    constexpr OptionValue O = OptionValue::Opaque;
    static const Table table = {
        // SOL_SOCKET: asm-generic/socket.h
        {{kSolSocket, 1}, {"SO_DEBUG", I}}, {{kSolSocket, 2}, {"SO_REUSEADDR", I}},
        {{kSolSocket, 3}, {"SO_TYPE", I}}, {{kSolSocket, 4}, {"SO_ERROR", I}},
        {{kSolSocket, 5}, {"SO_DONTROUTE", I}}, {{kSolSocket, 6}, {"SO_BROADCAST", I}},
        {{kSolSocket, 7}, {"SO_SNDBUF", I}}, {{kSolSocket, 8}, {"SO_RCVBUF", I}},
        {{kSolSocket, 9}, {"SO_KEEPALIVE", I}}, {{kSolSocket, 10}, {"SO_OOBINLINE", I}},
        {{kSolSocket, 11}, {"SO_NO_CHECK", I}}, {{kSolSocket, 12}, {"SO_PRIORITY", I}},
        {{kSolSocket, 13}, {"SO_LINGER", S}}, {{kSolSocket, 14}, {"SO_BSDCOMPAT", I}},
        {{kSolSocket, 15}, {"SO_REUSEPORT", I}}, {{kSolSocket, 16}, {"SO_PASSCRED", I}},
        {{kSolSocket, 17}, {"SO_PEERCRED", S}}, {{kSolSocket, 18}, {"SO_RCVLOWAT", I}},
        {{kSolSocket, 19}, {"SO_SNDLOWAT", I}}, {{kSolSocket, 20}, {"SO_RCVTIMEO", S}},
        {{kSolSocket, 21}, {"SO_SNDTIMEO", S}}, {{kSolSocket, 25}, {"SO_BINDTODEVICE", O}},
        {{kSolSocket, 26}, {"SO_ATTACH_FILTER", O}}, {{kSolSocket, 27}, {"SO_DETACH_FILTER", I}},
        {{kSolSocket, 28}, {"SO_PEERNAME", O}}, {{kSolSocket, 29}, {"SO_TIMESTAMP", I}},
        {{kSolSocket, 30}, {"SO_ACCEPTCONN", I}}, {{kSolSocket, 31}, {"SO_PEERSEC", O}},
        {{kSolSocket, 32}, {"SO_SNDBUFFORCE", I}}, {{kSolSocket, 33}, {"SO_RCVBUFFORCE", I}},
        {{kSolSocket, 34}, {"SO_PASSSEC", I}}, {{kSolSocket, 35}, {"SO_TIMESTAMPNS", I}},
        {{kSolSocket, 36}, {"SO_MARK", I}}, {{kSolSocket, 37}, {"SO_TIMESTAMPING", I}},
        {{kSolSocket, 38}, {"SO_PROTOCOL", I}}, {{kSolSocket, 39}, {"SO_DOMAIN", I}},
        {{kSolSocket, 40}, {"SO_RXQ_OVFL", I}}, {{kSolSocket, 42}, {"SO_PEEK_OFF", I}},
        {{kSolSocket, 44}, {"SO_LOCK_FILTER", I}}, {{kSolSocket, 45}, {"SO_SELECT_ERR_QUEUE", I}},
        {{kSolSocket, 46}, {"SO_BUSY_POLL", I}}, {{kSolSocket, 47}, {"SO_MAX_PACING_RATE", I}},
        {{kSolSocket, 49}, {"SO_INCOMING_CPU", I}}, {{kSolSocket, 50}, {"SO_ATTACH_BPF", I}},
        {{kSolSocket, 51}, {"SO_ATTACH_REUSEPORT_CBPF", O}},
        {{kSolSocket, 52}, {"SO_ATTACH_REUSEPORT_EBPF", I}}, {{kSolSocket, 55}, {"SO_MEMINFO", O}},
        {{kSolSocket, 56}, {"SO_INCOMING_NAPI_ID", I}}, {{kSolSocket, 57}, {"SO_COOKIE", O}},
        {{kSolSocket, 59}, {"SO_PEERGROUPS", O}}, {{kSolSocket, 60}, {"SO_ZEROCOPY", I}},
        {{kSolSocket, 61}, {"SO_TXTIME", O}}, {{kSolSocket, 62}, {"SO_BINDTOIFINDEX", I}},
        {{kSolSocket, 63}, {"SO_TIMESTAMP_NEW", I}}, {{kSolSocket, 64}, {"SO_TIMESTAMPNS_NEW", I}},
        {{kSolSocket, 65}, {"SO_TIMESTAMPING_NEW", I}}, {{kSolSocket, 66}, {"SO_RCVTIMEO_NEW", S}},
        {{kSolSocket, 67}, {"SO_SNDTIMEO_NEW", S}}, {{kSolSocket, 68}, {"SO_DETACH_REUSEPORT_BPF", I}},
        {{kSolSocket, 69}, {"SO_PREFER_BUSY_POLL", I}}, {{kSolSocket, 70}, {"SO_BUSY_POLL_BUDGET", I}},
        {{kSolSocket, 71}, {"SO_NETNS_COOKIE", O}}, {{kSolSocket, 72}, {"SO_BUF_LOCK", I}},
        {{kSolSocket, 73}, {"SO_RESERVE_MEM", I}}, {{kSolSocket, 74}, {"SO_TXREHASH", I}},
        {{kSolSocket, 75}, {"SO_RCVMARK", I}},
        // IPPROTO_TCP: linux/tcp.h
        {{kIpprotoTcp, 1}, {"TCP_NODELAY", I}}, {{kIpprotoTcp, 2}, {"TCP_MAXSEG", I}},
        {{kIpprotoTcp, 3}, {"TCP_CORK", I}}, {{kIpprotoTcp, 4}, {"TCP_KEEPIDLE", I}},
        {{kIpprotoTcp, 5}, {"TCP_KEEPINTVL", I}}, {{kIpprotoTcp, 6}, {"TCP_KEEPCNT", I}},
        {{kIpprotoTcp, 7}, {"TCP_SYNCNT", I}}, {{kIpprotoTcp, 8}, {"TCP_LINGER2", I}},
        {{kIpprotoTcp, 9}, {"TCP_DEFER_ACCEPT", I}}, {{kIpprotoTcp, 10}, {"TCP_WINDOW_CLAMP", I}},
        {{kIpprotoTcp, 11}, {"TCP_INFO", O}}, {{kIpprotoTcp, 12}, {"TCP_QUICKACK", I}},
        {{kIpprotoTcp, 13}, {"TCP_CONGESTION", O}}, {{kIpprotoTcp, 14}, {"TCP_MD5SIG", O}},
        {{kIpprotoTcp, 16}, {"TCP_THIN_LINEAR_TIMEOUTS", I}}, {{kIpprotoTcp, 17}, {"TCP_THIN_DUPACK", I}},
        {{kIpprotoTcp, 18}, {"TCP_USER_TIMEOUT", I}}, {{kIpprotoTcp, 19}, {"TCP_REPAIR", I}},
        {{kIpprotoTcp, 20}, {"TCP_REPAIR_QUEUE", I}}, {{kIpprotoTcp, 21}, {"TCP_QUEUE_SEQ", I}},
        {{kIpprotoTcp, 22}, {"TCP_REPAIR_OPTIONS", O}}, {{kIpprotoTcp, 23}, {"TCP_FASTOPEN", I}},
        {{kIpprotoTcp, 24}, {"TCP_TIMESTAMP", I}}, {{kIpprotoTcp, 25}, {"TCP_NOTSENT_LOWAT", I}},
        {{kIpprotoTcp, 26}, {"TCP_CC_INFO", O}}, {{kIpprotoTcp, 27}, {"TCP_SAVE_SYN", I}},
        {{kIpprotoTcp, 28}, {"TCP_SAVED_SYN", O}}, {{kIpprotoTcp, 29}, {"TCP_REPAIR_WINDOW", O}},
        {{kIpprotoTcp, 30}, {"TCP_FASTOPEN_CONNECT", I}}, {{kIpprotoTcp, 31}, {"TCP_ULP", O}},
        {{kIpprotoTcp, 32}, {"TCP_MD5SIG_EXT", O}}, {{kIpprotoTcp, 33}, {"TCP_FASTOPEN_KEY", O}},
        {{kIpprotoTcp, 34}, {"TCP_FASTOPEN_NO_COOKIE", I}}, {{kIpprotoTcp, 35}, {"TCP_ZEROCOPY_RECEIVE", O}},
        {{kIpprotoTcp, 36}, {"TCP_INQ", I}}, {{kIpprotoTcp, 37}, {"TCP_TX_DELAY", I}},
        // IPPROTO_IP: linux/in.h
        {{kIpprotoIp, 1}, {"IP_TOS", I}}, {{kIpprotoIp, 2}, {"IP_TTL", I}},
        {{kIpprotoIp, 3}, {"IP_HDRINCL", I}}, {{kIpprotoIp, 4}, {"IP_OPTIONS", O}},
        {{kIpprotoIp, 5}, {"IP_ROUTER_ALERT", I}}, {{kIpprotoIp, 6}, {"IP_RECVOPTS", I}},
        {{kIpprotoIp, 7}, {"IP_RETOPTS", I}}, {{kIpprotoIp, 8}, {"IP_PKTINFO", I}},
        {{kIpprotoIp, 9}, {"IP_PKTOPTIONS", O}}, {{kIpprotoIp, 10}, {"IP_MTU_DISCOVER", I}},
        {{kIpprotoIp, 11}, {"IP_RECVERR", I}}, {{kIpprotoIp, 12}, {"IP_RECVTTL", I}},
        {{kIpprotoIp, 13}, {"IP_RECVTOS", I}}, {{kIpprotoIp, 14}, {"IP_MTU", I}},
        {{kIpprotoIp, 15}, {"IP_FREEBIND", I}}, {{kIpprotoIp, 16}, {"IP_IPSEC_POLICY", O}},
        {{kIpprotoIp, 17}, {"IP_XFRM_POLICY", O}}, {{kIpprotoIp, 18}, {"IP_PASSSEC", I}},
        {{kIpprotoIp, 19}, {"IP_TRANSPARENT", I}}, {{kIpprotoIp, 20}, {"IP_ORIGDSTADDR", I}},
        {{kIpprotoIp, 21}, {"IP_MINTTL", I}}, {{kIpprotoIp, 22}, {"IP_NODEFRAG", I}},
        {{kIpprotoIp, 23}, {"IP_CHECKSUM", I}}, {{kIpprotoIp, 24}, {"IP_BIND_ADDRESS_NO_PORT", I}},
        {{kIpprotoIp, 25}, {"IP_RECVFRAGSIZE", I}}, {{kIpprotoIp, 26}, {"IP_RECVERR_RFC4884", I}},
        {{kIpprotoIp, 32}, {"IP_MULTICAST_IF", O}}, {{kIpprotoIp, 33}, {"IP_MULTICAST_TTL", I}},
        {{kIpprotoIp, 34}, {"IP_MULTICAST_LOOP", I}}, {{kIpprotoIp, 35}, {"IP_ADD_MEMBERSHIP", O}},
        {{kIpprotoIp, 36}, {"IP_DROP_MEMBERSHIP", O}}, {{kIpprotoIp, 49}, {"IP_MULTICAST_ALL", I}},
        {{kIpprotoIp, 50}, {"IP_UNICAST_IF", I}}, {{kIpprotoIp, 51}, {"IP_LOCAL_PORT_RANGE", I}},
        {{kIpprotoIp, 52}, {"IP_PROTOCOL", I}},
        // IPPROTO_IPV6: linux/in6.h
        {{kIpprotoIpv6, 1}, {"IPV6_ADDRFORM", I}}, {{kIpprotoIpv6, 7}, {"IPV6_CHECKSUM", I}},
        {{kIpprotoIpv6, 9}, {"IPV6_NEXTHOP", O}}, {{kIpprotoIpv6, 11}, {"IPV6_FLOWINFO", I}},
        {{kIpprotoIpv6, 16}, {"IPV6_UNICAST_HOPS", I}}, {{kIpprotoIpv6, 17}, {"IPV6_MULTICAST_IF", I}},
        {{kIpprotoIpv6, 18}, {"IPV6_MULTICAST_HOPS", I}}, {{kIpprotoIpv6, 19}, {"IPV6_MULTICAST_LOOP", I}},
        {{kIpprotoIpv6, 20}, {"IPV6_ADD_MEMBERSHIP", O}}, {{kIpprotoIpv6, 21}, {"IPV6_DROP_MEMBERSHIP", O}},
        {{kIpprotoIpv6, 22}, {"IPV6_ROUTER_ALERT", I}}, {{kIpprotoIpv6, 23}, {"IPV6_MTU_DISCOVER", I}},
        {{kIpprotoIpv6, 24}, {"IPV6_MTU", I}}, {{kIpprotoIpv6, 25}, {"IPV6_RECVERR", I}},
        {{kIpprotoIpv6, 26}, {"IPV6_V6ONLY", I}}, {{kIpprotoIpv6, 27}, {"IPV6_JOIN_ANYCAST", O}},
        {{kIpprotoIpv6, 28}, {"IPV6_LEAVE_ANYCAST", O}}, {{kIpprotoIpv6, 29}, {"IPV6_MULTICAST_ALL", I}},
        {{kIpprotoIpv6, 30}, {"IPV6_ROUTER_ALERT_ISOLATE", I}},
        {{kIpprotoIpv6, 31}, {"IPV6_RECVERR_RFC4884", I}}, {{kIpprotoIpv6, 32}, {"IPV6_FLOWLABEL_MGR", O}},
        {{kIpprotoIpv6, 33}, {"IPV6_FLOWINFO_SEND", I}}, {{kIpprotoIpv6, 36}, {"IPV6_HDRINCL", I}},
        {{kIpprotoIpv6, 49}, {"IPV6_RECVPKTINFO", I}}, {{kIpprotoIpv6, 50}, {"IPV6_PKTINFO", O}},
        {{kIpprotoIpv6, 51}, {"IPV6_RECVHOPLIMIT", I}}, {{kIpprotoIpv6, 52}, {"IPV6_HOPLIMIT", I}},
        {{kIpprotoIpv6, 62}, {"IPV6_DONTFRAG", I}}, {{kIpprotoIpv6, 66}, {"IPV6_RECVTCLASS", I}},
        {{kIpprotoIpv6, 67}, {"IPV6_TCLASS", I}}, {{kIpprotoIpv6, 70}, {"IPV6_AUTOFLOWLABEL", I}},
        {{kIpprotoIpv6, 72}, {"IPV6_ADDR_PREFERENCES", I}}, {{kIpprotoIpv6, 73}, {"IPV6_MINHOPCOUNT", I}},
        {{kIpprotoIpv6, 74}, {"IPV6_ORIGDSTADDR", I}}, {{kIpprotoIpv6, 75}, {"IPV6_TRANSPARENT", I}},
        {{kIpprotoIpv6, 76}, {"IPV6_UNICAST_IF", I}}, {{kIpprotoIpv6, 77}, {"IPV6_RECVFRAGSIZE", I}},
        {{kIpprotoIpv6, 78}, {"IPV6_FREEBIND", I}},
    };
    return table;
}

}  // namespace

std::string sockopt_level_name(int level) {
    switch (level) {
        case kSolSocket: return "SOL_SOCKET";
        case kIpprotoIp: return "IPPROTO_IP";
        case kIpprotoTcp: return "IPPROTO_TCP";
        case kIpprotoIpv6: return "IPPROTO_IPV6";
        default: return std::to_string(level);
    }
}

std::string sockopt_name(int level, int optname) {
    auto it = options().find({level, optname});
    if (it != options().end()) return it->second.name;
    return sockopt_level_name(level) + "/" + std::to_string(optname);
}

OptionValue sockopt_value_kind(int level, int optname) {
    auto it = options().find({level, optname});
    return it != options().end() ? it->second.value : OptionValue::Int;
}

}  // namespace tcpscope
