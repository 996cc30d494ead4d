#include "bash_completion.h"

#include <stdexcept>

#include "man_page.h"

namespace tcpscope {

namespace {

// Every word goes into the script unquoted (case patterns, compgen -W), so
// only words that need no quoting are allowed; anything else stops the
// generator rather than writing a script that breaks.
const std::string& checked(const std::string& word) {
    static const std::string safe =
        "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_.,:+/-";
    if (word.empty() || word.find_first_not_of(safe) != std::string::npos) {
        throw std::invalid_argument("bash completion: cannot write the word '" + word + "'");
    }
    return word;
}

std::string joined(const std::vector<std::string>& words, const std::string& sep) {
    std::string out;
    for (const std::string& w : words) out += (out.empty() ? "" : sep) + checked(w);
    return out;
}

std::vector<std::string> split(const std::string& text, const std::string& separators) {
    std::vector<std::string> parts;
    size_t start = 0;
    while (start <= text.size()) {
        const size_t end = text.find_first_of(separators, start);
        const std::string part = text.substr(start, end == std::string::npos ? end : end - start);
        if (!part.empty()) parts.push_back(part);
        if (end == std::string::npos) break;
        start = end + 1;
    }
    return parts;
}

std::vector<const CLI::App*> subcommands(const CLI::App& app) {
    return app.get_subcommands([](const CLI::App*) { return true; });
}

std::vector<std::string> all_option_names(const CLI::App& cmd) {
    std::vector<std::string> names;
    for (const CLI::Option* o : cmd.get_options([](const CLI::Option* o) { return !o->get_positional(); })) {
        for (const std::string& n : option_names(*o)) names.push_back(n);
    }
    return names;
}

// What follows an option that takes a value: its named choices
// ("relative|wall", "comm,netns,port"), a path (FILE, PATH, DIR), a user
// (USER), or nothing to suggest (a number, a pid, a name: the person types
// it). The names are the options' own (type_name, validators).
std::string value_cases(const CLI::App& cmd) {
    std::map<std::string, std::vector<std::string>> by_action;  // action -> option patterns
    std::string out;
    for (const CLI::Option* o : cmd.get_options([](const CLI::Option* o) { return !o->get_positional(); })) {
        const std::string value = value_name(*o);
        if (value.empty()) continue;
        const std::string names = joined(option_names(*o), "|");
        if (value.find_first_of("|,") != std::string::npos) {
            out += "        " + names + ") _tcpscope_words \"" + joined(split(value, "|,"), " ") +
                   "\"; return ;;\n";
        } else if (value == "FILE" || value == "PATH") {
            by_action["_tcpscope_files; "].push_back(names);
        } else if (value == "DIR") {
            by_action["_tcpscope_dirs; "].push_back(names);
        } else if (value == "USER") {
            by_action["_tcpscope_users; "].push_back(names);
        } else {
            by_action[""].push_back(names);
        }
    }
    for (const auto& [action, names] : by_action) {
        out += "        " + joined(names, "|") + ") " + action + "return ;;\n";
    }
    return out;
}

std::string function_name(const CLI::App& cmd) {
    std::string name = "_tcpscope_" + cmd.get_name();
    for (char& c : name) {
        if (c == '-') c = '_';
    }
    return name;
}

std::string command_function(const CLI::App& cmd,
                             const std::map<std::string, std::vector<std::string>>& positional_words) {
    std::vector<std::string> options = all_option_names(cmd);
    const auto positionals = cmd.get_options([](const CLI::Option* o) { return o->get_positional(); });
    const auto words = positional_words.find(cmd.get_name());
    const bool command_line = !positionals.empty() && positionals.front()->get_expected_max() > 1 &&
                              words == positional_words.end();
    if (command_line) options.push_back("--");

    std::string out = "# tcpscope " + checked(cmd.get_name()) + "\n" + function_name(cmd) + "() {\n";
    if (command_line) {
        out += "    # After \"--\", the command and its arguments: a command, then files.\n"
               "    local i\n"
               "    for ((i = at + 1; i < COMP_CWORD; i++)); do\n"
               "        if [[ ${COMP_WORDS[i]} == -- ]]; then\n"
               "            if ((i + 1 == COMP_CWORD)); then _tcpscope_commands; else _tcpscope_files; fi\n"
               "            return\n"
               "        fi\n"
               "    done\n";
    }
    const std::string cases = value_cases(cmd);
    if (!cases.empty()) out += "    case $prev in\n" + cases + "    esac\n";
    if (words != positional_words.end() && !positionals.empty()) {
        out += "    if [[ $cur != -* ]]; then\n"
               "        _tcpscope_words \"" + joined(words->second, " ") + "\"\n"
               "        return\n"
               "    fi\n";
    }
    out += "    _tcpscope_words \"" + joined(options, " ") + "\"\n}\n\n";
    return out;
}

}  // namespace

std::string bash_completion(const CLI::App& app,
                            const std::map<std::string, std::vector<std::string>>& positional_words) {
    std::vector<std::string> names;
    for (const CLI::App* sub : subcommands(app)) names.push_back(sub->get_name());
    std::vector<std::string> top = names;
    for (const std::string& o : all_option_names(app)) top.push_back(o);

    std::string out =
        "# bash completion for tcpscope.\n"
        "# Generated by tcpscope_gen_manual from the command line's definitions\n"
        "# (userspace/cli/) and the scenario catalogue: do not edit.\n"
        "# Installed as share/bash-completion/completions/tcpscope; or source it.\n\n"
        "_tcpscope_words() { mapfile -t COMPREPLY < <(compgen -W \"$1\" -- \"$cur\"); }\n"
        "_tcpscope_files() { mapfile -t COMPREPLY < <(compgen -f -- \"$cur\"); }\n"
        "_tcpscope_dirs() { mapfile -t COMPREPLY < <(compgen -d -- \"$cur\"); }\n"
        "_tcpscope_users() { mapfile -t COMPREPLY < <(compgen -u -- \"$cur\"); }\n"
        "_tcpscope_commands() { mapfile -t COMPREPLY < <(compgen -c -- \"$cur\"); }\n\n";
    for (const CLI::App* sub : subcommands(app)) out += command_function(*sub, positional_words);
    out += "_tcpscope() {\n"
           "    local cur=${COMP_WORDS[COMP_CWORD]} prev=\"\"\n"
           "    ((COMP_CWORD > 0)) && prev=${COMP_WORDS[COMP_CWORD - 1]}\n"
           "    # --option=value: bash splits the word at \"=\" (COMP_WORDBREAKS).\n"
           "    if [[ $cur == = ]]; then\n"
           "        cur=\"\"\n"
           "    elif [[ $prev == = ]] && ((COMP_CWORD > 1)); then\n"
           "        prev=${COMP_WORDS[COMP_CWORD - 2]}\n"
           "    fi\n"
           "    COMPREPLY=()\n"
           "    local i at=0 command=\"\"\n"
           "    for ((i = 1; i < COMP_CWORD; i++)); do\n"
           "        case ${COMP_WORDS[i]} in\n"
           "            " + joined(names, "|") + ") command=${COMP_WORDS[i]}; at=$i; break ;;\n"
           "        esac\n"
           "    done\n"
           "    case $command in\n"
           "        \"\") _tcpscope_words \"" + joined(top, " ") + "\" ;;\n";
    for (const CLI::App* sub : subcommands(app)) {
        out += "        " + checked(sub->get_name()) + ") " + function_name(*sub) + " ;;\n";
    }
    out += "    esac\n"
           "}\n"
           "complete -o filenames -F _tcpscope tcpscope\n";
    return out;
}

}  // namespace tcpscope
