// The names of socket option levels and options, as the kernel's headers
// spell them (asm-generic/socket.h, linux/tcp.h, linux/in.h, linux/in6.h),
// for the setsockopt/getsockopt calls `exec` captures as numbers. Pure.
#pragma once

#include <string>

namespace tcpscope {

// How a captured option's value (the first int the kernel side read at
// optval) is shown.
enum class OptionValue {
    Int,     // an int (a flag, a size, a count): shown, and the step's size
    Struct,  // a struct whose first int means something: SO_LINGER's l_onoff
    Opaque,  // a string, a key, a buffer: its first int means nothing
};

// "SOL_SOCKET", "IPPROTO_TCP", "IPPROTO_IP", "IPPROTO_IPV6"; the number
// otherwise.
std::string sockopt_level_name(int level);

// "SO_REUSEADDR", "TCP_NODELAY", "IP_TOS", "IPV6_V6ONLY" (each name's
// prefix says its level); "IPPROTO_IPV6/99" for an option the table does
// not know at a level it does; "<level>/<option>" in numbers otherwise.
std::string sockopt_name(int level, int optname);

// Unknown options are taken for ints, as most are.
OptionValue sockopt_value_kind(int level, int optname);

}  // namespace tcpscope
