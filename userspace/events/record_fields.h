// How a record's JSON keys are declared once (issue #21): each record type
// (event, connection story, stuck report, step) has one *field list*, a
// function template
//
//     template <class F, class R> void event_fields(F& f, R& event);
//
//
// that names every key in output order, once, with the member it comes
// from, when it is there and how it is converted. The same list is walked
// by every encoder and decoder of the record, each a visitor `F`:
//   FastJsonFields (output/json_fields.h)   appends the line, no JSON tree:
//                                           the per-event hot path;
//   TreeJsonFields (output/json_fields.h)   builds an nlohmann object: the
//                                           reference the fast one is held to;
//   JsonFieldReader (events/json_field_reader.h)  fills the record back
//                                           from a parsed line (recordings).
// A writer walks it with R = const Record, the reader with R = Record, so a
// field is a reference to the member and each visitor reads or assigns it.
//
// Why a template visitor rather than a table of std::function or of
// type-erased descriptors: the list is instantiated for each visitor, so
// the fast writer compiles to the same straight line of appends as the
// hand-written one it replaces (keys are literals of known length, values
// are written with their static type, no indirect call, no allocation),
// while the list itself stays one piece of code. Presence is plain C++
// (`if`, `switch` on the kind) evaluated on the record: the reader has the
// keys that a condition depends on (the kind, ret) by the time it gets
// there, because it fills the record in the same order.
//
// What a visitor F offers (each writer and the reader implement all):
//   f.field(key, member)               integer, bool, string, optional<T>
//                                      (null when empty); read back as is;
//   f.field(key, member, Codec{})      through a codec (a name for a number);
//   f.required(key, member)            the reader refuses the line without it;
//   f.field(key, member, ..., same_as(other))   when the key is absent, the
//                                      reader copies `other` (read last);
//   f.field(key, member, ..., or_value(v))      ... or takes the constant v;
//   f.computed(key, [&] { return value; })      written only (derived from
//                                      other fields); never read back;
//   f.time(key, ts_ns)                 "time"-style RFC 3339 UTC of a
//                                      CLOCK_MONOTONIC time: only with a
//                                      wall clock; never read back;
//   f.when(cond)                       whether the next keys are there:
//                                      `cond` on the record, for all visitors;
//   f.when(cond, key)                  writers: `cond`; the reader: whether
//                                      `key` is in the line (the record has
//                                      not got the value `cond` tests yet);
//   f.open(optional_or_shared_ptr)     the value inside (the reader makes it);
//   f.list(key, vector[, Codec{}])     a JSON array of values;
//   f.objects(key, vector, fields)     a JSON array of objects, each walked
//                                      by `fields(f, element)`.
// A codec: `static void write(Out&, const T&, const ResetReasons&)` (Out:
// out.name(const char*) for a name that needs no escaping, out.string(s),
// out.number(n), out.null()) and `static void read(const Json&, T&,
// ResetReasons&)` (Json: nlohmann's json or ordered_json).
//
// The lists: event_fields (events/event_fields.h; a drop is an event),
// step_fields (events/step_fields.h), story_fields (stories/story_format.cpp),
// stuck_fields (sockets/stuck_format.cpp).
#pragma once

#include <sys/socket.h>

#include <cstdint>
#include <optional>
#include <string>
#include <type_traits>

#include <nlohmann/json.hpp>

#include "container_identity.h"
#include "event.h"
#include "names.h"

