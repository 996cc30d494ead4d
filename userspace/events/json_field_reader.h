// The reader that walks a record's field list (record_fields.h) over one
// parsed JSON line and fills the record back: the same keys, conversions
// and presence as the writers, so a recorded run replays what was written.
// A key of the wrong type throws nlohmann's exception (the caller drops the
// line); an absent key leaves the member as the record's default, unless
// the list names a fallback.
#pragma once

#include <functional>
#include <memory>
#include <optional>
#include <type_traits>
#include <vector>

#include <nlohmann/json.hpp>

#include "record_fields.h"

namespace tcpscope {

// J: nlohmann::json, or ordered_json where the order of a nested object
// is kept (a step's info).
template <class J = nlohmann::json>
class JsonFieldReader {
public:
    JsonFieldReader(const J& j, ResetReasons& reasons) : j_(j), reasons_(reasons) {}

    template <class T, class... Rest>
    void field(const char* key, T& member, const Rest&... rest) {
        auto it = j_.find(key);
        if (it == j_.end()) {
            (absent(member, rest), ...);
            return;
        }
        read(*it, member, rest...);
    }
    template <class T>
    void required(const char* key, T& member) { read(j_.at(key), member); }
    template <class Compute>
    void computed(const char*, Compute) {}
    template <class T>
    void time(const char*, const T&) {}

    bool when(bool present) const { return present; }
    template <class... Keys>
    bool when(bool, const Keys&... keys) const { return (has(keys) || ...); }
    template <class T>
    T& open(std::optional<T>& v) {
        if (!v) v.emplace();
        return *v;
    }
    template <class T>
    T& open(std::shared_ptr<const T>& p) {
        auto made = std::make_shared<T>();
        p = made;
        return *made;
    }

    // The fallbacks that copy another member, once that one is read.
    void finish() {
        for (auto& copy : pending_) copy();
        pending_.clear();
    }

private:
    bool has(const char* key) const {
        auto it = j_.find(key);
        return it != j_.end() && !it->is_null();
    }

    template <class T>
    static void read(const J& v, T& member) {
        if constexpr (std::is_same_v<T, J>) {
            if (v.is_object()) member = v;  // a nested object kept as it is
        } else if constexpr (IsOptional<T>::value) {
            using Inner = typename T::value_type;
            if (v.is_number()) member = v.template get<Inner>();
        } else {
            member = v.template get<T>();
        }
    }
    template <class T, class U>
    static void read(const J& v, T& member, const SameAs<U>&) { read(v, member); }
    template <class T, class U>
    static void read(const J& v, T& member, const OrValue<U>&) { read(v, member); }
    template <class T, class Codec, class... Fallback>
    void read(const J& v, T& member, const Codec&, const Fallback&...) {
        Codec::read(v, member, reasons_);
    }

    template <class T, class U>
    void absent(T& member, const SameAs<U>& fallback) {
        pending_.push_back([&member, &other = fallback.other] { member = other; });
    }
    template <class T, class U>
    void absent(T& member, const OrValue<U>& fallback) { member = fallback.value; }
    template <class T, class Other>
    void absent(T&, const Other&) {}

    const J& j_;
    ResetReasons& reasons_;
    std::vector<std::function<void()>> pending_;
};

}  // namespace tcpscope
