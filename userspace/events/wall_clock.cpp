#include "wall_clock.h"

#include <time.h>

#include <cstring>

namespace tcpscope {

namespace {

int64_t read_ns(clockid_t clock) {
    struct timespec ts {};
    clock_gettime(clock, &ts);
    return static_cast<int64_t>(ts.tv_sec) * 1000000000 + ts.tv_nsec;
}

// Proleptic Gregorian date of a day count since 1970-01-01 (days >= 0).
// Howard Hinnant's civil_from_days.
void civil_from_days(int64_t days, int64_t* year, unsigned* month, unsigned* day) {
    days += 719468;
    const int64_t era = days / 146097;
    const unsigned doe = static_cast<unsigned>(days - era * 146097);
    const unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    const unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    const unsigned mp = (5 * doy + 2) / 153;
    *day = doy - (153 * mp + 2) / 5 + 1;
    *month = mp < 10 ? mp + 3 : mp - 9;
    *year = static_cast<int64_t>(yoe) + era * 400 + (*month <= 2 ? 1 : 0);
}

// `value` in decimal, at least `width` digits (zeros in front), at p;
// returns the end.
char* digits(char* p, uint64_t value, int width) {
    char buf[24];
    int n = 0;
    do {
        buf[n++] = static_cast<char>('0' + value % 10);
        value /= 10;
    } while (value != 0 || n < width);
    while (n > 0) *p++ = buf[--n];
    return p;
}

}  // namespace

WallClock WallClock::anchor() {
    WallClock best;
    int64_t best_gap = INT64_MAX;
    for (int i = 0; i < 5; ++i) {
        int64_t m1 = read_ns(CLOCK_MONOTONIC);
        int64_t r = read_ns(CLOCK_REALTIME);
        int64_t m2 = read_ns(CLOCK_MONOTONIC);
        if (m2 - m1 < best_gap) {
            best_gap = m2 - m1;
            best.offset_ns = r - (m1 + (m2 - m1) / 2);
        }
    }
    return best;
}

uint64_t WallClock::realtime_ns(uint64_t monotonic_ns) const {
    if (offset_ns >= 0) {
        const uint64_t add = static_cast<uint64_t>(offset_ns);
        return monotonic_ns > UINT64_MAX - add ? UINT64_MAX : monotonic_ns + add;
    }
    const uint64_t sub = static_cast<uint64_t>(-(offset_ns + 1)) + 1;
    return monotonic_ns < sub ? 0 : monotonic_ns - sub;
}

char* format_rfc3339_utc(char* p, uint64_t realtime_ns) {
    const uint64_t seconds = realtime_ns / 1000000000u;
    const uint64_t micros = (realtime_ns % 1000000000u) / 1000u;
    // Events come in bursts within one second: the date and time of day
    // are worked out once a second, and a line then copies them.
    // "YYYY-MM-DDTHH:MM:SS." is 20 bytes (years stay 4 digits, see the header).
    constexpr size_t kPrefixLen = 20;
    thread_local uint64_t cached_seconds = UINT64_MAX;
    thread_local char cached_prefix[kPrefixLen];
    if (seconds != cached_seconds) {
        const int64_t days = static_cast<int64_t>(seconds / 86400);
        const uint64_t in_day = seconds % 86400;
        int64_t year;
        unsigned month, day;
        civil_from_days(days, &year, &month, &day);
        char* q = cached_prefix;
        q = digits(q, static_cast<uint64_t>(year), 4);
        *q++ = '-';
        q = digits(q, month, 2);
        *q++ = '-';
        q = digits(q, day, 2);
        *q++ = 'T';
        q = digits(q, in_day / 3600, 2);
        *q++ = ':';
        q = digits(q, in_day / 60 % 60, 2);
        *q++ = ':';
        q = digits(q, in_day % 60, 2);
        *q++ = '.';
        cached_seconds = seconds;
    }
    std::memcpy(p, cached_prefix, kPrefixLen);
    p += kPrefixLen;
    // Six digits, the microseconds within the second.
    uint64_t v = micros;
    for (int i = 5; i >= 0; --i) {
        p[i] = static_cast<char>('0' + v % 10);
        v /= 10;
    }
    p += 6;
    *p++ = 'Z';
    return p;
}

void append_rfc3339_utc(std::string& out, uint64_t realtime_ns) {
    char buf[kRfc3339MaxLen];
    out.append(buf, static_cast<size_t>(format_rfc3339_utc(buf, realtime_ns) - buf));
}

std::string rfc3339_utc(uint64_t realtime_ns) {
    std::string out;
    append_rfc3339_utc(out, realtime_ns);
    return out;
}

}  // namespace tcpscope
