// Exercise 01 — addresses and bytes. The contract is in addresses.hpp.
// Replace each net::todo(...) with your code, then run: ./workbook check 01
#include "addresses.hpp"

#include <netdb.h>

#include "net/error.hpp"

namespace lesson01 {

std::vector<ResolvedAddress> resolve_all([[maybe_unused]] std::string_view host,
                                         [[maybe_unused]] std::string_view service,
                                         [[maybe_unused]] int socktype, [[maybe_unused]] bool numeric_host) {
    net::todo("resolve_all: call getaddrinfo, copy each result, free the list");
}

std::string address_to_string([[maybe_unused]] const sockaddr& address) {
    net::todo("address_to_string: inet_ntop plus the port, IPv6 in brackets");
}

void write_be16([[maybe_unused]] std::uint16_t value, [[maybe_unused]] std::span<std::uint8_t, 2> out) {
    net::todo("write_be16: most significant byte first");
}

void write_be32([[maybe_unused]] std::uint32_t value, [[maybe_unused]] std::span<std::uint8_t, 4> out) {
    net::todo("write_be32: most significant byte first");
}

std::uint16_t read_be16([[maybe_unused]] std::span<const std::uint8_t, 2> in) {
    net::todo("read_be16: the first byte is the most significant");
}

std::uint32_t read_be32([[maybe_unused]] std::span<const std::uint8_t, 4> in) {
    net::todo("read_be32: the first byte is the most significant");
}

}  // namespace lesson01
