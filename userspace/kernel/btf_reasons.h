// Reads the names of enum sk_rst_reason from the running kernel's BTF, so
// that reasons are named as this kernel numbers them.
#pragma once

#include <string>

#include "names.h"

struct btf;

namespace tcpscope {

// Names from a loaded BTF object; empty when it has no such enum.
ResetReasons reset_reasons_from_btf(const struct btf* btf);

// Names from /sys/kernel/btf/vmlinux; empty (and *error set) when unreadable.
ResetReasons load_kernel_reset_reasons(std::string* error);

}  // namespace tcpscope
