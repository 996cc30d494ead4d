// `tcpscope info`: what the running kernel's tracepoints offer, read from
// its BTF (needs no privileges: /sys/kernel/btf/vmlinux is world-readable).
#pragma once

#include "info_options.h"

namespace tcpscope {

int run_info_command(const InfoOptions& options);

}  // namespace tcpscope
