// The keys of `tcpscope top`'s screen as a small state machine, apart from
// ncurses so that unit tests can press them: the screen turns its key
// codes into these and draws what the state says.
//
//   <  >      sort by the column left / right of the current one
//   r         reverse the order
//   g         next grouping (process, port, remote)
//   space p   pause / resume (the frame stands still; sorting still works)
//   /         type a filter (a substring of the group; Enter keeps it, Esc clears it)
//   up down   select a row (also k j)
//   Enter     the selected row's recent connection stories (Enter, Esc or q: back)
//   q         quit
#pragma once

#include <cstddef>
#include <string>

#include "top_model.h"

namespace tcpscope {

enum class TopMode { Table, Filter, Stories };

// Keys that are no character.
constexpr int kTopKeyUp = -2;
constexpr int kTopKeyDown = -3;
constexpr int kTopKeyEnter = '\n';
constexpr int kTopKeyEscape = 27;
constexpr int kTopKeyBackspace = 127;

struct TopUi {
    TopView view;
    TopMode mode = TopMode::Table;
    bool paused = false;
    bool quit = false;
    size_t selected = 0;  // row index in the current frame
};

// Applies one key; rows: the current frame's row count (for selection).
// Returns whether the view (grouping, sort, filter) changed, so that the
// frame must be cut again.
bool top_key(TopUi& ui, int key, size_t rows);

}  // namespace tcpscope
