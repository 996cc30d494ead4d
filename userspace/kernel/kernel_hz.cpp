#include "kernel_hz.h"

#include <sys/utsname.h>
#include <zlib.h>

#include <cstdlib>
#include <fstream>
#include <sstream>

namespace tcpscope {

uint32_t hz_from_config(const std::string& config_text) {
    const std::string key = "\nCONFIG_HZ=";
    std::string text = "\n" + config_text;
    size_t at = text.find(key);
    if (at == std::string::npos) return 0;
    const char* start = text.c_str() + at + key.size();
    char* end = nullptr;
    unsigned long hz = std::strtoul(start, &end, 10);
    if (end == start || hz == 0 || hz > 100000) return 0;
    return static_cast<uint32_t>(hz);
}

namespace {

std::string read_plain(const std::string& path) {
    std::ifstream in(path);
    if (!in) return {};
    std::ostringstream text;
    text << in.rdbuf();
    return text.str();
}

std::string read_gzip(const char* path) {
    gzFile f = gzopen(path, "rb");
    if (f == nullptr) return {};
    std::string text;
    char buf[65536];
    int n;
    while ((n = gzread(f, buf, sizeof(buf))) > 0) text.append(buf, static_cast<size_t>(n));
    gzclose(f);
    return text;
}

}  // namespace

uint32_t kernel_hz() {
    struct utsname u {};
    if (uname(&u) == 0) {
        uint32_t hz = hz_from_config(read_plain(std::string("/boot/config-") + u.release));
        if (hz) return hz;
    }
    return hz_from_config(read_gzip("/proc/config.gz"));
}

}  // namespace tcpscope
