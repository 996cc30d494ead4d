#include "tuple_index.h"

namespace tcpscope {

size_t TupleIndex::probe(uint64_t key) const {
    const size_t mask = slots_.size() - 1;
    size_t i = home(key);
    while (slots_[i].key != 0 && slots_[i].key != key) i = (i + 1) & mask;
    return i;
}

void TupleIndex::grow() {
    std::vector<Slot> old;
    old.swap(slots_);
    slots_.assign(old.empty() ? 64 : old.size() * 2, Slot{});
    for (const Slot& s : old) {
        if (s.key != 0) slots_[probe(s.key)] = s;
    }
}

void TupleIndex::set(uint64_t key, uint64_t cookie) {
    key = stored(key);
    if ((used_ + 1) * 2 > slots_.size()) grow();
    Slot& s = slots_[probe(key)];
    if (s.key == 0) {
        s.key = key;
        ++used_;
    }
    s.cookie = cookie;
}

uint64_t TupleIndex::get(uint64_t key) const {
    if (slots_.empty()) return 0;
    return slots_[probe(stored(key))].cookie;
}

void TupleIndex::erase_if(uint64_t key, uint64_t cookie) {
    if (slots_.empty()) return;
    key = stored(key);
    size_t hole = probe(key);
    if (slots_[hole].key == 0 || slots_[hole].cookie != cookie) return;
    // Backward shift: each entry after the hole, up to the next empty
    // slot, moves into it unless its home lies cyclically in (hole, j],
    // so that every probe still reaches its key without tombstones.
    const size_t mask = slots_.size() - 1;
    for (size_t j = (hole + 1) & mask; slots_[j].key != 0; j = (j + 1) & mask) {
        const size_t h = home(slots_[j].key);
        const bool stays = hole < j ? (h > hole && h <= j) : (h > hole || h <= j);
        if (!stays) {
            slots_[hole] = slots_[j];
            hole = j;
        }
    }
    slots_[hole] = Slot{};
    --used_;
}

}  // namespace tcpscope
