#include "top_screen.h"

#include <curses.h>

#include <algorithm>

#include "top_format.h"

namespace tcpscope {
namespace {

// One line at row y, cut to the screen's width.
void put_line(int y, const std::string& text, int cols) {
    if (cols <= 0) return;
    mvaddnstr(y, 0, text.c_str(), std::min<int>(cols, static_cast<int>(text.size())));
    clrtoeol();
}

const char* kHelp =
    "q quit  </> sort column  r reverse  g group  space/p pause  / filter  up/down select  "
    "Enter stories";

}  // namespace

std::unique_ptr<TopScreen> TopScreen::open(std::string* error) {
    // initscr() exits the process on a terminal it cannot use; newterm()
    // returns NULL instead.
    if (newterm(nullptr, stdout, stdin) == nullptr) {
        *error = "cannot use this terminal (TERM unknown?); use --batch";
        return nullptr;
    }
    std::unique_ptr<TopScreen> screen(new TopScreen());
    screen->open_ = true;
    cbreak();  // keys at once, but Ctrl-C still a SIGINT (our stop handler)
    noecho();
    keypad(stdscr, TRUE);
    nodelay(stdscr, TRUE);
    curs_set(0);
    set_escdelay(25);
    return screen;
}

TopScreen::~TopScreen() {
    if (open_) {
        curs_set(1);
        endwin();
    }
}

std::optional<int> TopScreen::read_key() {
    int ch = getch();
    if (ch == ERR) return std::nullopt;
    switch (ch) {
    case KEY_UP: return kTopKeyUp;
    case KEY_DOWN: return kTopKeyDown;
    case KEY_ENTER:
    case '\r':
    case '\n': return kTopKeyEnter;
    case KEY_BACKSPACE:
    case 127:
    case 8: return kTopKeyBackspace;
    case KEY_RESIZE: return 0;
    default: return ch;
    }
}

void TopScreen::draw(const TopFrame& frame, const TopUi& ui, const std::vector<std::string>& story_lines) {
    int rows = 0, cols = 0;
    getmaxyx(stdscr, rows, cols);
    erase();
    int y = 0;
    for (const auto& line : top_header_lines(frame)) {
        if (y >= rows) break;
        put_line(y++, line, cols);
    }
    if (ui.mode == TopMode::Stories) {
        const std::string key = ui.selected < frame.rows.size() ? frame.rows[ui.selected].key : "";
        attron(A_BOLD);
        put_line(y++, "recent connections of " + key + " (by " + grouping_name(frame.view.grouping) +
                          "), oldest first; Enter, Esc or q: back",
                 cols);
        attroff(A_BOLD);
        for (size_t i = 0; i < story_lines.size() && y < rows; ++i) {
            if (i == 0) attron(A_REVERSE);
            put_line(y++, story_lines[i], cols);
            if (i == 0) attroff(A_REVERSE);
        }
        if (story_lines.size() <= 1 && y < rows) put_line(y++, "(no connection of this row has ended yet)", cols);
        refresh();
        return;
    }
    ++y;  // a blank line under the header
    if (y < rows) {
        attron(A_REVERSE);
        put_line(y, top_table_header(frame), cols);  // the sort column's title marked v or ^
        attroff(A_REVERSE);
        ++y;
    }
    const int last_row_line = rows - 2;  // the status line below
    size_t first = 0;
    const int visible = std::max(0, last_row_line - y + 1);
    if (visible > 0 && ui.selected >= static_cast<size_t>(visible)) first = ui.selected - visible + 1;
    for (size_t i = first; i < frame.rows.size() && y <= last_row_line; ++i) {
        const bool selected = i == ui.selected;
        if (selected) attron(A_STANDOUT);
        put_line(y++, top_table_line(frame.rows[i]), cols);
        if (selected) attroff(A_STANDOUT);
    }
    std::string status;
    if (ui.mode == TopMode::Filter) {
        status = "filter: " + ui.view.filter + "_   (Enter keep, Esc clear)";
    } else {
        status = std::string(ui.paused ? "PAUSED  " : "") + kHelp;
        if (frame.rows_hidden) status += "  [" + std::to_string(frame.rows_hidden) + " rows filtered out]";
    }
    if (rows > 0) {
        attron(A_BOLD);
        put_line(rows - 1, status, cols);
        attroff(A_BOLD);
    }
    refresh();
}

}  // namespace tcpscope
