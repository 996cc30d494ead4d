#include "top_keys.h"

namespace tcpscope {

bool top_key(TopUi& ui, int key, size_t rows) {
    if (ui.mode == TopMode::Filter) {
        // Typing: every printable key is text, the filter applies as typed.
        if (key == kTopKeyEnter) {
            ui.mode = TopMode::Table;
            return false;
        }
        if (key == kTopKeyEscape) {
            ui.mode = TopMode::Table;
            ui.view.filter.clear();
            return true;
        }
        if (key == kTopKeyBackspace || key == 8) {
            if (ui.view.filter.empty()) return false;
            ui.view.filter.pop_back();
            ui.selected = 0;
            return true;
        }
        if (key >= 32 && key < 127) {
            ui.view.filter.push_back(static_cast<char>(key));
            ui.selected = 0;
            return true;
        }
        return false;
    }
    if (ui.mode == TopMode::Stories) {
        if (key == kTopKeyEnter || key == kTopKeyEscape || key == 'q') ui.mode = TopMode::Table;
        return false;
    }
    const size_t columns = kColumnCount;
    size_t sort = static_cast<size_t>(ui.view.sort);
    switch (key) {
    case 'q': ui.quit = true; return false;
    case '<': ui.view.sort = static_cast<Column>((sort + columns - 1) % columns); return true;
    case '>': ui.view.sort = static_cast<Column>((sort + 1) % columns); return true;
    case 'r': ui.view.ascending = !ui.view.ascending; return true;
    case 'g':
        ui.view.grouping = next_grouping(ui.view.grouping);
        ui.selected = 0;
        return true;
    case ' ':
    case 'p': ui.paused = !ui.paused; return false;
    case '/': ui.mode = TopMode::Filter; return false;
    case kTopKeyUp:
    case 'k':
        if (ui.selected > 0) --ui.selected;
        return false;
    case kTopKeyDown:
    case 'j':
        if (ui.selected + 1 < rows) ++ui.selected;
        return false;
    case kTopKeyEnter:
        if (rows > 0) ui.mode = TopMode::Stories;
        return false;
    default: return false;
    }
}

}  // namespace tcpscope
