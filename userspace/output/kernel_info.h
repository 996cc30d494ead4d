// `tcpscope info`: what this kernel lets tcpscope show, event kind by event
// kind and field by field, and for what is missing, why (the version that
// added it). Pure: rendered from KernelSupport, which kernel/ reads from
// the kernel's BTF.
#pragma once

#include <string>
#include <vector>

#include "kernel_support.h"

namespace tcpscope {

// One row: an event kind (as --events names it) or one of its fields.
struct KernelInfoRow {
    std::string what;     // "reset", "reset_sent.reason", ...
    std::string source;   // the tracepoint, "tcp:tcp_send_reset"
    bool present = false;
    std::string note;     // why not, or what is partial
};

std::vector<KernelInfoRow> kernel_info_rows(const KernelSupport& support);
std::string render_kernel_info(const KernelSupport& support);
// One JSON object (schema v1, type "kernel_info"): release and the rows.
std::string kernel_info_json(const KernelSupport& support);

}  // namespace tcpscope
