// The repository's own description of every bundled scenario, written from
// the catalogue (scenarios/catalog.txt and scenarios/<name>/facts.cpp): its summary,
// what its program does, how it runs, the facts `tcpscope run` checks and
// the explanation. `tcpscope list --long` prints the text form; the
// Markdown form is docs/scenarios.md, which a unit test keeps equal to
// what this writes. Pure.
#pragma once

#include <string>
#include <vector>

#include "catalog.h"

namespace tcpscope {

// For a terminal: paragraphs wrapped to `width` columns.
std::string scenario_reference_text(const std::vector<ScenarioSpec>& scenarios, size_t width = 80);

// docs/scenarios.md.
std::string scenario_reference_markdown(const std::vector<ScenarioSpec>& scenarios);

// What regenerates docs/scenarios.md (said by the file itself and by the
// test that finds it stale).
inline constexpr const char* kScenarioDocCommand =
    "cmake --build build --target scenarios-doc";

// Words wrapped to `width` columns, each line starting with `indent`
// (a word longer than the line stays whole).
std::string wrap(const std::string& text, size_t width, const std::string& indent);

}  // namespace tcpscope
