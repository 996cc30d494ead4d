// TupleIndex (userspace/stories/tuple_index.h), the stories' open
// connections by address hash: against std::unordered_map over random
// sets, gets and takes-out, with keys that crowd the same slots so that
// the backward shift on erase is exercised across the table's wrap.
#include <gtest/gtest.h>

#include <random>
#include <unordered_map>

#include "tuple_index.h"

namespace tcpscope {
namespace {

TEST(TupleIndex, AgreesWithAMapThroughSetsGetsAndTakesOut) {
    std::mt19937_64 rng(7);
    for (uint64_t spread : {uint64_t{1} << 40, uint64_t{200}}) {  // well spread, then crowded
        TupleIndex index;
        std::unordered_map<uint64_t, uint64_t> reference;
        // Crowded keys share low bits: many land on one home slot, and
        // those near the top of the table wrap around to its start.
        auto key_of = [&](uint64_t n) { return spread == 200 ? (n % spread) * 64 + 63 : n * 0x9e3779b97f4a7c15ull; };
        for (int step = 0; step < 200000; ++step) {
            const uint64_t key = key_of(rng() % 3000);
            const uint64_t cookie = 1 + rng() % 5;
            switch (rng() % 3) {
            case 0:
                index.set(key, cookie);
                reference[key] = cookie;
                break;
            case 1: {
                index.erase_if(key, cookie);
                auto it = reference.find(key);
                if (it != reference.end() && it->second == cookie) reference.erase(it);
                break;
            }
            default:
                break;
            }
            const uint64_t probe = key_of(rng() % 3000);
            auto it = reference.find(probe);
            ASSERT_EQ(index.get(probe), it == reference.end() ? 0 : it->second) << "step " << step;
            ASSERT_EQ(index.size(), reference.size());
        }
        for (const auto& [key, cookie] : reference) ASSERT_EQ(index.get(key), cookie);
    }
}

TEST(TupleIndex, AKeyOfZeroIsKeptAndAnotherCookieDoesNotTakeItOut) {
    TupleIndex index;
    EXPECT_EQ(index.get(0), 0u);
    index.erase_if(5, 1);  // nothing there: nothing happens
    index.set(0, 9);
    EXPECT_EQ(index.get(0), 9u);
    index.erase_if(0, 8);  // taken over by another connection since
    EXPECT_EQ(index.get(0), 9u);
    index.erase_if(0, 9);
    EXPECT_EQ(index.get(0), 0u);
    EXPECT_EQ(index.size(), 0u);
}

}  // namespace
}  // namespace tcpscope
