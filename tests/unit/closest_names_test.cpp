// "Did you mean ...?" for a mistyped scenario name (#27: `tcpscope run
// close-wait` listed all 20 names).
#include <gtest/gtest.h>

#include "catalog.h"
#include "closest_names.h"
#include "scenario_options.h"

namespace tcpscope {
namespace {

std::vector<std::string> catalogue() {
    std::vector<std::string> names;
    for (const auto& s : scenario_catalog()) names.push_back(s.name);
    return names;
}

using Names = std::vector<std::string>;

TEST(ClosestNames, EditDistance) {
    EXPECT_EQ(edit_distance("", ""), 0u);
    EXPECT_EQ(edit_distance("abc", ""), 3u);
    EXPECT_EQ(edit_distance("kitten", "sitting"), 3u);
    EXPECT_EQ(edit_distance("linger-zero", "linger-zreo"), 2u);
    EXPECT_EQ(edit_distance("time-wait", "time_wait"), 1u);
}

TEST(ClosestNames, APrefixFirst) {
    // "sigpipe" is in econnreset-then-sigpipe too: the name it starts wins.
    EXPECT_EQ(closest_names("sigpipe", catalogue()), Names{"sigpipe-default"});
    EXPECT_EQ(closest_names("close-wait", catalogue()), Names{"close-wait-forever"});
    EXPECT_EQ(closest_names("epoll", catalogue()), (Names{"epoll-edge-triggered", "epoll-rdhup"}));
}

TEST(ClosestNames, ElseAPartOfTheName) {
    EXPECT_EQ(closest_names("then-sigpipe", catalogue()), Names{"econnreset-then-sigpipe"});
    EXPECT_EQ(closest_names("rdhup", catalogue()), Names{"epoll-rdhup"});
    EXPECT_EQ(closest_names("forever", catalogue()), Names{"close-wait-forever"});
}

TEST(ClosestNames, ElseTheSmallestEditDistance) {
    EXPECT_EQ(closest_names("time_wait", catalogue()), Names{"time-wait"});
    EXPECT_EQ(closest_names("conect-refused", catalogue()), Names{"connect-refused"});
    EXPECT_EQ(closest_names("zero-byte-sned", catalogue()), Names{"zero-byte-send"});
}

TEST(ClosestNames, NothingForANameFromNowhere) {
    EXPECT_TRUE(closest_names("quux", catalogue()).empty());
    EXPECT_TRUE(closest_names("", catalogue()).empty());
}

TEST(ClosestNames, AtMostTheLimit) {
    Names many = {"a1", "a2", "a3", "a4", "a5", "a6"};
    EXPECT_EQ(closest_names("a", many).size(), 4u);
    EXPECT_EQ(closest_names("a", many, 2), (Names{"a1", "a2"}));
}

TEST(ClosestNames, OneOfReadsAsASentence) {
    EXPECT_EQ(one_of({"a"}), "a");
    EXPECT_EQ(one_of({"a", "b"}), "a or b");
    EXPECT_EQ(one_of({"a", "b", "c"}), "a, b or c");
}

TEST(ClosestNames, TheRunMessageSuggestsAndSaysWhereTheRestAre) {
    const std::string all = std::to_string(catalogue().size());
    EXPECT_EQ(unknown_scenario_message("close-wait"),
              "no scenario named 'close-wait'; did you mean close-wait-forever? (`tcpscope list` "
              "shows all " + all + ")");
    EXPECT_EQ(unknown_scenario_message("quux"),
              "no scenario named 'quux' (`tcpscope list` shows all " + all + ")");
}

}  // namespace
}  // namespace tcpscope
