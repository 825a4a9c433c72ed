#pragma once
// Time as test 07 reads it: its own decoding of RFC 868 and RFC 867, to check
// the learner's against, and a time zone far from UTC for the tests that must
// not pass only because the machine happens to be on UTC.

#include <doctest/doctest.h>

#include <array>
#include <chrono>
#include <cstdint>
#include <cstdlib>
#include <ctime>
#include <optional>
#include <string>
#include <string_view>

#include <fmt/core.h>

#include "harness.hpp"
#include "timeserver.hpp"

namespace test07 {

using lesson07::Clock;
using namespace std::chrono_literals;

inline Clock::time_point utc(int year, int month, int day, int hour, int minute, int second) {
    std::tm fields{};
    fields.tm_year = year - 1900;
    fields.tm_mon = month - 1;
    fields.tm_mday = day;
    fields.tm_hour = hour;
    fields.tm_min = minute;
    fields.tm_sec = second;
    return Clock::from_time_t(::timegm(&fields));
}

inline std::string iso(Clock::time_point when) {
    const std::time_t seconds = std::chrono::floor<std::chrono::seconds>(when).time_since_epoch().count();
    std::tm fields{};
    ::gmtime_r(&seconds, &fields);
    return fmt::format("{:04}-{:02}-{:02} {:02}:{:02}:{:02} UTC", fields.tm_year + 1900, fields.tm_mon + 1,
                       fields.tm_mday, fields.tm_hour, fields.tm_min, fields.tm_sec);
}

// RFC 868 bytes read the test's own way: big-endian, minus the 1900 offset.
inline Clock::time_point decode(std::string_view four) {
    REQUIRE(four.size() == 4);
    std::uint32_t value = 0;
    for (const char byte : four) {
        value = (value << 8) | static_cast<std::uint8_t>(byte);
    }
    return Clock::from_time_t(static_cast<std::time_t>(std::int64_t{value} - 2'208'988'800));
}

inline std::string hex(std::string_view bytes) {
    std::string out;
    for (const char byte : bytes) {
        out += fmt::format("{:02x} ", static_cast<std::uint8_t>(byte));
    }
    return out;
}

inline std::string as_string(const std::array<std::uint8_t, 4>& bytes) {
    return {reinterpret_cast<const char*>(bytes.data()), bytes.size()};
}

// The clock the server read and the one the test reads are the same machine's:
// two seconds of slack covers a slow run, and catches a wrong epoch or byte order.
inline void check_about_now(Clock::time_point told, std::string_view what) {
    const auto off = std::chrono::duration_cast<std::chrono::seconds>(told - Clock::now());
    INFO(what << " says " << iso(told) << ", the clock says " << iso(Clock::now()) << " (off by " << off.count()
              << " s)");
    CHECK(std::chrono::abs(off) <= 2s);
}

// A daytime line back to a time: "Monday, February 22, 1982 17:37:43-UTC\r\n".
inline Clock::time_point parse_daytime(const std::string& line) {
    INFO("the daytime line: \"" << harness::escape(line) << "\"");
    std::tm fields{};
    const char* end = ::strptime(line.c_str(), "%A, %B %d, %Y %H:%M:%S-UTC\r\n", &fields);
    REQUIRE(end != nullptr);
    REQUIRE(*end == '\0');
    return Clock::from_time_t(::timegm(&fields));
}

// While it lives, the process's local time is 14 hours ahead of UTC, so code
// that calls localtime_r where RFC 867's line says UTC gets the hour (and often
// the day) wrong, on a machine set to UTC too. A POSIX TZ string needs no
// tzdata. Construct it while no other thread of the test runs (setenv).
class LocalTimeFarFromUtc {
public:
    LocalTimeFarFromUtc() {
        if (const char* zone = std::getenv("TZ")) {
            saved_ = zone;
        }
        ::setenv("TZ", "XXX-14", 1);
        ::tzset();
    }
    ~LocalTimeFarFromUtc() {
        if (saved_) {
            ::setenv("TZ", saved_->c_str(), 1);
        } else {
            ::unsetenv("TZ");
        }
        ::tzset();
    }
    LocalTimeFarFromUtc(const LocalTimeFarFromUtc&) = delete;
    LocalTimeFarFromUtc& operator=(const LocalTimeFarFromUtc&) = delete;

private:
    std::optional<std::string> saved_;
};

}  // namespace test07
