// Filter options: the user's text into the kernel's ts_filter record.
#include <dirent.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <linux/magic.h>

#include <cstdint>
#include <cstring>
#include <fstream>
#include <sstream>

#include <gtest/gtest.h>

#include "filter_options.h"

namespace tcpscope {
namespace {

constexpr uint32_t kAllKinds = (1u << TS_KIND_COUNT) - 1;

TEST(Ports, BoundsAccepted) {
    std::vector<uint16_t> ports;
    std::string error;
    ASSERT_TRUE(parse_ports("1", &ports, &error)) << error;
    EXPECT_EQ(ports, std::vector<uint16_t>({1}));
    ASSERT_TRUE(parse_ports("65535", &ports, &error)) << error;
    EXPECT_EQ(ports, std::vector<uint16_t>({65535}));
    ASSERT_TRUE(parse_ports("80,443,8080", &ports, &error)) << error;
    EXPECT_EQ(ports, std::vector<uint16_t>({80, 443, 8080}));
    ASSERT_TRUE(parse_ports("1,2,3,4,5,6,7,8", &ports, &error)) << error;
    EXPECT_EQ(ports.size(), static_cast<size_t>(TS_MAX_PORTS));
}

class BadPorts : public ::testing::TestWithParam<const char*> {};

TEST_P(BadPorts, RejectedNamingTheOption) {
    std::vector<uint16_t> ports = {4242};
    std::string error;
    EXPECT_FALSE(parse_ports(GetParam(), &ports, &error)) << "'" << GetParam() << "'";
    EXPECT_NE(error.find("--port"), std::string::npos) << error;
    EXPECT_EQ(ports, std::vector<uint16_t>({4242})) << "output changed on failure";
}

INSTANTIATE_TEST_SUITE_P(Filters, BadPorts,
                         ::testing::Values("0", "65536", "", "80,", ",80", "80,,81", "abc", " 80",
                                           "80 ", "-1", "+80", "0x50", "99999999999999999999",
                                           "000080", "1,2,3,4,5,6,7,8,9"));

TEST(Address, Ipv4) {
    uint16_t family = 0;
    uint8_t out[16];
    std::memset(out, 0xaa, sizeof(out));
    std::string error;
    ASSERT_TRUE(parse_address("10.201.1.2", &family, out, &error)) << error;
    EXPECT_EQ(family, AF_INET);
    const uint8_t want[16] = {10, 201, 1, 2};
    EXPECT_EQ(std::memcmp(out, want, 16), 0) << "v4 in the first 4 bytes, rest zero";
}

TEST(Address, Ipv6) {
    uint16_t family = 0;
    uint8_t out[16];
    std::string error;
    ASSERT_TRUE(parse_address("::1", &family, out, &error)) << error;
    EXPECT_EQ(family, AF_INET6);
    uint8_t want[16] = {};
    want[15] = 1;
    EXPECT_EQ(std::memcmp(out, want, 16), 0);
    ASSERT_TRUE(parse_address("fe80::1:2", &family, out, &error)) << error;
    EXPECT_EQ(out[0], 0xfe);
    EXPECT_EQ(out[1], 0x80);
    EXPECT_EQ(out[13], 1);
    EXPECT_EQ(out[15], 2);
}

TEST(Address, BadRejected) {
    for (const char* bad : {"", "localhost", "1.2.3", "256.1.1.1", "1.2.3.4 ", "::g", "[::1]",
                            "1.2.3.4/24"}) {
        uint16_t family = 0;
        uint8_t out[16];
        std::string error;
        EXPECT_FALSE(parse_address(bad, &family, out, &error)) << bad;
        EXPECT_NE(error.find("--addr"), std::string::npos) << error;
        EXPECT_EQ(family, 0) << bad;
    }
}

TEST(EventKinds, Individual) {
    uint32_t mask = 0;
    std::string error;
    ASSERT_TRUE(parse_event_kinds("state", &mask, &error)) << error;
    EXPECT_EQ(mask, 1u << TS_KIND_STATE);
    ASSERT_TRUE(parse_event_kinds("reset", &mask, &error)) << error;
    EXPECT_EQ(mask, (1u << TS_KIND_RESET_SENT) | (1u << TS_KIND_RESET_RECEIVED));
    ASSERT_TRUE(parse_event_kinds("retransmit,error", &mask, &error)) << error;
    EXPECT_EQ(mask, (1u << TS_KIND_RETRANSMIT) | (1u << TS_KIND_SOCK_ERROR));
    ASSERT_TRUE(parse_event_kinds("signal,send,recv,packet", &mask, &error)) << error;
    EXPECT_EQ(mask, (1u << TS_KIND_SIGNAL) | (1u << TS_KIND_SEND) | (1u << TS_KIND_RECV) |
                        (1u << TS_KIND_PACKET));
    ASSERT_TRUE(parse_event_kinds("state,state", &mask, &error)) << error;
    EXPECT_EQ(mask, 1u << TS_KIND_STATE);
}

TEST(EventKinds, AllAndDefault) {
    uint32_t mask = 0;
    std::string error;
    ASSERT_TRUE(parse_event_kinds("all", &mask, &error)) << error;
    EXPECT_EQ(mask, kAllKinds);
    ASSERT_TRUE(parse_event_kinds("state,all", &mask, &error)) << error;
    EXPECT_EQ(mask, kAllKinds);
    // Every name the help lists is accepted, and together they are "all".
    uint32_t together = 0;
    for (const auto& name : event_kind_options()) {
        ASSERT_TRUE(parse_event_kinds(name, &mask, &error)) << name << ": " << error;
        together |= mask;
    }
    EXPECT_EQ(together, kAllKinds);
    FilterOptions defaults;
    ASSERT_TRUE(parse_event_kinds(defaults.events, &mask, &error)) << error;
    EXPECT_EQ(mask, (1u << TS_KIND_STATE) | (1u << TS_KIND_RESET_SENT) |
                        (1u << TS_KIND_RESET_RECEIVED) | (1u << TS_KIND_RETRANSMIT) |
                        (1u << TS_KIND_SOCK_ERROR) | (1u << TS_KIND_SIGNAL) |
                        (1u << TS_KIND_DROP));
}

TEST(EventKinds, UnknownRejected) {
    for (const char* bad : {"bogus", "", ",", "state,", "State", "state, reset", "resets"}) {
        uint32_t mask = 0x5a5a;
        std::string error;
        EXPECT_FALSE(parse_event_kinds(bad, &mask, &error)) << "'" << bad << "'";
        EXPECT_NE(error.find("--events"), std::string::npos) << error;
        EXPECT_EQ(mask, 0x5a5au) << bad;
    }
    uint32_t mask = 0;
    std::string error;
    EXPECT_FALSE(parse_event_kinds("state,bogus", &mask, &error));
    EXPECT_NE(error.find("bogus"), std::string::npos) << error;
}

TEST(BuildFilter, Everything) {
    FilterOptions o;
    o.pid = 1234;
    o.comm = "curl";
    o.ports = "80,443";
    o.addr = "127.0.0.1";
    o.netns = "4026531840";
    o.events = "state,reset";
    ts_filter f{};
    std::string error;
    ASSERT_TRUE(build_filter(o, &f, &error)) << error;
    EXPECT_EQ(f.pid, 1234u);
    EXPECT_EQ(f.netns, 4026531840u);
    EXPECT_EQ(f.nports, 2);
    EXPECT_EQ(f.ports[0], 80);
    EXPECT_EQ(f.ports[1], 443);
    EXPECT_EQ(f.ports[2], 0);
    EXPECT_EQ(f.addr_family, AF_INET);
    EXPECT_EQ(f.addr[0], 127);
    EXPECT_EQ(f.addr[3], 1);
    EXPECT_EQ(f.has_comm, 1);
    EXPECT_STREQ(reinterpret_cast<const char*>(f.comm), "curl");
    EXPECT_EQ(f.kind_mask,
              (1u << TS_KIND_STATE) | (1u << TS_KIND_RESET_SENT) | (1u << TS_KIND_RESET_RECEIVED));
    EXPECT_EQ(f.cgroup_id, 0u);
    EXPECT_EQ(f.netns_exclude, 0);
}

TEST(BuildFilter, DefaultsMeanNoFilter) {
    FilterOptions o;
    ts_filter f;
    std::memset(&f, 0xff, sizeof(f));
    std::string error;
    ASSERT_TRUE(build_filter(o, &f, &error)) << error;
    EXPECT_EQ(f.pid, 0u);
    EXPECT_EQ(f.netns, 0u);
    EXPECT_EQ(f.nports, 0);
    EXPECT_EQ(f.addr_family, 0);
    EXPECT_EQ(f.has_comm, 0);
    EXPECT_EQ(f.cgroup_id, 0u);
    EXPECT_NE(f.kind_mask, 0u);
}

TEST(BuildFilter, CommLengths) {
    FilterOptions o;
    ts_filter f{};
    std::string error;
    o.comm = std::string(15, 'c');  // the longest name the kernel keeps
    ASSERT_TRUE(build_filter(o, &f, &error)) << error;
    EXPECT_EQ(f.comm[14], 'c');
    EXPECT_EQ(f.comm[15], 0) << "must stay NUL-terminated";
    o.comm = std::string(16, 'c');
    EXPECT_FALSE(build_filter(o, &f, &error));
    EXPECT_NE(error.find("--comm"), std::string::npos) << error;
    o.comm = "a-very-long-process-name";
    EXPECT_FALSE(build_filter(o, &f, &error));
}

TEST(BuildFilter, ErrorsPropagateWithOptionName) {
    struct Case {
        FilterOptions o;
        const char* option;
    };
    std::vector<Case> cases(3);
    cases[0].o.ports = "0";
    cases[0].option = "--port";
    cases[1].o.addr = "nope";
    cases[1].option = "--addr";
    cases[2].o.events = "nope";
    cases[2].option = "--events";
    for (const auto& c : cases) {
        ts_filter f{};
        f.pid = 99;
        std::string error;
        EXPECT_FALSE(build_filter(c.o, &f, &error)) << c.option;
        EXPECT_NE(error.find(c.option), std::string::npos) << error;
        EXPECT_EQ(f.pid, 99u) << "filter written on failure";
    }
}

TEST(Netns, InodeAndCookieForms) {
    NetnsSpec spec;
    std::string error;
    ASSERT_TRUE(parse_netns("4026531840", &spec, &error)) << error;
    EXPECT_EQ(spec.inode, 4026531840u);
    EXPECT_EQ(spec.cookie, 0u);
    ASSERT_TRUE(parse_netns("cookie:18446744073709551615", &spec, &error)) << error;
    EXPECT_EQ(spec.inode, 0u);
    EXPECT_EQ(spec.cookie, UINT64_MAX);
}

TEST(Netns, BadFormsNameWhatIsAllowed) {
    NetnsSpec spec;
    std::string error;
    EXPECT_FALSE(parse_netns("0", &spec, &error));
    EXPECT_NE(error.find("4294967295"), std::string::npos) << error;
    EXPECT_FALSE(parse_netns("4294967296", &spec, &error));
    EXPECT_FALSE(parse_netns("cookie:", &spec, &error));
    EXPECT_NE(error.find("cookie"), std::string::npos) << error;
    EXPECT_FALSE(parse_netns("cookie:-3", &spec, &error));
    EXPECT_FALSE(parse_netns("cookie:18446744073709551616", &spec, &error));
    EXPECT_FALSE(parse_netns("no-such-namespace-here", &spec, &error));
    EXPECT_NE(error.find("/run/netns/no-such-namespace-here"), std::string::npos) << error;
    EXPECT_FALSE(parse_netns("/etc/hostname", &spec, &error));
    EXPECT_FALSE(error.empty());
}

}  // namespace
}  // namespace tcpscope
