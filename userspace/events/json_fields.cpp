#include "json_fields.h"

#include <string_view>

namespace tcpscope {

namespace {


// The UTF-8 sequence that starts at text[i]: its length, and whether it is
// valid. An invalid one is its longest prefix that could still have begun a
// valid sequence (at least one byte): a stray continuation byte, an overlong
// form, a surrogate, a code point past U+10FFFF, or a sequence cut short.
// Each becomes one U+FFFD, as nlohmann's replace handler does (Unicode's
// "maximal subpart" practice).
size_t utf8_sequence(std::string_view text, size_t i, bool* valid) {
    auto c = static_cast<unsigned char>(text[i]);
    size_t continuation;
    unsigned char lo = 0x80, hi = 0xbf;  // the range of the next byte
    if (c >= 0xc2 && c <= 0xdf) {
        continuation = 1;
    } else if (c == 0xe0) {
        continuation = 2, lo = 0xa0;
    } else if (c == 0xed) {
        continuation = 2, hi = 0x9f;
    } else if (c >= 0xe1 && c <= 0xef) {
        continuation = 2;
    } else if (c == 0xf0) {
        continuation = 3, lo = 0x90;
    } else if (c == 0xf4) {
        continuation = 3, hi = 0x8f;
    } else if (c >= 0xf1 && c <= 0xf3) {
        continuation = 3;
    } else {
        *valid = false;
        return 1;
    }
    size_t n = 1;
    for (; n <= continuation; ++n) {
        if (i + n >= text.size()) break;
        auto b = static_cast<unsigned char>(text[i + n]);
        if (b < lo || b > hi) break;
        lo = 0x80, hi = 0xbf;
    }
    *valid = n == continuation + 1;
    return n;
}

}  // namespace

void append_json_string(std::string& out, const char* data, size_t len) {
    static const char hex[] = "0123456789abcdef";
    out += '"';
    // Almost every string (names, addresses, states) needs no escaping:
    // copy it in one go, and go character by character only when it does.
    if (json_plain_text(data, len)) {
        out.append(data, len);
        out += '"';
        return;
    }
    const std::string_view text(data, len);
    for (size_t i = 0; i < text.size();) {
        auto c = static_cast<unsigned char>(text[i]);
        if (c >= 0x80) {
            // Valid UTF-8 is copied as it is; anything else becomes U+FFFD,
            // so that every line stays valid UTF-8.
            bool valid = false;
            size_t n = utf8_sequence(text, i, &valid);
            if (valid) {
                out.append(data + i, n);
            } else {
                out += "\xef\xbf\xbd";
            }
            i += n;
            continue;
        }
        ++i;
        switch (c) {
        case '"': out += "\\\""; break;
        case '\\': out += "\\\\"; break;
        case '\b': out += "\\b"; break;
        case '\f': out += "\\f"; break;
        case '\n': out += "\\n"; break;
        case '\r': out += "\\r"; break;
        case '\t': out += "\\t"; break;
        default:
            if (c < 0x20) {
                out += "\\u00";
                out += hex[c >> 4];
                out += hex[c & 0xf];
            } else {
                out += static_cast<char>(c);
            }
        }
    }
    out += '"';
}

}  // namespace tcpscope
