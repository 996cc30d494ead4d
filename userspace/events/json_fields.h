// The two JSON writers that walk a record's field list (record_fields.h):
// FastJsonFields appends the line to a buffer as it goes, the hot path of
// every JSON line tcpscope writes per event, story or stuck report;
// TreeJsonFields builds the same object with nlohmann, the reference the
// unit tests hold the fast one to, byte for byte.
#pragma once

#include <charconv>
#include <cstring>
#include <optional>
#include <string>
#include <type_traits>
#include <utility>
#include <vector>

#include "record_fields.h"
#include "wall_clock.h"

namespace tcpscope {

using Json = nlohmann::ordered_json;
// Counts by name, in their order: written as a JSON object.
using NamedCounts = std::vector<std::pair<std::string, uint64_t>>;

// Appends `text` as a JSON string (quotes included), escaping as JSON needs.
// Valid UTF-8 is kept; each invalid sequence becomes U+FFFD, as nlohmann's
// replace handler does, so the output is always valid UTF-8.
void append_json_string(std::string& out, const char* text, size_t len);
inline void append_json_string(std::string& out, const std::string& text) {
    append_json_string(out, text.data(), text.size());
}

// The bytes of a word that JSON must escape, each flagged by its high bit
// (0 when there is none). In a word x, (x - n * kOnes) & ~x & kHighs flags
// the bytes below n (n <= 0x80; a borrow can flag a byte above one that is
// below, never alone: exact for whether there is one), and x ^ (c * kOnes)
// turns bytes equal to c into 0, which are below 1.
inline uint64_t json_escape_bytes(uint64_t x) {
    constexpr uint64_t kOnes = 0x0101010101010101ull;
    constexpr uint64_t kHighs = 0x8080808080808080ull;
    const uint64_t quote = x ^ (kOnes * '"');
    const uint64_t backslash = x ^ (kOnes * '\\');
    return (x & kHighs)                              // past ASCII
           | ((x - kOnes * 0x20) & ~x & kHighs)      // a control character
           | ((quote - kOnes) & ~quote & kHighs)     // '"'
           | ((backslash - kOnes) & ~backslash & kHighs);  // '\\'
}

// Whether `text` goes into a JSON string as it is: no control character,
// quote, backslash or byte past ASCII. A word at a time, the tail included:
// names and addresses are a word or two and mostly plain, and a loop over
// the last bytes one at a time cost more than the words (perf: half of
// LineBuffer::quoted). The tail is read as loads that overlap bytes already
// checked, which only checks them twice.
inline bool json_plain_text(const char* text, size_t len) {
    uint64_t bad = 0;
    uint64_t x;
    if (len >= 8) {
        size_t i = 0;
        for (; i + 8 <= len; i += 8) {
            std::memcpy(&x, text + i, 8);
            bad |= json_escape_bytes(x);
        }
        if (i < len) {
            std::memcpy(&x, text + len - 8, 8);
            bad |= json_escape_bytes(x);
        }
        return bad == 0;
    }
    if (len >= 4) {
        uint32_t lo, hi;
        std::memcpy(&lo, text, 4);
        std::memcpy(&hi, text + len - 4, 4);
        x = lo | static_cast<uint64_t>(hi) << 32;
    } else if (len > 0) {
        // Bytes 0, len / 2 and len - 1 are every byte of 1 to 3; spaces
        // (plain) fill the rest of the word.
        x = 0x2020202020000000ull | static_cast<unsigned char>(text[0]) |
            static_cast<uint64_t>(static_cast<unsigned char>(text[len / 2])) << 8 |
            static_cast<uint64_t>(static_cast<unsigned char>(text[len - 1])) << 16;
    } else {
        return true;
    }
    return json_escape_bytes(x) == 0;
}

// Copies a few bytes without a call: names, addresses and numbers are
// short, and a call to memcpy for each costs more than the copy. Fixed-size
// copies that overlap cover every length up to 16; longer ones call memcpy.
inline void copy_short(char* dst, const char* src, size_t len) {
    if (len >= 8 && len <= 16) {
        std::memcpy(dst, src, 8);
        std::memcpy(dst + len - 8, src + len - 8, 8);
    } else if (len >= 4 && len < 8) {
        std::memcpy(dst, src, 4);
        std::memcpy(dst + len - 4, src + len - 4, 4);
    } else if (len < 4) {
        for (size_t i = 0; i < len; ++i) dst[i] = src[i];
    } else {
        std::memcpy(dst, src, len);
    }
}

// Builds one line in a stack buffer and hands it to the string in a few
// large pieces: a line is ~50 small pieces, and appending each to a
// std::string costs more than writing the JSON itself.
class LineBuffer {
public:
    explicit LineBuffer(std::string& out) : out_(&out) {}
    ~LineBuffer() { spill(); }
    LineBuffer(const LineBuffer&) = delete;
    LineBuffer& operator=(const LineBuffer&) = delete;

