// Bash completion for tcpscope, written from the command line's own CLI11
// App objects: the subcommands, each one's options, the values an option
// names (relative|wall), files where an option takes a path, and the words
// a positional takes (the scenario names for `run`). Installed as
// share/bash-completion/completions/tcpscope. Pure.
#pragma once

#include <map>
#include <string>
#include <vector>

#include <CLI/CLI.hpp>

namespace tcpscope {

// `positional_words`: a subcommand's name -> the words its positional
// takes ("run" -> the scenario names). A subcommand's positional that takes
// many words and has none listed is a command line (exec's, after "--"):
// a command, then files.
std::string bash_completion(const CLI::App& app,
                            const std::map<std::string, std::vector<std::string>>& positional_words);

}  // namespace tcpscope
