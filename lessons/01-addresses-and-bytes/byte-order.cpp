// byte-order — how this machine stores a number, and how the network wants it.
//
//     byte-order 0x01020304
//
// Prints the bytes of the value as they sit in memory, then after htonl():
// on x86 and most ARM machines the two differ, which is why every port and
// length on the wire goes through htons/htonl or explicit shifts.
#include <arpa/inet.h>
#include <array>
#include <charconv>
#include <cstdint>
#include <cstring>
#include <string>
#include <string_view>
#include <system_error>

#include <fmt/core.h>

#include "net/args.hpp"
#include "net/log.hpp"

namespace {

std::string bytes_of(std::uint32_t value) {
    std::array<unsigned char, 4> bytes{};
    std::memcpy(bytes.data(), &value, bytes.size());
    return fmt::format("{:02x} {:02x} {:02x} {:02x}", bytes[0], bytes[1], bytes[2], bytes[3]);
}

// "0x01020304" (hex) or "16909060" (decimal).
std::uint32_t parse_value(std::string_view text) {
    const bool hex = text.starts_with("0x") || text.starts_with("0X");
    const std::string_view digits = hex ? text.substr(2) : text;
    std::uint32_t value = 0;
    const auto [end, error] = std::from_chars(digits.data(), digits.data() + digits.size(), value, hex ? 16 : 10);
    if (digits.empty() || error != std::errc{} || end != digits.data() + digits.size()) {
        throw net::UsageError(fmt::format("VALUE must be a 32-bit number like 0x01020304, got '{}'", text));
    }
    return value;
}

int show(const net::Args& args) {
    const std::uint32_t value = args.positional().empty() ? 0x01020304 : parse_value(args.positional()[0]);

    net::log::info("value                 0x{:08x} ({})", value, value);
    net::log::info("in this machine's memory: {}", bytes_of(value));
    net::log::step("htonl(0x{:08x})", value);
    net::log::info("in network byte order:    {}   <- what goes on the wire", bytes_of(htonl(value)));
    net::log::info("this machine is {}-endian", bytes_of(value) == bytes_of(htonl(value)) ? "big" : "little");
    return 0;
}

}  // namespace

int main(int argc, char** argv) {
    const net::Usage usage{
        .program = "byte-order",
        .summary = "Shows the bytes of a 32-bit VALUE in memory and in network byte order.",
        .positional = "[VALUE]",
        .max_positional = 1,
        .network = false,
    };
    return net::run_main(argc, argv, usage, show);
}
