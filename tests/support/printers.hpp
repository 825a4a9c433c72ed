#pragma once
// How doctest shows the harness's and the lessons' value types in a failure
// report. Include it in a test file after <doctest/doctest.h>.

#include <optional>
#include <string>

#include <doctest/doctest.h>

#include "harness.hpp"

// An optional line or payload shows as "text" (bytes escaped) or nullopt.
template <>
struct doctest::StringMaker<std::optional<std::string>> {
    static doctest::String convert(const std::optional<std::string>& value) {
        return value ? ("\"" + harness::escape(*value) + "\"").c_str() : "nullopt";
    }
};
template <>
struct doctest::StringMaker<std::nullopt_t> {
    static doctest::String convert(std::nullopt_t) { return "nullopt"; }
};
