// The running kernel's tick rate (CONFIG_HZ), which the BPF side needs to
// turn a jiffies value (icsk_rto) into microseconds. Read from the kernel's
// config as libbpf would for a __kconfig extern, but without its rule that
// a missing config fails the load: 0 when no config is found.
#pragma once

#include <cstdint>
#include <string>

namespace tcpscope {

// CONFIG_HZ=N in a kernel config's text; 0 when absent or not a number.
uint32_t hz_from_config(const std::string& config_text);

// /boot/config-$(uname -r), else /proc/config.gz; 0 when neither says.
uint32_t kernel_hz();

}  // namespace tcpscope
