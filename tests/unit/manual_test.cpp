// The manual is generated from the command line's App objects and the
// catalogue: docs/scenarios.md must be what they generate today, and every
// option of every command must be in its man page and in completion.
#include <gtest/gtest.h>

#include <fstream>
#include <sstream>

#include "bash_completion.h"
#include "catalog.h"
#include "command_line.h"
#include "man_page.h"
#include "scenario_reference.h"

namespace tcpscope {
namespace {

std::string read_file(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    std::stringstream s;
    s << in.rdbuf();
    return s.str();
}

// The first line where two texts differ, for a message a person can act on.
std::string first_difference(const std::string& a, const std::string& b) {
    std::istringstream sa(a), sb(b);
    std::string la, lb;
    for (int n = 1;; ++n) {
        const bool more_a = static_cast<bool>(std::getline(sa, la));
        const bool more_b = static_cast<bool>(std::getline(sb, lb));
        if (!more_a && !more_b) return "";
        if (!more_a || !more_b || la != lb) {
            return "line " + std::to_string(n) + ":\n  committed: " + (more_a ? la : "(end)") +
                   "\n  generated: " + (more_b ? lb : "(end)");
        }
    }
}

TEST(ScenarioReference, DocsMatchTheCatalogue) {
    const std::string committed = read_file(std::string(TCPSCOPE_DOCS) + "/scenarios.md");
    const std::string generated = scenario_reference_markdown(scenario_catalog());
    EXPECT_TRUE(committed == generated)
        << "docs/scenarios.md differs from what scenarios/catalog.txt and "
           "scenarios/<name>/facts.cpp generate; regenerate it with `"
        << kScenarioDocCommand << "` and commit it. First difference at "
        << first_difference(committed, generated);
}

TEST(ScenarioReference, EveryScenarioInFull) {
    const std::string text = "\n" + scenario_reference_text(scenario_catalog());
    const std::string markdown = scenario_reference_markdown(scenario_catalog());
    for (const auto& s : scenario_catalog()) {
        EXPECT_NE(markdown.find("\n## " + s.name + "\n"), std::string::npos) << s.name;
        EXPECT_NE(text.find("\n" + s.name + "\n"), std::string::npos) << s.name;
        EXPECT_NE(text.find("tcpscope run " + s.name), std::string::npos) << s.name;
        for (const auto& f : s.facts) {
            // Wrapped in the text: compare its words without line breaks.
            std::string flat = text;
            for (char& c : flat) c = c == '\n' ? ' ' : c;
            std::string words;
            std::istringstream in(flat);
            for (std::string w; in >> w;) words += w + " ";
            std::string fact;
            std::istringstream fin(f.text);
            for (std::string w; fin >> w;) fact += w + " ";
            EXPECT_NE(words.find(fact), std::string::npos) << s.name << ": " << f.text;
        }
    }
}

TEST(ScenarioReference, WrapsAtTheWidthAndKeepsLongWords) {
    EXPECT_EQ(wrap("aaa bbb ccc", 9, "  "), "  aaa bbb\n  ccc\n");
    EXPECT_EQ(wrap("averyveryverylongword x", 8, ""), "averyveryverylongword\nx\n");
    std::istringstream lines(scenario_reference_text(scenario_catalog(), 80));
    for (std::string line; std::getline(lines, line);) {
        if (line.find(' ', line.find_first_not_of(' ')) == std::string::npos) continue;  // one word
        EXPECT_LE(line.size(), 80u) << line;
    }
}

// An option's name as the roff text has it ("\-\-pid").
std::string in_roff(const std::string& name) {
    std::string out;
    for (char c : name) out += c == '-' ? std::string("\\-") : std::string(1, c);
    return out;
}

TEST(ManPages, EveryOptionOfEveryCommandIsInItsPage) {
    const CommandLine cli;
    const auto pages = man_pages(cli.app, tcpscope_version(), scenario_catalog());
    const auto subs = cli.app.get_subcommands([](const CLI::App*) { return true; });
    ASSERT_EQ(pages.size(), subs.size() + 1);
    ASSERT_GE(subs.size(), 6u);  // trace run list info metrics exec
    EXPECT_EQ(pages[0].name, "tcpscope");
    for (size_t i = 0; i < subs.size(); ++i) {
        const ManPage& page = pages[i + 1];
        EXPECT_EQ(page.name, "tcpscope-" + subs[i]->get_name());
        EXPECT_NE(pages[0].roff.find("\\fB" + in_roff(subs[i]->get_name()) + "\\fR"), std::string::npos)
            << "tcpscope(1) lists " << subs[i]->get_name();
        for (const CLI::Option* o : subs[i]->get_options()) {
            for (const std::string& name : option_names(*o)) {
                EXPECT_NE(page.roff.find(in_roff(name)), std::string::npos) << page.name << ": " << name;
            }
            EXPECT_NE(page.roff.find(roff_text(o->get_description())), std::string::npos)
                << page.name << ": " << o->get_name();
        }
    }
}

TEST(ManPages, RoffTextEscapesWhatRoffWouldRead) {
    EXPECT_EQ(roff_text("--all"), "\\-\\-all");
    EXPECT_EQ(roff_text("a\\b"), "a\\eb");
    EXPECT_EQ(roff_text(".leading dot"), "\\&.leading dot");
    EXPECT_EQ(roff_text("'quote"), "\\&'quote");
    EXPECT_EQ(roff_text("see `tcpscope list`"), "see \\fBtcpscope list\\fR");
    EXPECT_EQ(roff_text("a lone ` stays"), "a lone ` stays");
}

TEST(ManPages, ValuesAreNamedAsTheValidatorsNameThem) {
    const CommandLine cli;
    EXPECT_EQ(value_name(*cli.trace->get_option("--json")), "");
    EXPECT_EQ(value_name(*cli.trace->get_option("--duration")), "SECONDS");
    EXPECT_EQ(value_name(*cli.trace->get_option("--timestamps")), "relative|wall");
    EXPECT_EQ(value_name(*cli.trace->get_option("--comm")), "TEXT");
}

TEST(BashCompletion, EveryCommandAndOptionAndScenario) {
    const CommandLine cli;
    std::vector<std::string> names;
    for (const auto& s : scenario_catalog()) names.push_back(s.name);
    const std::string script = bash_completion(cli.app, {{"run", names}});
    for (const CLI::App* sub : cli.app.get_subcommands([](const CLI::App*) { return true; })) {
        EXPECT_NE(script.find("_tcpscope_" + sub->get_name() + "()"), std::string::npos);
        for (const CLI::Option* o : sub->get_options()) {
            if (o->get_positional()) continue;
            for (const std::string& n : option_names(*o)) {
                // In a word list: "... --json --pid ...", the last one before the quote.
                const bool listed = script.find(" " + n + " ") != std::string::npos ||
                                    script.find(" " + n + "\"") != std::string::npos;
                EXPECT_TRUE(listed) << sub->get_name() << " " << n;
            }
        }
    }
    for (const std::string& n : names) EXPECT_NE(script.find(n), std::string::npos) << n;
}

TEST(BashCompletion, AWordThatWouldNeedQuotingStopsTheGenerator) {
    CLI::App app{"x"};
    CLI::App* odd = app.add_subcommand("odd", "x");
    odd->add_flag("--ok", "fine");
    std::string name;
    odd->add_option("name", name, "a name");
    EXPECT_NO_THROW(bash_completion(app, {}));
    EXPECT_THROW(bash_completion(app, {{"odd", {"two words"}}}), std::invalid_argument);
}

}  // namespace
}  // namespace tcpscope
