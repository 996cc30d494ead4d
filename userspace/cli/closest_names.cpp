#include "closest_names.h"

#include <algorithm>

namespace tcpscope {

size_t edit_distance(const std::string& a, const std::string& b) {
    // One row of the Levenshtein table at a time.
    std::vector<size_t> row(b.size() + 1);
    for (size_t j = 0; j <= b.size(); ++j) row[j] = j;
    for (size_t i = 1; i <= a.size(); ++i) {
        size_t diagonal = row[0];
        row[0] = i;
        for (size_t j = 1; j <= b.size(); ++j) {
            const size_t above = row[j];
            row[j] = std::min({above + 1, row[j - 1] + 1, diagonal + (a[i - 1] == b[j - 1] ? 0 : 1)});
            diagonal = above;
        }
    }
    return row[b.size()];
}

std::vector<std::string> closest_names(const std::string& given, const std::vector<std::string>& names,
                                       size_t limit) {
    std::vector<std::string> out;
    if (given.empty()) return out;
    auto keep = [&](auto matches) {
        for (const auto& n : names) {
            if (out.size() < limit && n != given && matches(n)) out.push_back(n);
        }
        return !out.empty();
    };
    if (keep([&](const std::string& n) { return n.compare(0, given.size(), given) == 0; })) return out;
    if (keep([&](const std::string& n) { return n.find(given) != std::string::npos; })) return out;
    size_t best = std::string::npos;
    for (const auto& n : names) best = std::min(best, edit_distance(given, n));
    const size_t allowed = std::max<size_t>(2, given.size() / 3);
    if (best == 0 || best > allowed) return out;
    keep([&](const std::string& n) { return edit_distance(given, n) == best; });
    return out;
}

std::string one_of(const std::vector<std::string>& names) {
    std::string text;
    for (size_t i = 0; i < names.size(); ++i) {
        if (i > 0) text += i + 1 == names.size() ? " or " : ", ";
        text += names[i];
    }
    return text;
}

}  // namespace tcpscope
