#pragma once
// Exercise 01 — addresses and bytes.
//
// Before any byte crosses a network you need two things: an address to send it
// to, and an agreement on the order of the bytes inside a number. Chapter 01
// (book/src/01-addresses-and-bytes.md) walks through both; this header is the
// contract your code must meet. Edit addresses.cpp, then run ./workbook check 01.

#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include <sys/socket.h>

namespace lesson01 {

// One address getaddrinfo found, copied out of its linked list so that the
// list can be freed: everything socket() and connect() will need.
struct ResolvedAddress {
    int family = 0;    // AF_INET or AF_INET6
    int socktype = 0;  // SOCK_STREAM (TCP), SOCK_DGRAM (UDP) or SOCK_RAW
    int protocol = 0;  // usually IPPROTO_TCP or IPPROTO_UDP
    sockaddr_storage address{};  // big enough for either family
    socklen_t address_length = 0;
};

// Resolves `host` and `service` with getaddrinfo(3) and returns every result,
// in getaddrinfo's order.
//
// - `host` is a name ("localhost") or a numeric address ("127.0.0.1", "::1").
// - `service` is a port number ("8080") or a name from /etc/services ("http").
// - `socktype` is SOCK_STREAM, SOCK_DGRAM, or 0 for every type getaddrinfo
//   knows (TCP, UDP and raw: three results for one address); the family is
//   AF_UNSPEC, so IPv4 and IPv6 results both come back.
// - with `numeric_host` set, a host that is not a numeric address is an error
//   (AI_NUMERICHOST) instead of a DNS query.
//
// The list getaddrinfo allocates must be freed with freeaddrinfo on every path,
// including when copying throws. On failure, throw std::system_error with
// net::gai_category() and getaddrinfo's return code, so what() carries
// gai_strerror's message ("Name or service not known").
std::vector<ResolvedAddress> resolve_all(std::string_view host, std::string_view service, int socktype,
                                         bool numeric_host = false);

// Formats an IPv4 or IPv6 socket address with its port:
//   "127.0.0.1:8080"   and   "[::1]:8080"   (IPv6 in brackets, as in URLs).
// The port inside a sockaddr is in network byte order. Any other family gives
// "<unknown family N>".
std::string address_to_string(const sockaddr& address);

// Network byte order is big-endian: the most significant byte goes first.
// write_be16(0x0102, out) stores {0x01, 0x02}; write_be32(0x01020304, out)
// stores {0x01, 0x02, 0x03, 0x04}; read_be16/read_be32 undo them. Write these
// with shifts and masks, so they work whatever the machine's own byte order.
void write_be16(std::uint16_t value, std::span<std::uint8_t, 2> out);
void write_be32(std::uint32_t value, std::span<std::uint8_t, 4> out);
std::uint16_t read_be16(std::span<const std::uint8_t, 2> in);
std::uint32_t read_be32(std::span<const std::uint8_t, 4> in);

}  // namespace lesson01
