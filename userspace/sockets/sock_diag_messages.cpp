#include "sock_diag_messages.h"

#include <arpa/inet.h>
#include <linux/inet_diag.h>
#include <linux/netlink.h>
#include <linux/sock_diag.h>
#include <linux/tcp.h>
#include <netinet/in.h>

#include <cstring>

namespace tcpscope {
namespace {

// The ts_sock_info the kernel dumped for this socket, if any: nested
// INET_DIAG_SK_BPF_STORAGES > SK_DIAG_BPF_STORAGE > MAP_VALUE.
const ts_sock_info* storage_of(const nlattr* storages, size_t len) {
    for (auto* s = reinterpret_cast<const nlattr*>(reinterpret_cast<const char*>(storages) + NLA_HDRLEN);
         reinterpret_cast<const char*>(s) + NLA_HDRLEN <= reinterpret_cast<const char*>(storages) + len &&
         s->nla_len >= NLA_HDRLEN;
         s = reinterpret_cast<const nlattr*>(reinterpret_cast<const char*>(s) + NLA_ALIGN(s->nla_len))) {
        if ((s->nla_type & NLA_TYPE_MASK) != SK_DIAG_BPF_STORAGE) continue;
        const char* end = reinterpret_cast<const char*>(s) + s->nla_len;
        for (auto* v = reinterpret_cast<const nlattr*>(reinterpret_cast<const char*>(s) + NLA_HDRLEN);
             reinterpret_cast<const char*>(v) + NLA_HDRLEN <= end && v->nla_len >= NLA_HDRLEN;
             v = reinterpret_cast<const nlattr*>(reinterpret_cast<const char*>(v) + NLA_ALIGN(v->nla_len))) {
            if ((v->nla_type & NLA_TYPE_MASK) == SK_DIAG_BPF_STORAGE_MAP_VALUE &&
                static_cast<size_t>(v->nla_len - NLA_HDRLEN) >= sizeof(ts_sock_info)) {
                return reinterpret_cast<const ts_sock_info*>(reinterpret_cast<const char*>(v) + NLA_HDRLEN);
            }
        }
    }
    return nullptr;
}

std::string address_text(int family, const __be32* words) {
    char buf[INET6_ADDRSTRLEN] = {};
    inet_ntop(family, words, buf, sizeof(buf));
    return buf;
}

}  // namespace

DumpProgress read_sock_diag_messages(const char* buf, size_t len, uint32_t seq,
                                     SocketSnapshot* snapshot, std::string* error) {
    // NLMSG_NEXT wants a signed length it can count down.
    int n = static_cast<int>(len);
    for (auto* h = reinterpret_cast<const nlmsghdr*>(buf); NLMSG_OK(h, n); h = NLMSG_NEXT(h, n)) {
        if (h->nlmsg_seq != seq) continue;
        if (h->nlmsg_type == NLMSG_DONE) return DumpProgress::Done;
        if (h->nlmsg_type == NLMSG_ERROR) {
            auto* e = static_cast<const nlmsgerr*>(NLMSG_DATA(h));
            *error = std::string("sock_diag: ") + std::strerror(-e->error);
            return DumpProgress::Error;
        }
        if (h->nlmsg_type != SOCK_DIAG_BY_FAMILY) continue;
        auto* r = static_cast<const inet_diag_msg*>(NLMSG_DATA(h));
        SocketRecord rec;
        rec.state = r->idiag_state < TS_STATE_SLOTS ? r->idiag_state : 0;
        rec.family = r->idiag_family;
        rec.cookie = static_cast<uint64_t>(r->id.idiag_cookie[0]) |
                     static_cast<uint64_t>(r->id.idiag_cookie[1]) << 32;
        rec.local = {address_text(r->idiag_family, r->id.idiag_src), ntohs(r->id.idiag_sport)};
        rec.remote = {address_text(r->idiag_family, r->id.idiag_dst), ntohs(r->id.idiag_dport)};
        rec.inode = r->idiag_inode;
        rec.recv_q = r->idiag_rqueue;
        rec.send_q = r->idiag_wqueue;
        const ts_sock_info* si = nullptr;
        int attrs_len = static_cast<int>(h->nlmsg_len - NLMSG_LENGTH(sizeof(*r)));
        for (auto* a = reinterpret_cast<const nlattr*>(r + 1); attrs_len >= NLA_HDRLEN &&
             a->nla_len >= NLA_HDRLEN && a->nla_len <= attrs_len;
             attrs_len -= NLA_ALIGN(a->nla_len),
             a = reinterpret_cast<const nlattr*>(reinterpret_cast<const char*>(a) + NLA_ALIGN(a->nla_len))) {
            int type = a->nla_type & NLA_TYPE_MASK;
            if (type == INET_DIAG_SK_BPF_STORAGES) si = storage_of(a, a->nla_len);
            if (type == INET_DIAG_SKMEMINFO &&
                a->nla_len >= NLA_HDRLEN + (SK_MEMINFO_DROPS + 1) * sizeof(uint32_t)) {
                uint32_t drops = 0;
                std::memcpy(&drops, reinterpret_cast<const char*>(a) + NLA_HDRLEN +
                                        SK_MEMINFO_DROPS * sizeof(uint32_t),
                            sizeof(drops));
                rec.has_meminfo = true;
                rec.drops = drops;
            }
            // tcp_info grows with kernels: take what this one gave,
            // the fields we read are among the oldest.
            if (type == INET_DIAG_INFO) {
                tcp_info info{};
                size_t info_len = a->nla_len - NLA_HDRLEN;
                std::memcpy(&info, reinterpret_cast<const char*>(a) + NLA_HDRLEN,
                            info_len < sizeof(info) ? info_len : sizeof(info));
                if (info_len >= offsetof(tcp_info, tcpi_total_retrans) + sizeof(info.tcpi_total_retrans)) {
                    rec.has_info = true;
                    rec.retransmits = info.tcpi_retransmits;
                    rec.total_retrans = info.tcpi_total_retrans;
                }
            }
        }
        if (si) {
            rec.has_storage = true;
            rec.pid = si->tgid;
            if (si->tgid) rec.comm.assign(si->comm, strnlen(si->comm, TS_COMM_LEN));
            rec.cgroup_id = si->cgroup_id;
            rec.state_ts = si->state_ts;
            rec.in_cgroup = si->owner_flags & TS_F_IN_CGROUP;
        }
        snapshot->sockets.push_back(std::move(rec));
    }
    return DumpProgress::More;
}

}  // namespace tcpscope
