// libFuzzer target: the parsers of user-given filter options. Any input
// must give a clean result or a message naming the option, never a crash.
#include <cstdint>
#include <cstdlib>
#include <string>
#include <vector>

#include "filter_options.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    std::string input(reinterpret_cast<const char*>(data), size);
    std::string error;
    std::vector<uint16_t> ports;
    if (!tcpscope::parse_ports(input, &ports, &error) && error.find("--port") == std::string::npos) abort();
    uint16_t family = 0;
    uint8_t addr[16];
    tcpscope::parse_address(input, &family, addr, &error);
    uint32_t mask = 0;
    if (tcpscope::parse_event_kinds(input, &mask, &error) && mask == 0) abort();
    tcpscope::FilterOptions options;
    options.ports = input;
    options.addr = input;
    options.comm = input;
    options.events = input;
    ts_filter filter{};
    tcpscope::build_filter(options, &filter, &error);
    return 0;
}