namespace tcpscope {

constexpr int kJsonSchemaVersion = 1;

// A fallback of the reader for an absent key: another member of the
// record, copied once every key has been read (cur_pid is pid's when not
// given), or a constant. Writers ignore both.
template <class T>
struct SameAs {
    const T& other;
};
template <class T>
SameAs<T> same_as(const T& other) { return {other}; }
template <class T>
struct OrValue {
    T value;
};
template <class T>
OrValue<T> or_value(T value) { return {value}; }

template <class T>
struct IsOptional : std::false_type {};
template <class T>
struct IsOptional<std::optional<T>> : std::true_type {};

// --- Codecs: a number in the record, a name in the line ------------------

struct KindName {
    template <class Out>
    static void write(Out& out, EventKind kind, const ResetReasons&) { out.name(kind_name(kind)); }
    template <class J>
    static void read(const J& j, EventKind& kind, ResetReasons&) {
        if (auto k = kind_from_name(j.template get<std::string>())) kind = *k;
    }
};

struct TcpStateName {
    template <class Out>
    static void write(Out& out, int state, const ResetReasons&) {
        if (const char* known = known_tcp_state_name(state)) {
            out.name(known);  // a kernel name: nothing to escape, no string made
        } else {
            out.string(tcp_state_name(state));
        }
    }
    template <class J>
    static void read(const J& j, int& state, ResetReasons&) {
        state = j.is_string() ? tcp_state_from_name(j.template get<std::string>()).value_or(0) : 0;
    }
};

// An optional state: its name, or null.
struct OptionalTcpStateName {
    template <class Out>
    static void write(Out& out, const std::optional<int>& state, const ResetReasons& r) {
        if (state) {
            TcpStateName::write(out, *state, r);
        } else {
            out.null();
        }
    }
    template <class J>
    static void read(const J& j, std::optional<int>& state, ResetReasons&) {
        if (j.is_string()) state = tcp_state_from_name(j.template get<std::string>());
    }
};

struct ErrnoName {
    template <class Out>
    static void write(Out& out, int err, const ResetReasons&) { out.string(errno_name(err)); }
    template <class J>
    static void read(const J& j, int& err, ResetReasons&) {
        if (j.is_string()) err = errno_from_name(j.template get<std::string>()).value_or(0);
    }
};

// The kernel's reset reason by the running kernel's names (or as read
// back: interned), null when the kernel did not say.
struct ResetReasonName {
    template <class Out>
    static void write(Out& out, const std::optional<int>& reason, const ResetReasons& reasons) {
        if (reason) {
            out.string(reasons.name(*reason));
        } else {
            out.null();
        }
    }
    template <class J>
    static void read(const J& j, std::optional<int>& reason, ResetReasons& reasons) {
        if (j.is_string()) reason = reasons.intern(j.template get<std::string>());
    }
};

struct FamilyName {
    template <class Out>
    static void write(Out& out, int family, const ResetReasons&) {
        out.name(family == AF_INET6 ? "inet6" : "inet");
    }
    template <class J>
    static void read(const J& j, int& family, ResetReasons&) {
        family = j.template get<std::string>() == "inet6" ? AF_INET6 : AF_INET;
    }
};

// The context an event fired in: "softirq" (irq) or "process".
struct ContextName {
    template <class Out>
    static void write(Out& out, bool irq, const ResetReasons&) { out.name(irq ? "softirq" : "process"); }
    template <class J>
    static void read(const J& j, bool& irq, ResetReasons&) {
        irq = j.template get<std::string>() != "process";
    }
};

struct DirName {
    template <class Out>
    static void write(Out& out, int dir, const ResetReasons&) { out.name(dir == TS_DIR_RX ? "rx" : "tx"); }
    template <class J>
    static void read(const J& j, int& dir, ResetReasons&) {
        dir = j.template get<std::string>() == "rx" ? TS_DIR_RX : TS_DIR_TX;
    }
};

struct TcpFlagsName {
    template <class Out>
    static void write(Out& out, uint8_t flags, const ResetReasons&) { out.string(tcp_flags_name(flags)); }
    template <class J>
    static void read(const J& j, uint8_t& flags, ResetReasons&) {
        flags = tcp_flags_from_name(j.template get<std::string>()).value_or(0);
    }
};

// Only SIGPIPE is traced: any other name reads back as 0.
struct SignalName {
    template <class Out>
    static void write(Out& out, int sig, const ResetReasons&) { out.string(signal_name(sig)); }
    template <class J>
    static void read(const J& j, int& sig, ResetReasons&) {
        sig = j.template get<std::string>() == "SIGPIPE" ? 13 : 0;
    }
};

struct SignalResultName {
    template <class Out>
    static void write(Out& out, int result, const ResetReasons&) {
        out.string(signal_result_name(result));
    }
    template <class J>
    static void read(const J& j, int& result, ResetReasons&) {
        if (j.is_string()) result = signal_result_from_name(j.template get<std::string>()).value_or(-1);
    }
};

// A name that is null when there is none (empty): a step's errno, run's side.
struct NameOrNull {
    template <class Out>
    static void write(Out& out, const std::string& name, const ResetReasons&) {
        if (name.empty()) {
            out.null();
        } else {
            out.string(name);
        }
    }
    template <class J>
    static void read(const J& j, std::string& name, ResetReasons&) {
        if (j.is_string()) name = j.template get<std::string>();
    }
};

// --- Key groups several records share ------------------------------------

// The container and pod keys (docs/containers.md): each only when known.
template <class F, class C>
void container_fields(F& f, C& c) {
    if (f.when(!c.id.empty(), "container_id")) f.field("container_id", c.id);
    if (f.when(!c.runtime.empty(), "container_runtime")) f.field("container_runtime", c.runtime);
    if (f.when(!c.pod_uid.empty(), "pod_uid")) {
        f.field("pod_uid", c.pod_uid);
        f.field("pod_qos", c.qos);
    }
}

// The container keys of a record that holds its identity by pointer:
// nothing for a null or empty identity.
template <class F, class Ptr>
void container_keys(F& f, Ptr& container) {
    if (f.when(container && !container->empty(), "container_id", "pod_uid")) {
        container_fields(f, f.open(container));
    }
}

// The socket keys every socket's line shares (events, connection stories,
// stuck reports): family, saddr, sport, daddr, dport, cookie, netns.
template <class F, class Family, class End, class Cookie, class Netns>
void socket_fields(F& f, Family& family, End& local, End& remote, Cookie& cookie, Netns& netns) {
    f.field("family", family, FamilyName{}, or_value(AF_INET));
    f.required("saddr", local.addr);
    f.required("sport", local.port);
    f.required("daddr", remote.addr);
    f.required("dport", remote.port);
    f.field("cookie", cookie);
    f.field("netns", netns);
}

}  // namespace tcpscope
