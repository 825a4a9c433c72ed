#pragma once
// Addresses: getaddrinfo without the manual freeaddrinfo, and sockaddr as text.

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include <netdb.h>
#include <sys/socket.h>

namespace net {

// One socket address of either family, stored by value (no pointers into
// getaddrinfo's list, which is freed before resolve() returns).
struct Address {
    sockaddr_storage storage{};
    socklen_t length = 0;

    [[nodiscard]] const sockaddr* get() const noexcept { return reinterpret_cast<const sockaddr*>(&storage); }
    [[nodiscard]] sockaddr* get() noexcept { return reinterpret_cast<sockaddr*>(&storage); }
    [[nodiscard]] int family() const noexcept { return storage.ss_family; }
};

// One result of getaddrinfo: what socket() needs, and where connect()/bind() go.
struct Endpoint {
    int family = AF_UNSPEC;
    int socktype = 0;
    int protocol = 0;
    Address address;
};

// Hints for a TCP stream of either family; add AI_PASSIVE for a listener,
// AI_NUMERICHOST to refuse DNS.
[[nodiscard]] addrinfo tcp_hints(int flags = 0) noexcept;
// Hints for UDP datagrams of either family.
[[nodiscard]] addrinfo udp_hints(int flags = 0) noexcept;

// Every endpoint getaddrinfo returns for host and service, in its order.
// An empty host means the loopback address (or the any-address with AI_PASSIVE).
// Throws std::system_error in gai_category() with gai_strerror's message.
[[nodiscard]] std::vector<Endpoint> resolve(std::string_view host, std::string_view service,
                                            const addrinfo& hints = tcp_hints());

// "127.0.0.1:8080" for IPv4, "[::1]:8080" for IPv6 (brackets, as in URLs).
[[nodiscard]] std::string to_string(const sockaddr& address);
[[nodiscard]] std::string to_string(const Address& address);

// The port a socket is bound to (getsockname), e.g. after binding port 0.
[[nodiscard]] std::uint16_t local_port(int fd);
// The address a socket is bound to, and the address of its peer.
[[nodiscard]] Address local_address(int fd);
[[nodiscard]] Address peer_address(int fd);

}  // namespace net
