// Reference solution for exercise 01 — addresses and bytes.
#include "addresses.hpp"

#include <arpa/inet.h>
#include <cstring>
#include <memory>
#include <netdb.h>
#include <netinet/in.h>
#include <system_error>

#include <fmt/core.h>

#include "net/error.hpp"

namespace lesson01 {

std::vector<ResolvedAddress> resolve_all(std::string_view host, std::string_view service, int socktype,
                                         bool numeric_host) {
    addrinfo hints{};
    hints.ai_family = AF_UNSPEC;  // IPv4 and IPv6
    hints.ai_socktype = socktype;
    hints.ai_flags = numeric_host ? AI_NUMERICHOST : 0;

    // getaddrinfo wants NUL-terminated strings; string_view need not be.
    const std::string host_text(host);
    const std::string service_text(service);
    addrinfo* raw = nullptr;
    const int rc = ::getaddrinfo(host_text.c_str(), service_text.c_str(), &hints, &raw);
    if (rc != 0) {
        if (rc == EAI_SYSTEM) {
            net::throw_errno("getaddrinfo");
        }
        throw std::system_error(rc, net::gai_category(), fmt::format("getaddrinfo {} {}", host, service));
    }
    // The list is freed when `list` goes out of scope, even if push_back throws.
    const std::unique_ptr<addrinfo, decltype(&::freeaddrinfo)> list(raw, &::freeaddrinfo);

    std::vector<ResolvedAddress> results;
    for (const addrinfo* ai = list.get(); ai != nullptr; ai = ai->ai_next) {
        ResolvedAddress result;
        result.family = ai->ai_family;
        result.socktype = ai->ai_socktype;
        result.protocol = ai->ai_protocol;
        std::memcpy(&result.address, ai->ai_addr, ai->ai_addrlen);
        result.address_length = ai->ai_addrlen;
        results.push_back(result);
    }
    return results;
}

std::string address_to_string(const sockaddr& address) {
    char text[INET6_ADDRSTRLEN] = {};
    if (address.sa_family == AF_INET) {
        // Copy rather than cast: a sockaddr& need not be aligned for sockaddr_in.
        sockaddr_in v4{};
        std::memcpy(&v4, &address, sizeof v4);
        ::inet_ntop(AF_INET, &v4.sin_addr, text, sizeof text);
        return fmt::format("{}:{}", text, ntohs(v4.sin_port));
    }
    if (address.sa_family == AF_INET6) {
        sockaddr_in6 v6{};
        std::memcpy(&v6, &address, sizeof v6);
        ::inet_ntop(AF_INET6, &v6.sin6_addr, text, sizeof text);
        return fmt::format("[{}]:{}", text, ntohs(v6.sin6_port));
    }
    return fmt::format("<unknown family {}>", address.sa_family);
}

void write_be16(std::uint16_t value, std::span<std::uint8_t, 2> out) {
    out[0] = static_cast<std::uint8_t>(value >> 8);
    out[1] = static_cast<std::uint8_t>(value);
}

void write_be32(std::uint32_t value, std::span<std::uint8_t, 4> out) {
    out[0] = static_cast<std::uint8_t>(value >> 24);
    out[1] = static_cast<std::uint8_t>(value >> 16);
    out[2] = static_cast<std::uint8_t>(value >> 8);
    out[3] = static_cast<std::uint8_t>(value);
}

std::uint16_t read_be16(std::span<const std::uint8_t, 2> in) {
    return static_cast<std::uint16_t>((in[0] << 8) | in[1]);
}

std::uint32_t read_be32(std::span<const std::uint8_t, 4> in) {
    // Widen each byte before shifting: in[0] << 24 on a plain int overflows
    // into the sign bit for bytes >= 0x80.
    return (std::uint32_t{in[0]} << 24) | (std::uint32_t{in[1]} << 16) | (std::uint32_t{in[2]} << 8) |
           std::uint32_t{in[3]};
}

}  // namespace lesson01