    void put(const char* text, size_t len) {
        if (len > sizeof(buf_) - used_) {
            spill();
            if (len > sizeof(buf_)) {
                out_->append(text, len);
                return;
            }
        }
        copy_short(buf_ + used_, text, len);
        used_ += len;
    }
    void put(char c) {
        if (used_ == sizeof(buf_)) spill();
        buf_[used_++] = c;
    }
    template <size_t N>
    void lit(const char (&text)[N]) { put(text, N - 1); }

    // `,"key":`, with one check for room. Every key comes with its comma:
    // the first one of an object is then turned into its '{' (open_at).
    template <size_t N>
    void key(const char (&name)[N]) {
        if (N + 3 > sizeof(buf_) - used_) spill();
        // Through a local pointer: a store through char* may alias used_,
        // which the compiler would then reload after every byte.
        char* p = buf_ + used_;
        *p++ = ',';
        *p++ = '"';
        std::memcpy(p, name, N - 1);
        p += N - 1;
        *p++ = '"';
        *p++ = ':';
        used_ = static_cast<size_t>(p - buf_);
    }

    // Digits straight into the buffer: one check for room, no copy.
    template <class Int>
    void num(Int value) {
        constexpr size_t kMaxDigits = 21;  // a sign and 20 digits of a 64-bit integer
        if (kMaxDigits > sizeof(buf_) - used_) spill();
        char* p = buf_ + used_;
        used_ = static_cast<size_t>(std::to_chars(p, p + kMaxDigits, value).ptr - buf_);
    }

    // `text` as a JSON string: copied as it is when it needs no escaping
    // (almost always: names, addresses, states), else escaped.
    void quoted(const char* text, size_t len) {
        if (json_plain_text(text, len)) {
            quoted_plain(text, len);
            return;
        }
        append_json_string(flushed(), text, len);
    }
    // `text` in quotes, known to need no escaping.
    void quoted_plain(const char* text, size_t len) {
        if (len + 2 > sizeof(buf_) - used_) {
            spill();
            if (len + 2 > sizeof(buf_)) {
                out_->push_back('"');
                out_->append(text, len);
                out_->push_back('"');
                return;
            }
        }
        char* p = buf_ + used_;
        *p++ = '"';
        copy_short(p, text, len);
        p += len;
        *p++ = '"';
        used_ = static_cast<size_t>(p - buf_);
    }

    // An RFC 3339 time in quotes (format_rfc3339_utc), in place.
    void quoted_time(uint64_t realtime_ns) {
        if (kRfc3339MaxLen + 2 > sizeof(buf_) - used_) spill();
        char* p = buf_ + used_;
        *p++ = '"';
        p = format_rfc3339_utc(p, realtime_ns);
        *p++ = '"';
        used_ = static_cast<size_t>(p - buf_);
    }

    // Where the next byte goes, counted in the whole string.
    size_t position() const { return out_->size() + used_; }
    // Turns the comma at `at` (the first key's, written at position() `at`)
    // into the object's opening brace.
    void open_at(size_t at) {
        if (at >= out_->size()) {
            buf_[at - out_->size()] = '{';
        } else {
            (*out_)[at] = '{';
        }
    }

