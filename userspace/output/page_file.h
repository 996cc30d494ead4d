// Where an HTML page goes (`run --html`, `exec --html`): the target is
// checked before anything runs, so a typo does not cost a whole run, and
// the page is written whole or reported.
#pragma once

#include <string>

namespace tcpscope {

// A directory of pages (`run --all`): made (one level) when missing, and
// writable. One page: not a directory, in a writable directory. False with
// the reason in words.
bool prepare_page_target(const std::string& path, bool directory, std::string* error);

// Writes `text` to `path` whole; false with the reason in `error` otherwise.
bool write_page(const std::string& path, const std::string& text, std::string* error);

}  // namespace tcpscope
