// tcpscope_gen_manual: writes what is generated from the command line's
// App objects and the scenario catalogue, for the build and for
// `cmake --build build --target scenarios-doc`:
//   tcpscope_gen_manual man DIR          DIR/tcpscope.1, DIR/tcpscope-<command>.1
//   tcpscope_gen_manual completion FILE  the bash completion script
//   tcpscope_gen_manual scenarios FILE   docs/scenarios.md
// A file whose content would not change is left alone (and its time too).
#include <cstdio>
#include <fstream>
#include <iostream>
#include <sstream>
#include <string>

#include "bash_completion.h"
#include "catalog.h"
#include "command_line.h"
#include "man_page.h"
#include "scenario_reference.h"

namespace {

bool write_if_changed(const std::string& path, const std::string& content) {
    std::ifstream in(path, std::ios::binary);
    std::stringstream old;
    old << in.rdbuf();
    if (in && old.str() == content) return true;
    std::ofstream out(path, std::ios::binary | std::ios::trunc);
    out << content;
    out.close();
    if (!out) {
        std::cerr << "tcpscope_gen_manual: cannot write " << path << "\n";
        return false;
    }
    return true;
}

}  // namespace

int main(int argc, char** argv) {
    if (argc != 3) {
        std::cerr << "usage: tcpscope_gen_manual man DIR | completion FILE | scenarios FILE\n";
        return 2;
    }
    const std::string what = argv[1];
    const std::string target = argv[2];
    const tcpscope::CommandLine cli;
    const auto& catalog = tcpscope::scenario_catalog();
    if (what == "man") {
        for (const auto& page : tcpscope::man_pages(cli.app, tcpscope::tcpscope_version(), catalog)) {
            if (!write_if_changed(target + "/" + page.name + ".1", page.roff)) return 1;
        }
        return 0;
    }
    if (what == "completion") {
        std::vector<std::string> names;
        for (const auto& s : catalog) names.push_back(s.name);
        return write_if_changed(target, tcpscope::bash_completion(cli.app, {{"run", names}})) ? 0 : 1;
    }
    if (what == "scenarios") {
        return write_if_changed(target, tcpscope::scenario_reference_markdown(catalog)) ? 0 : 1;
    }
    std::cerr << "tcpscope_gen_manual: no such output '" << what << "'\n";
    return 2;
}
