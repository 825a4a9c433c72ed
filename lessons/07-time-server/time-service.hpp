#pragma once
// The two time services, in one place for time-server, udp-time-server and
// time-client: RFC 868's four bytes, RFC 867's line, and the answer a server
// sends. (Exercise 07 asks you for the same three conversions.)
#include <array>
#include <cstdint>
#include <ctime>
#include <string>

#include <fmt/core.h>

#include "net/args.hpp"
#include "net/log.hpp"

namespace time_service {

enum class Service { time, daytime };

// 1900-01-01 to 1970-01-01: 70 years of 365 days, plus 17 leap days.
inline constexpr std::int64_t seconds_1900_to_1970 = (70 * 365 + 17) * 86'400LL;

// RFC 868: seconds since 1900 in 32 bits, most significant byte first.
inline std::array<std::uint8_t, 4> time_bytes(std::time_t now) {
    const auto since_1900 = static_cast<std::uint32_t>(now + seconds_1900_to_1970);  // wraps in 2036
    return {static_cast<std::uint8_t>(since_1900 >> 24), static_cast<std::uint8_t>(since_1900 >> 16),
            static_cast<std::uint8_t>(since_1900 >> 8), static_cast<std::uint8_t>(since_1900)};
}

// And back. A value below 2^31 is taken to be after the 2036 wrap-around
// (SNTP's rule, RFC 4330 section 3), which keeps a client working until 2104.
inline std::time_t time_from_bytes(const std::array<std::uint8_t, 4>& bytes) {
    const std::uint32_t since_1900 = std::uint32_t{bytes[0]} << 24 | std::uint32_t{bytes[1]} << 16 |
                                     std::uint32_t{bytes[2]} << 8 | std::uint32_t{bytes[3]};
    std::int64_t seconds = since_1900;
    if (since_1900 < 0x8000'0000u) {
        seconds += std::int64_t{1} << 32;
    }
    return static_cast<std::time_t>(seconds - seconds_1900_to_1970);
}

// RFC 867: any line of text will do. This one is UTC in the RFC's example style.
inline std::string daytime_line(std::time_t now) {
    std::tm utc{};
    ::gmtime_r(&now, &utc);
    char text[80];
    const std::size_t length = std::strftime(text, sizeof text, "%A, %B %d, %Y %H:%M:%S-UTC\r\n", &utc);
    return {text, length};
}

// What a server sends for `service` right now, narrated.
inline std::string answer(Service service) {
    const std::time_t now = std::time(nullptr);
    if (service == Service::daytime) {
        const std::string line = daytime_line(now);
        net::log::info("the daytime: {}", line.substr(0, line.size() - 2));
        return line;
    }
    const auto bytes = time_bytes(now);
    net::log::info("the time: {} s since 1900 = {:02x} {:02x} {:02x} {:02x} (big-endian)",
                   static_cast<std::int64_t>(now) + seconds_1900_to_1970, bytes[0], bytes[1], bytes[2], bytes[3]);
    return {bytes.begin(), bytes.end()};
}

// --service time|daytime, for all three programs.
inline Service service_option(const net::Args& args) {
    const std::string name = args.value("--service");
    if (name != "time" && name != "daytime") {
        throw net::UsageError(fmt::format("--service must be time or daytime, got '{}'", name));
    }
    return name == "time" ? Service::time : Service::daytime;
}

}  // namespace time_service
