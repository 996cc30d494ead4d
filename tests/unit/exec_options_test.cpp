// `tcpscope exec`'s command line: the command after "--" reaches the
// command byte for byte, whatever CLI11 would make of its words.
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include <CLI/CLI.hpp>

#include "exec_options.h"

namespace tcpscope {
namespace {

struct Parsed {
    bool ok = false;
    std::string error;
    ExecOptions options;
};

// As main() does it: cut at exec's "--", then CLI11 on the rest.
Parsed parse(std::vector<std::string> args) {
    Parsed p;
    CLI::App app{"tcpscope"};
    app.require_subcommand(1);
    add_exec_command(app, p.options);
    std::vector<std::string> storage = {"tcpscope"};
    storage.insert(storage.end(), args.begin(), args.end());
    std::vector<char*> argv;
    for (auto& s : storage) argv.push_back(s.data());
    std::vector<std::string> command;
    int cli_argc = split_exec_command(static_cast<int>(argv.size()), argv.data(), &command);
    p.options.command = command;
    try {
        app.parse(cli_argc, argv.data());
        p.ok = true;
    } catch (const CLI::ParseError& e) {
        p.error = e.what();
    }
    return p;
}

TEST(ExecOptions, TheCommandAfterTheSeparatorIsKeptWordForWord) {
    Parsed p = parse({"exec", "--json", "--user", "alice", "--", "sh", "-c", "[ \"$(id -u)\" = 0 ]",
                      "--json", "--"});
    ASSERT_TRUE(p.ok) << p.error;
    EXPECT_TRUE(p.options.json);
    EXPECT_EQ(p.options.user, "alice");
    std::vector<std::string> want = {"sh", "-c", "[ \"$(id -u)\" = 0 ]", "--json", "--"};
    EXPECT_EQ(p.options.command, want);
}

TEST(ExecOptions, NoCommandIsAnError) {
    Parsed p = parse({"exec", "--json", "--"});
    EXPECT_FALSE(p.ok);
    EXPECT_NE(p.error.find("give a command"), std::string::npos) << p.error;
}

TEST(ExecOptions, AnUnknownEventKindIsAnError) {
    Parsed p = parse({"exec", "--events", "state,bogus", "--", "true"});
    EXPECT_FALSE(p.ok);
}

TEST(ExecOptions, DefaultsAreEveryEventKindAndNoUser) {
    Parsed p = parse({"exec", "--", "true"});
    ASSERT_TRUE(p.ok) << p.error;
    EXPECT_TRUE(p.options.user.empty());
    EXPECT_NE(p.options.kind_mask, 0u);
    EXPECT_FALSE(p.options.json);
}

TEST(ExecOptions, OtherSubcommandsAreLeftAlone) {
    std::vector<std::string> storage = {"tcpscope", "trace", "--", "x"};
    std::vector<char*> argv;
    for (auto& s : storage) argv.push_back(s.data());
    std::vector<std::string> command;
    EXPECT_EQ(split_exec_command(4, argv.data(), &command), 4);
    EXPECT_TRUE(command.empty());
}


// #27: `tcpscope exec python3 -c 'print(1)'` got CLI11's "The following
// argument was not expected: -c"; the fix is the line to type.
std::string fix_for(std::vector<std::string> words) {
    CLI::App app{"tcpscope"};
    ExecOptions options;
    CLI::App* exec = add_exec_command(app, options);
    return missing_separator_fix(*exec, words);
}

TEST(ExecOptions, AnOptionAfterTheCommandWithoutSeparatorGetsTheLineToType) {
    EXPECT_EQ(fix_for({"python3", "-c", "print(1)"}), "tcpscope exec -- python3 -c 'print(1)'");
    // exec's own options stay before the "--", their values with them.
    EXPECT_EQ(fix_for({"--json", "--user", "alice", "curl", "-sS", "http://127.0.0.1:7199/"}),
              "tcpscope exec --json --user alice -- curl -sS http://127.0.0.1:7199/");
    EXPECT_EQ(fix_for({"--events=state", "ls", "-l"}), "tcpscope exec --events=state -- ls -l");
    // One of exec's own options after the command would be taken for exec's.
    EXPECT_EQ(fix_for({"./client", "--json"}), "tcpscope exec -- ./client --json");
}

TEST(ExecOptions, NoFixWhenNothingIsAmbiguous) {
    EXPECT_EQ(fix_for({"--", "python3", "-c", "print(1)"}), "");
    EXPECT_EQ(fix_for({"--json", "--", "ls", "-l"}), "");
    EXPECT_EQ(fix_for({"ls", "/tmp"}), "");             // no option-like word: CLI11 reads it right
    EXPECT_EQ(fix_for({"--json"}), "");                 // no command at all: another message
    EXPECT_EQ(fix_for({"--bogus", "ls"}), "");          // an unknown option of exec's: CLI11 says so
    EXPECT_EQ(fix_for({"--bogus", "ls", "-l"}), "");    // that first, not a fix that keeps it
    EXPECT_EQ(fix_for({"cat", "-"}), "");               // "-" is a file name
}

TEST(ExecOptions, ShellQuotingReadsBackTheSameWords) {
    EXPECT_EQ(shell_quote("plain-word_1.2:3/x"), "plain-word_1.2:3/x");
    EXPECT_EQ(shell_quote(""), "''");
    EXPECT_EQ(shell_quote("a b"), "'a b'");
    EXPECT_EQ(shell_quote("it's"), "'it'\\''s'");
    EXPECT_EQ(shell_quote("$HOME"), "'$HOME'");
}

}  // namespace
}  // namespace tcpscope
