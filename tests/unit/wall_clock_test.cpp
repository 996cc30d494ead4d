// Wall-clock "time": RFC 3339 in UTC with microseconds, from one
// monotonic -> realtime anchor.
#include <time.h>

#include <cstdint>
#include <random>
#include <string>

#include <gtest/gtest.h>

#include "wall_clock.h"

namespace tcpscope {
namespace {

constexpr uint64_t kNs = 1000000000ull;

TEST(WallClock, FormatsRfc3339UtcWithMicroseconds) {
    EXPECT_EQ(rfc3339_utc(0), "1970-01-01T00:00:00.000000Z");
    EXPECT_EQ(rfc3339_utc(1795902000ull * kNs + 123456789), "2026-11-28T21:40:00.123456Z");
    EXPECT_EQ(rfc3339_utc(2147483648ull * kNs), "2038-01-19T03:14:08.000000Z") << "past int32";
    std::string out = "x";
    append_rfc3339_utc(out, 0);
    EXPECT_EQ(out, "x1970-01-01T00:00:00.000000Z");
}

// Microseconds are truncated: the last nanoseconds of a second, a minute or
// a day never roll over into the next one.
TEST(WallClock, MicrosecondsNeverRollOver) {
    EXPECT_EQ(rfc3339_utc(999), "1970-01-01T00:00:00.000000Z");
    EXPECT_EQ(rfc3339_utc(1000), "1970-01-01T00:00:00.000001Z");
    EXPECT_EQ(rfc3339_utc(kNs - 1), "1970-01-01T00:00:00.999999Z");
    EXPECT_EQ(rfc3339_utc(kNs), "1970-01-01T00:00:01.000000Z");
    EXPECT_EQ(rfc3339_utc(59 * kNs + 999999500), "1970-01-01T00:00:59.999999Z");
    EXPECT_EQ(rfc3339_utc(60 * kNs), "1970-01-01T00:01:00.000000Z");
}

// The date and time of day are worked out once a second and kept: a burst
// within one second, then another second, then back, reads the same.
TEST(WallClock, SecondsFormattedInAnyOrderReadTheSame) {
    const uint64_t a = 1795902000ull * kNs;  // 2026-11-28T21:40:00
    const uint64_t b = 4107542400ull * kNs;  // 2100-03-01T00:00:00
    for (int round = 0; round < 3; ++round) {
        EXPECT_EQ(rfc3339_utc(a + 5000), "2026-11-28T21:40:00.000005Z");
        EXPECT_EQ(rfc3339_utc(a + 999999000), "2026-11-28T21:40:00.999999Z");
        EXPECT_EQ(rfc3339_utc(b + 123000), "2100-03-01T00:00:00.000123Z");
        EXPECT_EQ(rfc3339_utc(a + kNs), "2026-11-28T21:40:01.000000Z");
        EXPECT_EQ(rfc3339_utc(a), "2026-11-28T21:40:00.000000Z");
    }
}

TEST(WallClock, DayMonthAndYearBoundaries) {
    const uint64_t end_of_day = 1795910399ull * kNs;  // 2026-11-28T23:59:59
    EXPECT_EQ(rfc3339_utc(end_of_day + 999999999), "2026-11-28T23:59:59.999999Z");
    EXPECT_EQ(rfc3339_utc(end_of_day + kNs), "2026-11-29T00:00:00.000000Z");
    // Leap days, and the centuries that are (2000) and are not (2100) leap years.
    EXPECT_EQ(rfc3339_utc(1709208000ull * kNs), "2024-02-29T12:00:00.000000Z");
    EXPECT_EQ(rfc3339_utc(951782400ull * kNs), "2000-02-29T00:00:00.000000Z");
    EXPECT_EQ(rfc3339_utc(4107542399ull * kNs + 999999999), "2100-02-28T23:59:59.999999Z");
    EXPECT_EQ(rfc3339_utc(4107542400ull * kNs), "2100-03-01T00:00:00.000000Z");
    // New year. (UTC as POSIX counts it: a leap second has no time of its own.)
    EXPECT_EQ(rfc3339_utc(94694399ull * kNs + 999999999), "1972-12-31T23:59:59.999999Z");
    EXPECT_EQ(rfc3339_utc(94694400ull * kNs), "1973-01-01T00:00:00.000000Z");
}

// Against the C library, over four centuries of random instants.
TEST(WallClock, AgreesWithGmtime) {
    std::mt19937_64 rng(7);
    for (int i = 0; i < 20000; ++i) {
        const uint64_t seconds = rng() % (12622780800ull);  // up to 2370
        const uint64_t ns = seconds * kNs + rng() % kNs;
        const time_t t = static_cast<time_t>(seconds);
        struct tm tm {};
        ASSERT_NE(gmtime_r(&t, &tm), nullptr);
        char buf[64];
        std::snprintf(buf, sizeof(buf), "%04d-%02d-%02dT%02d:%02d:%02d.%06lluZ", tm.tm_year + 1900,
                      tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec,
                      static_cast<unsigned long long>(ns % kNs / 1000));
        ASSERT_EQ(rfc3339_utc(ns), buf) << ns;
    }
}

TEST(WallClock, AnchorMapsMonotonicToRealtime) {
    WallClock clock = WallClock::anchor();
    struct timespec mono {}, real {};
    clock_gettime(CLOCK_MONOTONIC, &mono);
    clock_gettime(CLOCK_REALTIME, &real);
    const uint64_t mono_ns = static_cast<uint64_t>(mono.tv_sec) * kNs + mono.tv_nsec;
    const int64_t real_ns = static_cast<int64_t>(real.tv_sec) * 1000000000 + real.tv_nsec;
    const int64_t diff = static_cast<int64_t>(clock.realtime_ns(mono_ns)) - real_ns;
    EXPECT_LT(diff < 0 ? -diff : diff, 5000000) << "more than 5 ms apart";
}

TEST(WallClock, NeverWrapsAround) {
    WallClock ahead{1000};
    EXPECT_EQ(ahead.realtime_ns(5), 1005u);
    EXPECT_EQ(ahead.realtime_ns(UINT64_MAX - 10), UINT64_MAX);
    WallClock behind{-1000};
    EXPECT_EQ(behind.realtime_ns(5000), 4000u);
    EXPECT_EQ(behind.realtime_ns(5), 0u);
    WallClock most{INT64_MIN};
    EXPECT_EQ(most.realtime_ns(UINT64_MAX), UINT64_MAX - (uint64_t{1} << 63));
    // The largest time still formats (year 2554).
    EXPECT_EQ(rfc3339_utc(UINT64_MAX).substr(0, 5), "2554-");
}

}  // namespace
}  // namespace tcpscope
