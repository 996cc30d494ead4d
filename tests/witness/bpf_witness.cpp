#include "bpf_witness.h"

#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include <cerrno>
#include <cstring>

#include "witness.skel.h"

namespace ktest {

BpfWitness BpfWitness::drops(uint32_t reason) { return BpfWitness(Hook::Drops, reason); }

BpfWitness BpfWitness::transitions(uint16_t port) { return BpfWitness(Hook::Transitions, port); }

BpfWitness::BpfWitness(Hook hook, uint32_t value) : hook_(hook) {
    skel_ = witness_bpf__open();
    if (skel_ == nullptr) {
        error_ = std::string("cannot open the control program: ") + std::strerror(errno);
        return;
    }
    // Only the one asked for: each counts into the same variable.
    bpf_program__set_autoload(skel_->progs.witness_kfree_skb, hook == Hook::Drops);
    bpf_program__set_autoload(skel_->progs.witness_set_state, hook == Hook::Transitions);
    if (hook == Hook::Drops) {
        skel_->rodata->reason_wanted = value;
    } else {
        skel_->rodata->port_wanted = static_cast<uint16_t>(value);
    }
    int err = witness_bpf__load(skel_);
    if (!err) err = witness_bpf__attach(skel_);
    if (err) {
        error_ = std::string("cannot load or attach the control program: ") + std::strerror(-err);
        witness_bpf__destroy(skel_);
        skel_ = nullptr;
    }
}

BpfWitness::BpfWitness(BpfWitness&& other) noexcept
    : skel_(other.skel_), hook_(other.hook_), error_(std::move(other.error_)) {
    other.skel_ = nullptr;
}

BpfWitness::~BpfWitness() {
    if (skel_) witness_bpf__destroy(skel_);
}

std::optional<uint64_t> BpfWitness::fired() const {
    if (skel_ == nullptr) return std::nullopt;
    return __atomic_load_n(&skel_->bss->fired, __ATOMIC_RELAXED);
}

uint64_t BpfWitness::skipped() const {
    if (skel_ == nullptr) return 0;
    bpf_program* prog = hook_ == Hook::Drops ? skel_->progs.witness_kfree_skb : skel_->progs.witness_set_state;
    bpf_prog_info info = {};
    uint32_t len = sizeof(info);
    if (bpf_obj_get_info_by_fd(bpf_program__fd(prog), &info, &len)) return 0;
    return info.recursion_misses;
}

}  // namespace ktest
