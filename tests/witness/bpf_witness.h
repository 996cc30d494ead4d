// A control for tcpscope's counts (witness.bpf.c): a BPF program of its own
// that counts, on the whole host, the firings of one tracepoint that perf
// counts beside it. Read against perf's count it tells a firing the kernel
// ran no BPF program for from one tcpscope's programs saw and did not count.
#pragma once

#include <cstdint>
#include <optional>
#include <string>

struct witness_bpf;

namespace ktest {

class BpfWitness {
public:
    // kfree_skb firings with this drop reason.
    static BpfWitness drops(uint32_t reason);
    // inet_sock_set_state firings for sockets with this port at either end.
    static BpfWitness transitions(uint16_t port);

    BpfWitness(BpfWitness&& other) noexcept;
    ~BpfWitness();
    BpfWitness(const BpfWitness&) = delete;
    BpfWitness& operator=(const BpfWitness&) = delete;
    BpfWitness& operator=(BpfWitness&&) = delete;

    // The firings counted so far; nullopt when the program is not attached
    // (error() says why).
    std::optional<uint64_t> fired() const;
    // The kernel's count of this program's runs it skipped (recursion).
    uint64_t skipped() const;
    const std::string& error() const { return error_; }

private:
    enum class Hook { Drops, Transitions };
    BpfWitness(Hook hook, uint32_t value);
    witness_bpf* skel_ = nullptr;
    Hook hook_;
    std::string error_;
};

}  // namespace ktest