    // The string itself, for a writer that appends to it directly (what
    // is in the buffer goes first).
    std::string& flushed() {
        spill();
        return *out_;
    }

private:
    void spill() {
        out_->append(buf_, used_);
        used_ = 0;
    }
    std::string* out_;
    char buf_[1024];
    size_t used_ = 0;
};

// What every writer does alike: a writer has the whole record, so a key is
// there when the list's condition on the record says so, and the value
// inside an optional or a pointer is the one there is.
struct JsonFieldWriter {
    static bool when(bool present) { return present; }
    template <class... Keys>
    static bool when(bool present, const Keys&...) { return present; }
    template <class T>
    static const T& open(const std::optional<T>& v) { return *v; }
    template <class P>
    static const auto& open(const P& pointer) { return *pointer; }
};

// Appends the record's keys as it walks them. Without a wall clock the
// time keys are left out.
class FastJsonFields : public JsonFieldWriter {
public:
    // Each key is written with a comma before it: what comes first (an
    // object's brace, or keys of the caller's) is the caller's to write.
    FastJsonFields(LineBuffer& b, const ResetReasons& reasons, const WallClock* clock)
        : b_(b), reasons_(reasons), clock_(clock) {}

    // The codecs' side.
    void name(const char* text) { b_.quoted_plain(text, std::strlen(text)); }
    void string(const std::string& text) { b_.quoted(text.data(), text.size()); }
    void string(const char* text) { b_.quoted(text, std::strlen(text)); }
    template <class Int>
    void number(Int value) { b_.num(value); }
    void null() { b_.lit("null"); }

    // A value by its C++ type.
    template <class T>
    void value(const T& v) {
        if constexpr (std::is_same_v<T, bool>) {
            if (v) {
                b_.lit("true");
            } else {
                b_.lit("false");
            }
        } else if constexpr (std::is_integral_v<T>) {
            b_.num(v);
        } else if constexpr (IsOptional<T>::value) {
            if (v) {
                value(*v);
            } else {
                null();
            }
        } else if constexpr (std::is_same_v<T, NamedCounts>) {
            b_.put('{');
            for (size_t i = 0; i < v.size(); ++i) {
                if (i) b_.put(',');
                string(v[i].first);
                b_.put(':');
                b_.num(v[i].second);
            }
            b_.put('}');
        } else if constexpr (std::is_same_v<T, Json>) {
            // A nested object kept as it came (a step's info).
            std::string text = v.dump(-1, ' ', false, Json::error_handler_t::replace);
            b_.put(text.data(), text.size());
        } else if constexpr (std::is_same_v<T, const char*> || std::is_same_v<T, char*>) {
            string(v);
        } else {
            string(v);  // std::string
        }
    }

    template <size_t N, class T, class... Rest>
    void field(const char (&key)[N], const T& v, const Rest&... rest) {
        b_.key(key);
        write(v, rest...);
    }
    template <size_t N, class T>
    void required(const char (&key)[N], const T& v) { field(key, v); }
    template <size_t N, class Compute>
    void computed(const char (&key)[N], Compute compute) { field(key, compute()); }

    template <size_t N>
    void time(const char (&key)[N], uint64_t monotonic_ns) {
        if (!clock_) return;
        b_.key(key);
        b_.quoted_time(clock_->realtime_ns(monotonic_ns));
    }
    template <size_t N>
    void time(const char (&key)[N], const std::optional<uint64_t>& monotonic_ns) {
        if (!clock_) return;
        if (monotonic_ns) {
            time(key, *monotonic_ns);
        } else {
            b_.key(key);
            null();
        }
    }


    template <size_t N, class T, class... Codec>
    void list(const char (&key)[N], const std::vector<T>& items, Codec... codec) {
        b_.key(key);
        b_.put('[');
        for (size_t i = 0; i < items.size(); ++i) {
            if (i) b_.put(',');
            write(items[i], codec...);
        }
        b_.put(']');
    }
    template <size_t N, class T, class Fields>
    void objects(const char (&key)[N], const std::vector<T>& items, Fields fields) {
        b_.key(key);
        b_.put('[');
        for (size_t i = 0; i < items.size(); ++i) {
            if (i) b_.put(',');
            const size_t start = b_.position();
            fields(*this, items[i]);
            if (b_.position() == start) {
                b_.put('{');  // no key at all
            } else {
                b_.open_at(start);
            }
            b_.put('}');
        }
        b_.put(']');
    }

private:
    template <class T>
    void write(const T& v) { value(v); }
    template <class T, class U>
    void write(const T& v, const SameAs<U>&) { value(v); }
    template <class T, class U>
    void write(const T& v, const OrValue<U>&) { value(v); }
    template <class T, class Codec, class... Fallback>
    void write(const T& v, const Codec&, const Fallback&...) { Codec::write(*this, v, reasons_); }

