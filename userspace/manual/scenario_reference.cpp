#include "scenario_reference.h"

#include <sstream>

namespace tcpscope {

namespace {

// How the runner runs the scenario's program (scenario/scenario_sandbox.h).
std::string how_it_runs(const ScenarioSpec& s) {
    const std::string where =
        s.privilege == ScenarioPrivilege::Loopback
            ? "on loopback in a private network namespace, as nobody with no capabilities"
            : "in network namespaces and veth pairs of its own, with only CAP_NET_ADMIN and "
              "CAP_SYS_ADMIN";
    return "Runs " + where + "; killed after " + std::to_string(s.timeout_s) + " s.";
}

// The summary as a sentence, with its full stop. No capital: most start
// with a call's name ("send() of 0 bytes ...").
std::string sentence(std::string text) {
    if (!text.empty() && text.back() != '.') text += '.';
    return text;
}

// Markdown that shows `text` as it is: the characters that would start
// emphasis, HTML or an escape are escaped, and "|" in a table. Kept as
// they are: `code` (the texts mean it), "->" (">" only quotes at a line's
// start, and no line starts with it), underscores inside words (SO_LINGER;
// GitHub's Markdown leaves them alone).
std::string md(const std::string& text, bool in_table = false) {
    std::string out;
    for (char c : text) {
        if (c == '\\' || c == '*' || c == '<' || (in_table && c == '|')) out += '\\';
        out += c;
    }
    return out;
}

}  // namespace

std::string wrap(const std::string& text, size_t width, const std::string& indent) {
    std::istringstream words(text);
    std::string word, out, line;
    while (words >> word) {
        if (!line.empty() && indent.size() + line.size() + 1 + word.size() > width) {
            out += indent + line + "\n";
            line.clear();
        }
        line += (line.empty() ? "" : " ") + word;
    }
    if (!line.empty()) out += indent + line + "\n";
    return out;
}

std::string scenario_reference_text(const std::vector<ScenarioSpec>& scenarios, size_t width) {
    std::string out;
    for (const auto& s : scenarios) {
        if (!out.empty()) out += "\n";
        out += s.name + "\n";
        out += wrap(sentence(s.summary), width, "  ");
        out += "\n  Setup:\n" + wrap(s.setup, width, "    ");
        out += wrap(how_it_runs(s), width, "    ");
        out += "\n  Facts checked (`tcpscope run " + s.name + "`):\n";
        for (size_t i = 0; i < s.facts.size(); ++i) {
            // "    1. text", its next lines under the text.
            const std::string number = "    " + std::to_string(i + 1) + ". ";
            std::string item = wrap(s.facts[i].text, width, std::string(number.size(), ' '));
            out += item.replace(0, number.size(), number);
        }
        out += "\n  Why:\n" + wrap(s.explanation, width, "    ");
    }
    return out;
}

std::string scenario_reference_markdown(const std::vector<ScenarioSpec>& scenarios) {
    std::string out;
    out += "# The bundled scenarios\n\n";
    out += "<!-- Generated from scenarios/catalog.txt and scenarios/<name>/facts.cpp by `";
    out += kScenarioDocCommand;
    out += "` (or `tcpscope list --long --markdown`): edit those, not this file. A unit test "
           "fails when this file differs from what they generate. -->\n\n";
    out += "Each scenario is a small program under `scenarios/` that makes the kernel do one "
           "thing; `tcpscope run NAME` runs it under tracing, prints its timeline, checks each "
           "fact below against the kernel's events and prints a verdict per fact, then the "
           "explanation ([run.md](run.md)). `tcpscope list --long` prints this page in a "
           "terminal ([man-and-completion.md](man-and-completion.md) says how it is made).\n\n";
    out += "| scenario | what it shows |\n|---|---|\n";
    for (const auto& s : scenarios) {
        out += "| [`" + s.name + "`](#" + s.name + ") | " + md(s.summary, true) + " |\n";
    }
    for (const auto& s : scenarios) {
        out += "\n## " + s.name + "\n\n";
        out += "**Shows:** " + md(sentence(s.summary)) + "\n\n";
        out += "**Setup.** " + md(s.setup) + " " + md(how_it_runs(s)) + "\n\n";
        out += "**Facts checked** (`tcpscope run " + s.name + "`):\n\n";
        for (size_t i = 0; i < s.facts.size(); ++i) {
            out += std::to_string(i + 1) + ". " + md(s.facts[i].text) + "\n";
        }
        out += "\n**Why.** " + md(s.explanation) + "\n";
    }
    return out;
}

}  // namespace tcpscope
