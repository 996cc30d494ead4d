// Reads the names of enum sk_rst_reason and enum skb_drop_reason from the
// running kernel's BTF, so that reasons are named as this kernel numbers
// them.
#pragma once

#include <string>

#include "names.h"

struct btf;

namespace tcpscope {

// Names from a loaded BTF object; empty when it has no such enum.
ResetReasons reset_reasons_from_btf(const struct btf* btf);

// Names from /sys/kernel/btf/vmlinux; empty (and *error set) when unreadable.
ResetReasons load_kernel_reset_reasons(std::string* error);

// enum skb_drop_reason's names: "NETFILTER_DROP" for
// SKB_DROP_REASON_NETFILTER_DROP; the values that are no drop keep their
// whole names (SKB_NOT_DROPPED_YET, SKB_CONSUMED). Empty without the enum
// (kernels before 5.17).
DropReasons drop_reasons_from_btf(const struct btf* btf);

// The running kernel's drop reasons, read from /sys/kernel/btf/vmlinux
// once (empty when unreadable).
const DropReasons& kernel_drop_reasons();

}  // namespace tcpscope
