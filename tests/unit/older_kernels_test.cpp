// The facts on older kernels: every recorded run, changed into what Debian's
// 6.1 and 6.12 kernels would have reported of it (KERNEL.md: before 6.10
// tcp_send_reset has no reason and is silent for RSTs sent with no socket or
// by a mini-socket; before 6.3 there are no sock_send_length /
// sock_recv_length; before 6.17 tcp_retransmit_skb has no err). No fact may
// fail there: each holds, or says it cannot be observed on that kernel, and
// why. The qemu matrix (tests/kernels/) checks the same on the real kernels.
#include <gtest/gtest.h>

#include <algorithm>
#include <string>
#include <vector>

#include "kernel_info.h"
#include "recording_support.h"

namespace tcpscope {
namespace {

using namespace testing_support;

KernelSupport debian_6_1() {
    KernelSupport k;
    k.known = true;
    k.release = "6.1.0-56-cloud-amd64";
    k.tracepoint_args = {{"inet_sock_set_state", 3}, {"tcp_send_reset", 2},
                         {"tcp_receive_reset", 1},   {"tcp_retransmit_skb", 2},
                         {"inet_sk_error_report", 1}, {"signal_generate", 5},
                         {"net_dev_start_xmit", 2},  {"kfree_skb", 3}};
    return k;
}

KernelSupport debian_6_12() {
    KernelSupport k = debian_6_1();
    k.release = "6.12.117+deb12-cloud-amd64";
    k.tracepoint_args["tcp_send_reset"] = 3;
    k.tracepoint_args["sock_send_length"] = 3;
    k.tracepoint_args["sock_recv_length"] = 3;
    k.tracepoint_args["kfree_skb"] = 4;  // rx_sk, from 6.11
    return k;
}

// What `kernel` would not have reported of the recorded run.
void as_on(Recording& r, const KernelSupport& kernel) {
    r.kernel = kernel;
    r.events.erase(std::remove_if(r.events.begin(), r.events.end(),
                                  [&](const Event& e) {
                                      bool send_recv = e.kind == EventKind::Send ||
                                                       e.kind == EventKind::Recv;
                                      bool silent_rst = e.kind == EventKind::ResetSent &&
                                                        (e.no_socket || e.minisock);
                                      return (send_recv && !kernel.shows(KernelFeature::SendRecvResults)) ||
                                             (silent_rst && !kernel.shows(KernelFeature::ResetWithoutSocket));
                                  }),
                   r.events.end());
    for (auto& e : r.events) {
        if (!kernel.shows(KernelFeature::ResetReason)) e.reason.reset();
        if (!kernel.shows(KernelFeature::RetransmitResult)) e.err.reset();
    }
}

std::vector<std::string> catalogue_names() {
    std::vector<std::string> names;
    for (const auto& spec : scenario_catalog()) names.push_back(spec.name);
    return names;
}

std::string test_name(const testing::TestParamInfo<std::string>& info) {
    std::string name = info.param;
    std::replace(name.begin(), name.end(), '-', '_');
    return name;
}

class OnOlderKernels : public testing::TestWithParam<std::string> {};

TEST_P(OnOlderKernels, NoFactFailsOnDebian61) {
    Recording r = load(GetParam());
    as_on(r, debian_6_1());
    for (const auto& v : verdicts_of(r, GetParam())) {
        EXPECT_FALSE(v.failed()) << v.fact << ": " << v.detail;
        if (!v.observable) {
            EXPECT_NE(v.detail.find("6.1.0-56-cloud-amd64"), std::string::npos)
                << "a fact not observable says why, on which kernel: " << v.detail;
        }
    }
}

TEST_P(OnOlderKernels, EveryFactHoldsOnDebian612) {
    // 6.12 lacks only the retransmit's err, which no fact needs.
    Recording r = load(GetParam());
    as_on(r, debian_6_12());
    for (const auto& v : verdicts_of(r, GetParam())) EXPECT_TRUE(v.ok) << v.fact << ": " << v.detail;
}

INSTANTIATE_TEST_SUITE_P(RecordedRuns, OnOlderKernels, testing::ValuesIn(catalogue_names()),
                         test_name);

// The degradation is not a blanket pass: what 6.1 cannot show is named, and
// what it can show is still checked.
TEST(OnOlderKernels, ZeroByteSendOn61NamesWhatItCannotSee) {
    Recording r = load("zero-byte-send");
    as_on(r, debian_6_1());
    auto verdicts = verdicts_of(r, "zero-byte-send");
    Verdict rst = verdict(verdicts, "zero-byte-send.peer-answers-rst");
    EXPECT_FALSE(rst.observable) << rst.detail;
    EXPECT_NE(rst.detail.find("seen on the wire"), std::string::npos) << rst.detail;
    EXPECT_NE(rst.detail.find("6.10"), std::string::npos) << rst.detail;
    EXPECT_TRUE(verdict(verdicts, "zero-byte-send.zero-send-is-silent").ok);
}

TEST(OnOlderKernels, ARstMissingFromTheWireStillFailsOn61) {
    Recording r = load("zero-byte-send");
    as_on(r, debian_6_1());
    EXPECT_GT(erase_events(r, [](const Event& e, const std::string&) {
                  return e.kind == EventKind::Packet && (e.tcp_flags & TS_TCP_RST);
              }),
              0u);
    EXPECT_TRUE(verdict(verdicts_of(r, "zero-byte-send"), "zero-byte-send.peer-answers-rst").failed());
}

TEST(OnOlderKernels, TheKernelLineRoundTrips) {
    KernelSupport k = debian_6_1();
    auto back = kernel_support_from_json(kernel_support_to_json(k));
    ASSERT_TRUE(back.has_value());
    EXPECT_TRUE(back->known);
    EXPECT_EQ(back->release, k.release);
    EXPECT_EQ(back->args("tcp_send_reset"), 2);
    EXPECT_FALSE(back->has("sock_send_length"));
    EXPECT_FALSE(back->shows(KernelFeature::ResetWithoutSocket));
    // Written without knowing the kernel: read back as unknown, not as empty.
    back = kernel_support_from_json(kernel_support_to_json(KernelSupport{}));
    ASSERT_TRUE(back.has_value());
    EXPECT_FALSE(back->known);
    EXPECT_TRUE(back->shows(KernelFeature::SendRecvResults));
}

// `tcpscope info` on each: what is missing, and since when it exists.
TEST(OnOlderKernels, InfoNamesWhatEachKernelLacks) {
    auto row = [](const KernelSupport& k, const std::string& what) {
        for (const auto& r : kernel_info_rows(k)) {
            if (r.what == what) return r;
        }
        ADD_FAILURE() << "no row " << what;
        return KernelInfoRow{};
    };
    KernelSupport old = debian_6_1();
    EXPECT_FALSE(row(old, "send").present);
    EXPECT_NE(row(old, "send").note.find("6.3"), std::string::npos);
    EXPECT_FALSE(row(old, "reset_sent.reason").present);
    EXPECT_TRUE(row(old, "reset (sent)").present);
    EXPECT_TRUE(row(old, "state").present);
    KernelSupport newer = debian_6_12();
    EXPECT_TRUE(row(newer, "send").present);
    EXPECT_TRUE(row(newer, "reset_sent.reason").present);
    EXPECT_FALSE(row(newer, "retransmit.err, failed attempts").present);
    EXPECT_NE(row(newer, "retransmit.err, failed attempts").note.find("6.17"), std::string::npos);
    std::string text = render_kernel_info(old);
    EXPECT_NE(text.find("6.1.0-56-cloud-amd64"), std::string::npos);
    auto j = nlohmann::json::parse(kernel_info_json(old));
    EXPECT_EQ(j.at("type"), "kernel_info");
    EXPECT_EQ(j.at("support").size(), kernel_info_rows(old).size());
}

}  // namespace
}  // namespace tcpscope
