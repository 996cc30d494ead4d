#include "net_counters.h"

#include <algorithm>
#include <fstream>
#include <sstream>

namespace scen {

namespace {

// Both files hold pairs of lines, "Prefix: name name ..." then
// "Prefix: value value ...".
void read_pairs(const char* path, const std::string& prefix, const std::vector<std::string>& names,
                Info& out) {
    std::ifstream in(path);
    std::string header, values;
    while (std::getline(in, header) && std::getline(in, values)) {
        if (header.rfind(prefix + ":", 0) != 0) continue;
        std::istringstream n(header), v(values);
        std::string name, value;
        n >> name;
        v >> value;
        while (n >> name && v >> value) {
            if (std::find(names.begin(), names.end(), name) != names.end()) {
                out[name] = std::stoll(value);
            }
        }
    }
}

}  // namespace

Info net_counters(const std::vector<std::string>& names) {
    Info out = Info::object();
    read_pairs("/proc/self/net/netstat", "TcpExt", names, out);
    read_pairs("/proc/self/net/snmp", "Tcp", names, out);
    return out;
}

}  // namespace scen
