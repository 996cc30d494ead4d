// "Did you mean ...?" for a mistyped name (a scenario's, say): the names a
// person most likely meant. Pure.
#pragma once

#include <cstddef>
#include <string>
#include <vector>

namespace tcpscope {

// Edit distance (insertions, deletions, substitutions; each costs 1).
size_t edit_distance(const std::string& a, const std::string& b);

// The names `given` most likely stands for, in the list's order, at most
// `limit`: those that start with it; else those that contain it; else
// those at the smallest edit distance, when that is small beside the
// name's length (a third of it, at least 2), so that a name typed from
// nothing gets no suggestion. Empty when none is close.
std::vector<std::string> closest_names(const std::string& given, const std::vector<std::string>& names,
                                       size_t limit = 4);

// "a", "a or b", "a, b or c": for the suggestion's sentence.
std::string one_of(const std::vector<std::string>& names);

}  // namespace tcpscope
