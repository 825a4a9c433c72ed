// Tests for exercise 01 — addresses and bytes (exercises/01-addresses-and-bytes/addresses.hpp).
#include <doctest/doctest.h>

#include <arpa/inet.h>
#include <array>
#include <cstdint>
#include <netdb.h>
#include <netinet/in.h>
#include <string>
#include <system_error>

#include "addresses.hpp"
#include "net/error.hpp"

namespace {

const sockaddr& as_sockaddr(const auto& specific) { return reinterpret_cast<const sockaddr&>(specific); }

bool has_socktype(const std::vector<lesson01::ResolvedAddress>& results, int socktype) {
    for (const auto& result : results) {
        if (result.socktype == socktype) {
            return true;
        }
    }
    return false;
}

}  // namespace

// The byte functions come first: they need no sockets, and a learner who
// starts with them sees the first failure move on to resolve_all.

TEST_CASE("write_be32 puts the most significant byte first") {
    std::array<std::uint8_t, 4> out{};
    lesson01::write_be32(0x01020304, out);
    CHECK(out == std::array<std::uint8_t, 4>{0x01, 0x02, 0x03, 0x04});
    lesson01::write_be32(0xDEADBEEF, out);
    CHECK(out == std::array<std::uint8_t, 4>{0xDE, 0xAD, 0xBE, 0xEF});
}

TEST_CASE("write_be16 puts the most significant byte first") {
    std::array<std::uint8_t, 2> out{};
    lesson01::write_be16(0x0102, out);
    CHECK(out == std::array<std::uint8_t, 2>{0x01, 0x02});
    lesson01::write_be16(0xFF00, out);
    CHECK(out == std::array<std::uint8_t, 2>{0xFF, 0x00});
}

TEST_CASE("read_be16 and read_be32 handle bytes of 0x80 and above") {
    const std::array<std::uint8_t, 4> big{0xFF, 0xFF, 0xFF, 0xFE};
    CHECK(lesson01::read_be32(big) == 0xFFFFFFFEu);
    const std::array<std::uint8_t, 4> top{0x80, 0x00, 0x00, 0x00};
    CHECK(lesson01::read_be32(top) == 0x80000000u);
    const std::array<std::uint8_t, 2> half{0x80, 0x01};
    CHECK(lesson01::read_be16(half) == 0x8001);
}

TEST_CASE("read undoes write for every byte position") {
    for (const std::uint32_t value : {0u, 1u, 0x7Fu, 0x80u, 0xFFu, 0x100u, 0x12345678u, 0x80808080u, 0xFFFFFFFFu}) {
        std::array<std::uint8_t, 4> bytes{};
        lesson01::write_be32(value, bytes);
        CHECK(lesson01::read_be32(bytes) == value);
        std::array<std::uint8_t, 2> half{};
        const auto low = static_cast<std::uint16_t>(value);
        lesson01::write_be16(low, half);
        CHECK(lesson01::read_be16(half) == low);
    }
}

TEST_CASE("resolve_all: a numeric IPv4 address and port") {
    const auto results = lesson01::resolve_all("127.0.0.1", "8080", SOCK_STREAM);
    REQUIRE(results.size() == 1);
    CHECK(results[0].family == AF_INET);
    CHECK(results[0].socktype == SOCK_STREAM);
    CHECK(results[0].address_length == sizeof(sockaddr_in));
    CHECK(lesson01::address_to_string(reinterpret_cast<const sockaddr&>(results[0].address)) == "127.0.0.1:8080");
}

TEST_CASE("resolve_all: a numeric IPv6 address comes back as IPv6") {
    const auto results = lesson01::resolve_all("::1", "443", SOCK_STREAM);
    REQUIRE(results.size() == 1);
    CHECK(results[0].family == AF_INET6);
    CHECK(results[0].address_length == sizeof(sockaddr_in6));
    CHECK(lesson01::address_to_string(reinterpret_cast<const sockaddr&>(results[0].address)) == "[::1]:443");
}

TEST_CASE("resolve_all: socktype 0 returns both TCP and UDP results") {
    const auto results = lesson01::resolve_all("127.0.0.1", "53", 0);
    CHECK(has_socktype(results, SOCK_STREAM));
    CHECK(has_socktype(results, SOCK_DGRAM));
}

TEST_CASE("resolve_all: a service name is looked up in /etc/services") {
    if (::getservbyname("http", "tcp") == nullptr) {
        MESSAGE("skipped: this machine has no /etc/services entry for http (install netbase)");
        return;
    }
    const auto results = lesson01::resolve_all("127.0.0.1", "http", SOCK_STREAM);
    REQUIRE_FALSE(results.empty());
    CHECK(lesson01::address_to_string(reinterpret_cast<const sockaddr&>(results[0].address)) == "127.0.0.1:80");
}

TEST_CASE("resolve_all: a name with numeric_host set is an error carrying gai's message") {
    try {
        (void)lesson01::resolve_all("localhost", "80", SOCK_STREAM, true);
        FAIL("resolve_all(\"localhost\", numeric_host = true) did not throw");
    } catch (const std::system_error& error) {
        INFO("what(): " << error.what());
        CHECK(error.code().category() == net::gai_category());
        CHECK(error.code().value() == EAI_NONAME);
        CHECK(std::string(error.what()).find(::gai_strerror(EAI_NONAME)) != std::string::npos);
    }
}

TEST_CASE("resolve_all: an unknown service is an error, not an empty list") {
    try {
        const auto results = lesson01::resolve_all("127.0.0.1", "no-such-service", SOCK_STREAM);
        FAIL("resolve_all returned " << results.size() << " results for an unknown service");
    } catch (const std::system_error& error) {
        INFO("what(): " << error.what());
        CHECK(error.code().category() == net::gai_category());
    }
}

TEST_CASE("address_to_string: IPv4 with the port converted from network byte order") {
    sockaddr_in v4{};
    v4.sin_family = AF_INET;
    v4.sin_port = htons(0x1234);  // 4660: a byte-swapped port would read 13330
    v4.sin_addr.s_addr = htonl(0xC0A80001);
    CHECK(lesson01::address_to_string(as_sockaddr(v4)) == "192.168.0.1:4660");
    v4.sin_port = htons(65535);
    v4.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    CHECK(lesson01::address_to_string(as_sockaddr(v4)) == "127.0.0.1:65535");
}

TEST_CASE("address_to_string: IPv6 in brackets, compressed the standard way") {
    sockaddr_in6 v6{};
    v6.sin6_family = AF_INET6;
    v6.sin6_port = htons(8080);
    REQUIRE(::inet_pton(AF_INET6, "2001:db8:0:0:0:0:0:1", &v6.sin6_addr) == 1);
    CHECK(lesson01::address_to_string(as_sockaddr(v6)) == "[2001:db8::1]:8080");
    v6.sin6_addr = in6addr_loopback;
    v6.sin6_port = htons(1);
    CHECK(lesson01::address_to_string(as_sockaddr(v6)) == "[::1]:1");
}

TEST_CASE("address_to_string: another family is named, not misread") {
    sockaddr other{};
    other.sa_family = AF_UNIX;
    CHECK(lesson01::address_to_string(other) == "<unknown family 1>");
}