    LineBuffer& b_;
    const ResetReasons& reasons_;
    const WallClock* clock_;
};

// Appends the line of `record` as `fields` lists it.
template <class Record, class Fields>
void append_record_json(std::string& out, const Record& record, Fields fields,
                        const ResetReasons& reasons, const WallClock* clock) {
    LineBuffer b(out);
    const size_t start = b.position();
    FastJsonFields f(b, reasons, clock);
    fields(f, record);  // ",\"v\":1,..."
    if (b.position() == start) {
        b.put('{');  // no key at all
    } else {
        b.open_at(start);  // "{\"v\":1,..."
    }
    b.put('}');
}

// Builds the record's object with nlohmann, key by key.
class TreeJsonFields : public JsonFieldWriter {
public:
    TreeJsonFields(Json& j, const ResetReasons& reasons, const WallClock* clock)
        : j_(j), reasons_(reasons), clock_(clock) {}

    // The codecs' side: each sets the value being built.
    void name(const char* text) { value_ = text; }
    void string(const std::string& text) { value_ = text; }
    void string(const char* text) { value_ = text; }
    template <class Int>
    void number(Int v) { value_ = v; }
    void null() { value_ = nullptr; }

    template <class T>
    static Json value(const T& v) {
        if constexpr (IsOptional<T>::value) {
            return v ? Json(*v) : Json(nullptr);
        } else if constexpr (std::is_same_v<T, NamedCounts>) {
            Json object = Json::object();
            for (const auto& [name, n] : v) object[name] = n;
            return object;
        } else {
            return Json(v);
        }
    }

    template <class T, class... Rest>
    void field(const char* key, const T& v, const Rest&... rest) { j_[key] = make(v, rest...); }
    template <class T>
    void required(const char* key, const T& v) { field(key, v); }
    template <class Compute>
    void computed(const char* key, Compute compute) { j_[key] = value(compute()); }
    void time(const char* key, uint64_t monotonic_ns) {
        if (clock_) j_[key] = rfc3339_utc(clock_->realtime_ns(monotonic_ns));
    }
    void time(const char* key, const std::optional<uint64_t>& monotonic_ns) {
        if (!clock_) return;
        j_[key] = monotonic_ns ? Json(rfc3339_utc(clock_->realtime_ns(*monotonic_ns))) : Json(nullptr);
    }


    template <class T, class... Codec>
    void list(const char* key, const std::vector<T>& items, Codec... codec) {
        Json array = Json::array();
        for (const auto& item : items) array.push_back(make(item, codec...));
        j_[key] = std::move(array);
    }
    template <class T, class Fields>
    void objects(const char* key, const std::vector<T>& items, Fields fields) {
        Json array = Json::array();
        for (const auto& item : items) {
            Json object;
            TreeJsonFields inner(object, reasons_, clock_);
            fields(inner, item);
            array.push_back(std::move(object));
        }
        j_[key] = std::move(array);
    }

private:
    template <class T>
    Json make(const T& v) { return value(v); }
    template <class T, class U>
    Json make(const T& v, const SameAs<U>&) { return value(v); }
    template <class T, class U>
    Json make(const T& v, const OrValue<U>&) { return value(v); }
    template <class T, class Codec, class... Fallback>
    Json make(const T& v, const Codec&, const Fallback&...) {
        Codec::write(*this, v, reasons_);
        return std::move(value_);
    }

    Json& j_;
    const ResetReasons& reasons_;
    const WallClock* clock_;
    Json value_;
};

// The record's object as `fields` lists it.
template <class Record, class Fields>
Json record_to_json(const Record& record, Fields fields, const ResetReasons& reasons,
                    const WallClock* clock) {
    Json j;
    TreeJsonFields f(j, reasons, clock);
    fields(f, record);
    return j;
}

}  // namespace tcpscope
