// Man pages in roff (man(7) macros), written from the command line's own
// CLI11 App objects: tcpscope(1) and one page per subcommand,
// tcpscope-<command>(1), with every option, its value, default and
// constraints as CLI11 knows them. Nothing here repeats a help text by
// hand, so a page cannot say something the command does not. Pure.
#pragma once

#include <string>
#include <vector>

#include <CLI/CLI.hpp>

#include "catalog.h"

namespace tcpscope {

struct ManPage {
    std::string name;  // "tcpscope-trace": the file is <name>.1
    std::string roff;
};

// tcpscope(1) first, then one page per subcommand of `app`, in its order.
// `version` goes in the pages' footer; the scenarios are listed in the
// pages of `run` and `list`.
std::vector<ManPage> man_pages(const CLI::App& app, const std::string& version,
                               const std::vector<ScenarioSpec>& scenarios);

// The name an option shows in a page and in completion: "-h, --help",
// "--pid"; a positional's in capitals ("NAME").
std::vector<std::string> option_names(const CLI::Option& option);

// What an option takes, as the pages say it: "" for a flag, else its
// validator's name ("SECONDS", "relative|wall") or its type's ("TEXT").
std::string value_name(const CLI::Option& option);

// Text as roff shows it: backslashes and hyphens escaped, a line that
// would start with a control character guarded, `code` in bold.
std::string roff_text(const std::string& text);

}  // namespace tcpscope
