#include "story_builder.h"
#include "event_text.h"

#include <cstdio>

#include "connection_drops.h"

#include <algorithm>
#include <cerrno>

namespace tcpscope {
namespace {

constexpr int kEstablished = 1, kSynSent = 2, kSynRecv = 3, kFinWait1 = 4, kFinWait2 = 5,
              kTimeWait = 6, kClose = 7, kCloseWait = 8, kLastAck = 9, kListen = 10, kClosing = 11;
constexpr int kSigpipe = 13;
// Cookies remembered after their story was handed out, to ignore their
// late events (a second SIGPIPE, a RST sent after the grace).
constexpr size_t kDoneMemory = 4096;

bool has_error(const ConnectionStory& s, int err) {
    return std::find(s.errors.begin(), s.errors.end(), err) != s.errors.end();
}

// A RST sent by the socket's own close rather than by TCP's checks: the
// application aborted it (unread data, SO_LINGER 0, linger2 < 0).
bool abortive_close_reason(const std::string& name) {
    return name == "TCP_ABORT_ON_CLOSE" || name == "TCP_STATE" || name == "TCP_ABORT_ON_LINGER";
}

}  // namespace

StoryBuilder::Conn* StoryBuilder::find_or_add(const Event& e) {
    auto it = conns_.find(e.cookie);
    if (it != conns_.end()) {
        Conn& c = it->second;
        if (!c.closed) idle_.splice(idle_.end(), idle_, c.idle);
        return &c;
    }
    make_room();
    Conn& c = conns_[e.cookie];
    c.idle = idle_.insert(idle_.end(), e.cookie);
    c.story.cookie = e.cookie;
    c.story.partial = evicted_cookies_.count(e.cookie) != 0;
    c.story.first_seen_ns = e.ts_ns;
    c.story.family = e.family;
    c.story.local = e.local;
    c.story.remote = e.remote;
    c.story.netns = e.netns;
    c.story.netns_cookie = e.netns_cookie;
    return &c;
}

void StoryBuilder::make_room() {
    if (conns_.size() < options_.max_open) return;
    // A closed connection loses only the late events its grace waits for:
    // hand out the one that closed first, before dropping an open one.
    while (!closing_.empty()) {
        uint64_t cookie = closing_.front().second;
        closing_.pop_front();
        auto it = conns_.find(cookie);
        if (it == conns_.end() || !it->second.closed) continue;
        hand_out(it);
        ++cut_short_;
        return;
    }
    if (idle_.empty()) return;
    uint64_t cookie = idle_.front();
    auto evicted = conns_.find(cookie);
    if (evicted != conns_.end()) unindex(evicted->second);
    conns_.erase(cookie);
    idle_.pop_front();
    remember(evicted_cookies_, evicted_order_, cookie);
    ++evicted_;
}

void StoryBuilder::remember(std::unordered_set<uint64_t>& set, std::deque<uint64_t>& order,
                            uint64_t cookie) {
    if (!set.insert(cookie).second) return;
    order.push_back(cookie);
    if (order.size() > kDoneMemory) {
        set.erase(order.front());
        order.pop_front();
    }
}

void StoryBuilder::on_listener_drop(const Event& e) {
    if (e.drop_reason != "ACCEPT_QUEUE_FULL") return;
    // Enough for every listener of a busy host over the seconds a slow
    // connect lasts; older ones go first.
    constexpr size_t kQueueDropMemory = 1024;
    if (queue_drops_.size() >= kQueueDropMemory) queue_drops_.pop_front();
    queue_drops_.push_back(QueueDrop{e.ts_ns, e.netns, e.family, e.local, e.accept_backlog.value_or(0)});
}

void StoryBuilder::join_syn_drop(ConnectionStory& s) const {
    if (s.role != Role::Client || !s.established || !s.start_ns || queue_drops_.empty()) return;
    uint64_t syn_sent_ns = 0;
    for (const auto& span : s.states) {
        if (span.state == kSynSent && span.ns) syn_sent_ns = *span.ns;
    }
    // The first SYN retransmit waits the initial RTO, 1 s: a connect
    // quicker than that lost no SYN (0.9 for the timer's slack).
    if (syn_sent_ns < 900000000ull) return;
    // The listener counted the drop at its next look, at most a second
    // (and a little) after it: a look from the connect's start to that
    // long after it ended.
    const uint64_t from = *s.start_ns;
    const uint64_t to = *s.start_ns + syn_sent_ns + 1500000000ull;
    for (auto it = queue_drops_.rbegin(); it != queue_drops_.rend(); ++it) {
        const QueueDrop& d = *it;
        if (d.ts_ns < from || d.ts_ns > to || d.listener.port != s.remote.port) continue;
        // A wildcard listener takes the port of its own namespace only.
        const bool wildcard = d.listener.addr == "0.0.0.0" || d.listener.addr == "::";
        if (wildcard ? d.netns != s.netns : d.listener.addr != s.remote.addr) continue;
        s.syn_dropped = ConnectionStory::SynDropped{syn_sent_ns, d.listener, d.family, d.backlog};
        return;
    }
}

void StoryBuilder::hand_out(std::unordered_map<uint64_t, Conn>::iterator it) {
    uint64_t cookie = it->first;
    finish(it->second);
    join_syn_drop(it->second.story);
    unindex(it->second);
    ready_.push_back(std::move(it->second.story));
    conns_.erase(it);
    remember(done_, done_order_, cookie);
}

void StoryBuilder::for_each_open(const std::function<void(const ConnectionStory&)>& visit) const {
    for (const auto& [cookie, c] : conns_) {
        if (!c.closed) visit(c.story);
    }
}

void StoryBuilder::add(const Event& e) {
    if (e.kind == EventKind::Signal) {
        on_signal(e);
        return;
    }
    if (e.kind == EventKind::Drop && e.drop_seen_by == "listener") {
        on_listener_drop(e);
        return;
    }
    // A drop may name no socket (a SYN no socket took): joined by addresses.
    if (e.kind == EventKind::Drop) {
        on_drop(e);
        return;
    }
    // No cookie: no full socket (a mini-socket's or a socketless RST, a
    // packet): not a connection's own event.
    if (e.cookie == 0 || done_.count(e.cookie)) return;
    if (e.kind == EventKind::Packet || e.kind == EventKind::Send || e.kind == EventKind::Recv) {
        return;
    }
    Conn& c = *find_or_add(e);
    ConnectionStory& s = c.story;
    c.last_ts = e.ts_ns;
    // The owner: the socket's own owner wins over its listener's.
    if (e.attribution != "unknown" && e.pid != 0 &&
        !(e.attribution == "listener" && c.owner_named)) {
        s.pid = e.pid;
        s.comm = e.comm;
        s.attribution = e.attribution;
        s.container = e.container;
        if (e.attribution != "listener") c.owner_named = true;
    }
    // An abortive close wipes the peer's address before the last events.
    if (s.remote.port == 0 && e.remote.port != 0) {
        s.local = e.local;
        s.remote = e.remote;
        s.family = e.family;
    }
    if (s.local.port == 0 && e.local.port != 0) s.local = e.local;
    if (!c.indexed) index_tuple(c);
    switch (e.kind) {
    case EventKind::State:
        on_state(c, e);
        break;
    case EventKind::ResetSent:
        if (!e.minisock && !e.no_socket && !c.rst_sent) {
            c.rst_sent = true;
            c.rst_sent_ts = e.ts_ns;
            c.rst_sent_state = e.state;
            c.rst_sent_reason = e.reason;
        }
        break;
    case EventKind::ResetReceived:
        if (!c.rst_received) {
            c.rst_received = true;
            c.rst_received_ts = e.ts_ns;
            c.rst_received_state = e.state;
        }
        break;
    case EventKind::Retransmit:
        ++s.retransmits_seen;
        if (c.peer_drops_pending) {
            --c.peer_drops_pending;
            ++s.retransmits_after_drop;
        }
        break;
    case EventKind::SockError:
        s.errors.push_back(e.error);
        break;
    default:
        break;
    }
}

void StoryBuilder::on_state(Conn& c, const Event& e) {
    ConnectionStory& s = c.story;
    if (e.new_state == kListen || (e.old_state == kListen && e.new_state == kClose)) {
        // A listener: no connection of its own.
        forget(e.cookie);
        return;
    }
    if (e.new_state == kSynSent) {
        s.role = Role::Client;
        s.start_ns = e.ts_ns;
    } else if (e.old_state == kListen && e.new_state == kSynRecv) {
        s.role = Role::Server;
        s.start_ns = e.ts_ns;
    } else if (s.role == Role::Unknown) {
        if (e.old_state == kSynSent) s.role = Role::Client;
        if (e.old_state == kSynRecv) s.role = Role::Server;
    }
    if (e.old_state != kClose && e.old_state != kListen) {
        s.states.push_back({e.old_state, e.prev_state_ns});
    }
    if (e.old_state == kSynSent && e.new_state == kEstablished) c.syn_acked = true;
    // Our FIN acknowledged: FIN_WAIT1 -> FIN_WAIT2 always; out of CLOSING
    // or LAST_ACK to CLOSE unless a RST or a timeout ended it (checked
    // when the story ends).
    if (e.old_state == kFinWait1 && e.new_state == kFinWait2) c.fin_acked = true;
    if ((e.old_state == kClosing || e.old_state == kLastAck) && e.new_state == kClose) {
        c.fin_acked_at_close = true;
    }
    // Any state past the handshake but CLOSE means it was established,
    // also for a connection older than the trace.
    if (e.new_state == kEstablished ||
        (e.old_state != kSynSent && e.old_state != kSynRecv && e.old_state != kClose &&
         e.old_state != kListen)) {
        s.established = true;
    }
    if (s.closed_first == Closer::Neither) {
        if (e.new_state == kFinWait1) s.closed_first = Closer::Local;
        if (e.new_state == kCloseWait) s.closed_first = Closer::Peer;
        // A connection older than the trace, first seen past its first
        // FIN: the state it leaves says who sent it.
        if (e.old_state == kFinWait1 || e.old_state == kFinWait2 || e.old_state == kClosing ||
            e.old_state == kTimeWait) {
            s.closed_first = Closer::Local;
        }
        if (e.old_state == kCloseWait || e.old_state == kLastAck) s.closed_first = Closer::Peer;
    }
    if (e.new_state == kClose && !c.closed) {
        c.closed = true;
        idle_.erase(c.idle);
        c.close_from = e.old_state;
        c.process_close = !e.irq;
        s.end_ns = e.ts_ns;
        s.stats = e.close_stats;
        closing_.emplace_back(e.ts_ns, e.cookie);
    }
}

void StoryBuilder::on_signal(const Event& e) {
    if (e.signal != kSigpipe) return;
    // Under --port/--addr a SIGPIPE carries the socket of the send that
    // raised it.
    if (e.cookie) {
        auto it = conns_.find(e.cookie);
        if (it != conns_.end()) ++it->second.story.sigpipes;
        return;
    }
    // Otherwise it names only its process: it goes to that process's
    // connection that ended last, which a write after the end raised it on.
    for (auto it = closing_.rbegin(); it != closing_.rend(); ++it) {
        auto c = conns_.find(it->second);
        if (c == conns_.end()) continue;
        if (c->second.story.pid == e.target_pid && c->second.story.netns == e.netns) {
            ++c->second.story.sigpipes;
            return;
        }
    }
}

void StoryBuilder::finish(Conn& c) {
    ConnectionStory& s = c.story;
    if (!s.start_ns && options_.trace_start_ns && options_.trace_start_ns < s.first_seen_ns) {
        // No SYN seen: it was there when the trace began.
        s.known_since_ns = options_.trace_start_ns;
    }
    if (s.role == Role::Unknown) {
        // Not seen opening: a port from the ephemeral range (connect()'s
        // pick) on one side only names the client.
        auto ephemeral = [&](uint16_t port) {
            return port >= options_.ephemeral_low && port <= options_.ephemeral_high;
        };
        if (ephemeral(s.local.port) && !ephemeral(s.remote.port)) s.role = Role::Client;
        if (ephemeral(s.remote.port) && !ephemeral(s.local.port)) s.role = Role::Server;
        s.role_from_ports = s.role != Role::Unknown;
    }
    const bool refused = has_error(s, ECONNREFUSED) ||
                         (c.rst_received && c.rst_received_state == kSynSent);
    if (!s.established && refused) {
        s.ending = Ending::Refused;
        s.reset_state = kSynSent;
    } else if (has_error(s, ETIMEDOUT)) {
        s.ending = Ending::Timeout;
    } else if (c.rst_received && c.rst_sent && c.rst_sent_ts >= c.rst_received_ts) {
        // A socket never answers a RST with one. What the kernel reported
        // as received was its tcp_reset() aborting the socket because data
        // came after our close (FIN_WAIT1/2, CLOSING, LAST_ACK: RFC 1122),
        // and the RST that followed is the one it sent for that data
        // (TCP_ABORT_ON_DATA from 6.10). The state is where the data came.
        s.ending = Ending::ResetSent;
        s.reset_reason = c.rst_sent_reason;
        s.reset_state = c.rst_received_state;
    } else if (c.rst_received && (!c.rst_sent || c.rst_received_ts <= c.rst_sent_ts)) {
        s.ending = Ending::ResetReceived;
        s.reset_state = c.rst_received_state;
    } else if (c.rst_sent) {
        s.reset_reason = c.rst_sent_reason;
        s.reset_state = c.rst_sent_state;
        // Its owner's close() sent it: an abort. The reason says so from
        // 6.10; before, a move to CLOSE straight from a synchronized
        // state in the owner's own call does.
        bool abortive = c.rst_sent_reason ? abortive_close_reason(reasons_.name(*c.rst_sent_reason))
                                          : c.process_close;
        s.ending = abortive ? Ending::Aborted : Ending::ResetSent;
    } else if (s.established && c.close_from != kEstablished && c.close_from != kCloseWait &&
               c.close_from != kSynRecv) {
        // Out of FIN_WAIT2, LAST_ACK or CLOSING: both FINs went.
        s.ending = Ending::Fin;
    } else {
        s.ending = Ending::Unknown;
    }
    if (s.stats) {
        bool fin_acked = c.fin_acked || (c.fin_acked_at_close && !c.rst_received &&
                                         !has_error(s, ETIMEDOUT));
        uint64_t control = (c.syn_acked ? 1 : 0) + (fin_acked ? 1 : 0);
        s.bytes_sent = s.stats->bytes_acked >= control ? s.stats->bytes_acked - control : 0;
        uint64_t fin = s.stats->fin_received ? 1 : 0;
        s.bytes_received = s.stats->bytes_received >= fin ? s.stats->bytes_received - fin : 0;
    }
}

namespace {

// The addresses of a connection as one number (by_tuple_'s key).
uint64_t tuple_hash(int family, const Endpoint& local, const Endpoint& remote) {
    // splitmix64's finalizer, to mix each part into the whole.
    auto mix = [](uint64_t h, uint64_t v) {
        uint64_t z = h ^ (v + 0x9e3779b97f4a7c15ull + (h << 6) + (h >> 2));
        z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
        z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
        return z ^ (z >> 31);
    };
    const std::hash<std::string> text;
    uint64_t h = mix(static_cast<uint64_t>(family), text(local.addr));
    h = mix(h, text(remote.addr));
    return mix(h, (static_cast<uint64_t>(local.port) << 16) | remote.port);
}

// A reason into a story's short list (the first 4, in order).
void add_reason(std::vector<std::string>& reasons, const std::string& reason) {
    if (std::find(reasons.begin(), reasons.end(), reason) == reasons.end() && reasons.size() < 4) {
        reasons.push_back(reason);
    }
}

}  // namespace

void StoryBuilder::index_tuple(Conn& c) {
    const ConnectionStory& s = c.story;
    if (s.local.port == 0 || s.remote.port == 0) return;
    // Its addresses stay as they are from here: they change only while a
    // port is still 0 (find_or_add).
    c.indexed = true;
    c.tuple_hash = tuple_hash(s.family, s.local, s.remote);
    by_tuple_.set(c.tuple_hash, s.cookie);
}

void StoryBuilder::unindex(const Conn& c) {
    if (!c.indexed) return;
    by_tuple_.erase_if(c.tuple_hash, c.story.cookie);
}

std::unordered_map<uint64_t, StoryBuilder::Conn>::iterator StoryBuilder::find_by_tuple(
    int family, const Endpoint& local, const Endpoint& remote) {
    const uint64_t cookie = by_tuple_.get(tuple_hash(family, local, remote));
    if (cookie == 0) return conns_.end();
    auto it = conns_.find(cookie);
    if (it == conns_.end()) return it;
    // Another connection whose addresses hash the same is not this one.
    const ConnectionStory& s = it->second.story;
    const bool same = s.family == family && s.local.port == local.port &&
                      s.remote.port == remote.port && s.local.addr == local.addr &&
                      s.remote.addr == remote.addr;
    return same ? it : conns_.end();
}

// A drop joins the connection it names by socket, else the one whose
// addresses it carries, seen from either end: a SYN dropped on its way in
// at the peer (on this host: loopback, a namespace) has the peer's side
// as its local one.
void StoryBuilder::on_drop(const Event& e) {
    auto it = e.cookie ? conns_.find(e.cookie) : conns_.end();
    if (it == conns_.end() && e.cookie == 0) {
        it = find_by_tuple(e.family, e.local, e.remote);
        if (it == conns_.end()) it = find_by_tuple(e.family, e.remote, e.local);
    }
    // A listener's drop, or one of a connection not followed: no story.
    if (it == conns_.end()) return;
    ConnectionStory& s = it->second.story;
    ++s.drops_seen;
    if ((e.tcp_flags & TS_TCP_SYN) && !(e.tcp_flags & TS_TCP_ACK)) ++s.syn_drops;
    const std::string reason = e.drop_reason.empty() ? "unknown" : e.drop_reason;
    add_reason(s.drop_reasons, reason);
    // Data, a FIN or a SYN-ACK dropped on its way in here was sent by the
    // other end: when that end is followed here too, it will retransmit
    // it. (A bare SYN's drop is the connect's own, told above.)
    const bool syn_ack = (e.tcp_flags & TS_TCP_SYN) && (e.tcp_flags & TS_TCP_ACK);
    const bool repaired_by_sender = e.payload_len > 0 || (e.tcp_flags & TS_TCP_FIN) || syn_ack;
    if (e.dir == TS_DIR_RX && repaired_by_sender) {
        auto sender = find_by_tuple(e.family, e.remote, e.local);
        if (sender != conns_.end()) {
            ++sender->second.peer_drops_pending;
            add_reason(sender->second.story.peer_drop_reasons, reason);
        }
    }
}

void StoryBuilder::forget(uint64_t cookie) {
    auto it = conns_.find(cookie);
    if (it == conns_.end()) return;
    if (!it->second.closed) idle_.erase(it->second.idle);
    unindex(it->second);
    conns_.erase(it);
}

std::vector<ConnectionStory> StoryBuilder::take_complete(uint64_t now_ns) {
    while (!closing_.empty() && closing_.front().first + options_.grace_ns <= now_ns) {
        uint64_t cookie = closing_.front().second;
        closing_.pop_front();
        auto it = conns_.find(cookie);
        if (it == conns_.end() || !it->second.closed) continue;
        hand_out(it);
    }
    std::vector<ConnectionStory> out;
    out.swap(ready_);
    return out;
}

std::vector<ConnectionStory> StoryBuilder::take_closed() {
    return take_complete(UINT64_MAX - options_.grace_ns);
}

const char* role_name(Role role) {
    switch (role) {
    case Role::Client: return "client";
    case Role::Server: return "server";
    default: return "unknown";
    }
}

const char* ending_name(Ending ending) {
    switch (ending) {
    case Ending::Fin: return "fin";
    case Ending::ResetSent: return "reset_sent";
    case Ending::ResetReceived: return "reset_received";
    case Ending::Timeout: return "timeout";
    case Ending::Refused: return "refused";
    case Ending::Aborted: return "aborted";
    default: return "unknown";
    }
}

const char* closer_name(Closer closer) {
    switch (closer) {
    case Closer::Local: return "local";
    case Closer::Peer: return "peer";
    default: return "neither";
    }
}

namespace {

// "4 SYNs dropped on this host (NETFILTER_DROP: a firewall rule)".
std::string drops_words(const ConnectionStory& s) {
    const uint32_t n = s.drops_seen;
    std::string what = s.syn_drops == n ? std::to_string(n) + " SYN" + (n == 1 ? "" : "s")
                                        : std::to_string(n) + " segment" + (n == 1 ? "" : "s");
    std::string reasons;
    for (const auto& r : s.drop_reasons) reasons += (reasons.empty() ? "" : ", ") + r;
    std::string words = s.drop_reasons.size() == 1 ? drop_reason_words(s.drop_reasons[0]) : "";
    return what + " dropped on this host (" + reasons + (words.empty() ? "" : ": " + words) + ")";
}

}  // namespace

std::string story_cause(const ConnectionStory& s, const ResetReasons& reasons) {
    std::string cause;
    std::string reason = s.reset_reason ? reasons.name(*s.reset_reason) : "";
    std::string in_state = s.reset_state ? " in " + tcp_state_name(*s.reset_state) : "";
    int said_errno = 0;  // the error the words already name
    switch (s.ending) {
    case Ending::Fin:
        if (s.closed_first == Closer::Local && s.stats && !s.stats->fin_received) {
            // An orphan in FIN_WAIT2 is handed to a timewait mini-socket
            // as soon as its FIN is acknowledged: the peer may close later.
            cause = "we closed first (FIN acknowledged); the peer had not closed when the kernel "
                    "handed our socket to a FIN_WAIT2 timewait socket";
        } else {
            cause = s.closed_first == Closer::Local  ? "we closed first, then the peer (FIN both ways)"
                    : s.closed_first == Closer::Peer ? "peer closed first, then we did (FIN both ways)"
                                                     : "orderly close (FIN both ways)";
        }
        break;
    case Ending::ResetReceived:
        if (s.closed_first == Closer::Peer && s.reset_state == kCloseWait) {
            cause = "peer closed, then our write drew a RST from its timewait socket";
        } else {
            cause = std::string(s.closed_first == Closer::Peer ? "peer closed, then " : "") +
                    "RST received" + in_state;
        }
        break;
    case Ending::ResetSent:
        cause = std::string(s.closed_first == Closer::Local ? "we closed, then " : "") + "we sent a RST" +
                (reason.empty() ? "" : " (" + reason + ")") + in_state;
        // Before 6.10 no reason: a RST sent in a state after our FIN is
        // the abort on data (the story found it sent after the kernel's
        // tcp_reset()).
        if (reason == "TCP_ABORT_ON_DATA" ||
            (reason.empty() && s.reset_state &&
             (*s.reset_state == kFinWait1 || *s.reset_state == kFinWait2 ||
              *s.reset_state == kClosing || *s.reset_state == kLastAck))) {
            cause += ": data came after our close";
        }
        break;
    case Ending::Aborted:
        if (reason == "TCP_ABORT_ON_CLOSE") {
            cause = "closed with unread data: RST instead of FIN (TCP_ABORT_ON_CLOSE)";
        } else if (reason == "TCP_STATE") {
            cause = "closed with SO_LINGER 0: RST instead of FIN (TCP_STATE)";
        } else {
            cause = "closed abortively: RST instead of FIN" + (reason.empty() ? "" : " (" + reason + ")");
        }
        break;
    case Ending::Refused:
        // A firewall's reject: the rule drops the SYN and answers with a
        // RST of its own.
        if (s.syn_drops && s.drop_reasons.size() == 1 && s.drop_reasons[0] == "NETFILTER_DROP") {
            cause = "refused by a firewall rule: the SYN was dropped here (NETFILTER_DROP) and a RST "
                    "came back: ECONNREFUSED";
        } else {
            cause = "refused: the SYN drew a RST: ECONNREFUSED";
        }
        said_errno = ECONNREFUSED;
        break;
    case Ending::Timeout:
        if (s.established) {
            cause = (s.stats ? std::to_string(s.stats->total_retrans) + " retransmissions"
                             : std::string("retransmissions")) +
                    " went unanswered: ETIMEDOUT";
        } else if (s.syn_drops) {
            cause = "the SYN went unanswered: " + drops_words(s) + ": ETIMEDOUT";
        } else {
            cause = "the SYN went unanswered: ETIMEDOUT";
        }
        said_errno = ETIMEDOUT;
        break;
    case Ending::Unknown:
        cause = s.established ? "closed with no FIN or RST seen" : "given up before it was established";
        break;
    }
    // Drops the words above did not tell (data dropped on an established
    // connection, a SYN dropped before an answer came).
    // A refused connect's SYN is dropped for NO_SOCKET after the RST
    // answered it: the mechanics of "refused", already told.
    const bool only_refusal = s.ending == Ending::Refused && s.drop_reasons.size() == 1 &&
                              s.drop_reasons[0] == "NO_SOCKET";
    if (s.drops_seen && !only_refusal && cause.find("dropped") == std::string::npos) {
        cause += "; " + drops_words(s);
    }
    // What it retransmitted because the receiver here dropped it.
    if (s.retransmits_after_drop) {
        const uint32_t n = s.retransmits_after_drop;
        std::string reasons;
        for (const auto& r : s.peer_drop_reasons) {
            const std::string words = drop_reason_words(r);
            reasons += (reasons.empty() ? "" : ", ") + r + (words.empty() ? "" : ": " + words);
        }
        cause += "; " + std::to_string(n) + " retransmit" + (n == 1 ? "" : "s") + " of what the receiver " +
                 "on this host dropped (" + reasons + ")";
    }
    std::string errs;
    for (int err : s.errors) {
        if (err == said_errno) continue;
        errs += (errs.empty() ? "" : ", ") + errno_name(err);
    }
    if (s.sigpipes) {
        errs += (errs.empty() ? "" : ", ") + std::string("SIGPIPE") +
                (s.sigpipes > 1 ? " x" + std::to_string(s.sigpipes) : "");
    }
    if (!errs.empty()) cause += ": " + errs;
    if (s.syn_dropped) {
        // What made it slow comes first: "connect took 1.02 s: first SYN
        // dropped, accept queue of 127.0.0.1:8080 full (backlog 1)".
        char took[32];
        std::snprintf(took, sizeof(took), "%.2f s", s.syn_dropped->connect_ns / 1e9);
        cause = std::string("connect took ") + took + ": first SYN dropped, accept queue of " +
                endpoint_text(s.syn_dropped->listener, s.syn_dropped->family) + " full (backlog " +
                std::to_string(s.syn_dropped->backlog) + "); " + cause;
    }
    return cause;
}

}  // namespace tcpscope
