// `tcpscope top`'s full-screen view on ncurses: draws a frame (the lines of
// top_format.h, the selected row and the sort column highlighted), a row's
// recent stories, and reads keys without waiting. The terminal is restored
// (endwin: the alternate screen left, echo and the cursor back) when the
// screen object goes, whichever way the command ends.
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "top_keys.h"
#include "top_model.h"

namespace tcpscope {

class TopScreen {
public:
    // Nothing, with *error set, when the terminal cannot be used.
    static std::unique_ptr<TopScreen> open(std::string* error);
    ~TopScreen();
    TopScreen(const TopScreen&) = delete;
    TopScreen& operator=(const TopScreen&) = delete;

    // The table, or (ui.mode == Stories) the selected row's stories:
    // story_lines, their header first.
    void draw(const TopFrame& frame, const TopUi& ui, const std::vector<std::string>& story_lines);
    // The next key pressed, as top_keys.h knows keys; nothing when none
    // is waiting (never blocks). A resize is reported as a key of 0 so
    // that the caller draws again.
    std::optional<int> read_key();

private:
    TopScreen() = default;
    bool open_ = false;
};

}  // namespace tcpscope
