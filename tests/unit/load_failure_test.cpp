// What a user reads when the BPF programs cannot be loaded: privileges are
// named only when they are the cause; any other refusal at load says it is
// a kernel incompatibility, names the kernel, and shows the verifier's last
// lines, so that it can be reported.
#include <cerrno>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "load_failure.h"

namespace tcpscope {
namespace {

constexpr int ENOTSUPP_FOR_TEST = 524;  // the kernel's ENOTSUPP, unknown to libc

// What libbpf says when the verifier refuses a program (libbpf 1.x, 6.18),
// one line per entry as the loader captures it.
std::vector<std::string> verifier_rejection(size_t log_lines) {
    std::vector<std::string> log = {
        "libbpf: prog 'handle_set_state': BPF program load failed: Invalid argument",
        "libbpf: prog 'handle_set_state': -- BEGIN PROG LOAD LOG --",
        "reg type unsupported for arg#0 function handle_set_state#12",
        "0: R1=ctx() R10=fp0",
    };
    for (size_t i = 0; i < log_lines; ++i) {
        log.push_back("; insn " + std::to_string(i) + ": r2 = *(u64 *)(r1 +8)");
    }
    log.push_back("R3 invalid mem access 'scalar'");
    log.push_back("processed 42 insns (limit 1000000) max_states_per_insn 0 total_states 2");
    log.push_back("-- END PROG LOAD LOG --");
    log.push_back("libbpf: prog 'handle_set_state': failed to load: -22");
    log.push_back("libbpf: failed to load object 'tcpscope_bpf'");
    log.push_back("libbpf: failed to load BPF skeleton 'tcpscope_bpf': -22");
    return log;
}

LoadFailure load_failure(int err, std::vector<std::string> log) {
    LoadFailure f;
    f.stage = "load";
    f.err = err;
    f.message = "the kernel refused the BPF programs";
    f.log = std::move(log);
    f.kernel_release = "6.18.7-test";
    return f;
}

TEST(LoadFailure, VerifierRejectionIsAKernelIncompatibility) {
    std::string text = load_failure_text(load_failure(EINVAL, verifier_rejection(3)));
    EXPECT_EQ(text.rfind("load: the kernel refused the BPF programs: Invalid argument\n", 0), 0u)
        << text;
    EXPECT_EQ(text.find("root"), std::string::npos) << "not a matter of privileges:\n" << text;
    EXPECT_EQ(text.find("CAP_BPF"), std::string::npos) << text;
    EXPECT_NE(text.find("this kernel (6.18.7-test)"), std::string::npos) << text;
    EXPECT_NE(text.find("incompatibility"), std::string::npos) << text;
    EXPECT_NE(text.find("report"), std::string::npos) << text;
    // The verifier's verdict, and libbpf's closing words, indented.
    EXPECT_NE(text.find("\n  R3 invalid mem access 'scalar'\n"), std::string::npos) << text;
    EXPECT_NE(text.find("\n  libbpf: failed to load BPF skeleton 'tcpscope_bpf': -22"),
              std::string::npos)
        << text;
    EXPECT_EQ(text.back(), '2') << "ends with the last line";
}

TEST(LoadFailure, ShowsOnlyTheLastLinesOfALongLog) {
    std::vector<std::string> log = verifier_rejection(500);
    std::string text = load_failure_text(load_failure(E2BIG, log), 10);
    EXPECT_NE(text.find("(the last 10 of " + std::to_string(log.size()) + " lines"),
              std::string::npos)
        << text;
    size_t shown = 0;
    for (size_t at = text.find("\n  "); at != std::string::npos; at = text.find("\n  ", at + 1)) {
        ++shown;
    }
    EXPECT_EQ(shown, 11u) << "the note and 10 lines:\n" << text;
    EXPECT_EQ(text.find("BEGIN PROG LOAD LOG"), std::string::npos);
    EXPECT_EQ(text.find("insn 489:"), std::string::npos);
    EXPECT_NE(text.find("insn 499:"), std::string::npos) << text;
    EXPECT_NE(text.find("R3 invalid mem access"), std::string::npos) << text;
}

TEST(LoadFailure, BlankLinesAreNotCounted) {
    std::string text =
        load_failure_text(load_failure(EINVAL, {"libbpf: one", "", "   ", "libbpf: two"}), 2);
    EXPECT_NE(text.find("\n  libbpf: one\n  libbpf: two"), std::string::npos) << text;
    EXPECT_EQ(text.find("the last"), std::string::npos) << "nothing left out:\n" << text;
}

TEST(LoadFailure, EmptyLogSaysSo) {
    std::string text = load_failure_text(load_failure(EINVAL, {}));
    EXPECT_NE(text.find("incompatibility"), std::string::npos) << text;
    EXPECT_NE(text.find("libbpf said nothing more"), std::string::npos) << text;
}

// EPERM or EACCES with no verifier log: refused before verification, for
// want of privileges.
TEST(LoadFailure, PrivilegesAreNamedOnlyForEpermAndEaccesBeforeTheVerifier) {
    const std::vector<std::string> no_verifier = {
        "libbpf: Error in bpf_object__probe_loading(): Operation not permitted(1). Couldn't load "
        "trivial BPF program. Make sure your kernel supports BPF (CONFIG_BPF_SYSCALL=y) and/or "
        "that RLIMIT_MEMLOCK is set to big enough value.",
        "libbpf: failed to load object 'tcpscope_bpf'"};
    for (int err : {EPERM, EACCES}) {
        std::string text = load_failure_text(load_failure(err, no_verifier));
        EXPECT_NE(text.find("needs root, or CAP_BPF and CAP_PERFMON"), std::string::npos) << text;
        EXPECT_EQ(text.find("incompatibility"), std::string::npos) << text;
        EXPECT_EQ(text.find('\n'), std::string::npos) << text;
    }
    for (int err : {EINVAL, E2BIG, ENOMEM, ENOTSUPP_FOR_TEST}) {
        std::string text = load_failure_text(load_failure(err, no_verifier));
        EXPECT_EQ(text.find("CAP_BPF"), std::string::npos) << text;
        EXPECT_NE(text.find("incompatibility"), std::string::npos) << text;
    }
    std::string attach = load_failure_text(
        LoadFailure{"attach", EPERM, "cannot attach to the tracepoints", {}, "6.18"});
    EXPECT_NE(attach.find("CAP_BPF"), std::string::npos) << attach;
}

// What 6.18 says for a program that reads past its tracepoint's arguments:
// the verifier refuses it with EACCES, which once read as "needs root".
TEST(LoadFailure, VerifierRejectionWithEaccesIsNotAboutPrivileges) {
    std::vector<std::string> log = {
        "libbpf: prog 'handle_receive_reset': BPF program load failed: Permission denied",
        "libbpf: prog 'handle_receive_reset': -- BEGIN PROG LOAD LOG --",
        "0: R1=ctx() R10=fp0",
        "2: (79) r1 = *(u64 *)(r1 +56)",
        "func 'tcp_receive_reset' doesn't have 4-th argument",
        "invalid bpf_context access off=56 size=8",
        "processed 3 insns (limit 1000000) max_states_per_insn 0 total_states 0 peak_states 0 "
        "mark_read 0",
        "-- END PROG LOAD LOG --",
        "libbpf: prog 'handle_receive_reset': failed to load: -13",
        "libbpf: failed to load object 'tcpscope_bpf'",
        "libbpf: failed to load BPF skeleton 'tcpscope_bpf': -13"};
    LoadFailure f = load_failure(EACCES, log);
    EXPECT_TRUE(has_verifier_log(f.log));
    EXPECT_FALSE(is_privilege_failure(f));
    std::string text = load_failure_text(f);
    EXPECT_EQ(text.find("CAP_BPF"), std::string::npos) << text;
    EXPECT_NE(text.find("incompatibility"), std::string::npos) << text;
    EXPECT_NE(text.find("this kernel (6.18.7-test)"), std::string::npos) << text;
    EXPECT_NE(text.find("\n  invalid bpf_context access off=56 size=8\n"), std::string::npos)
        << text;
}

TEST(LoadFailure, OtherStagesAreOneLine) {
    std::string text = load_failure_text(
        LoadFailure{"open", ENOENT, "cannot read the kernel's BTF", {"libbpf: x"}, "6.1"});
    EXPECT_EQ(text, "open: cannot read the kernel's BTF: No such file or directory");
}

}  // namespace
}  // namespace tcpscope
