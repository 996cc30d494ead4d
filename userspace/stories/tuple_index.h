// Open connections by a hash of their addresses, to the socket's cookie:
// what lets a drop that names no socket (a SYN dropped before any socket
// took it) find its connection. A flat table with linear probing, not a
// std::unordered_map: every connection is put in and taken out once, and
// under churn (15,000 connections a second, each waiting out its grace)
// the map's node per entry, allocated and freed, and the pointer chase to
// it were a fifth of `trace --connections`' own CPU (perf, 2026-12-07).
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

namespace tcpscope {

class TupleIndex {
public:
    // Maps key to cookie (not 0), replacing what it held.
    void set(uint64_t key, uint64_t cookie);
    // The cookie under key, 0 when there is none.
    uint64_t get(uint64_t key) const;
    // Takes key out if it still maps to cookie (another connection with
    // the same addresses may have taken it over since).
    void erase_if(uint64_t key, uint64_t cookie);
    size_t size() const { return used_; }

private:
    struct Slot {
        uint64_t key = 0;  // 0: empty
        uint64_t cookie = 0;
    };
    // The keys are hashes already mixed: the low bits place them. A hash
    // of 0 is kept as 1 (a lookup checks the connection's own addresses).
    static uint64_t stored(uint64_t key) { return key ? key : 1; }
    size_t home(uint64_t key) const { return static_cast<size_t>(key) & (slots_.size() - 1); }
    // The slot holding key, or the empty one where its probe ends.
    size_t probe(uint64_t key) const;
    void grow();

    std::vector<Slot> slots_;  // a power of two in size, at most half full
    size_t used_ = 0;
};

}  // namespace tcpscope
