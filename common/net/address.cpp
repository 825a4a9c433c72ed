#include "net/address.hpp"

#include <arpa/inet.h>
#include <cerrno>
#include <cstring>
#include <memory>
#include <netinet/in.h>
#include <system_error>

#include <fmt/core.h>

#include "net/error.hpp"

namespace net {

namespace {

addrinfo hints_for(int socktype, int flags) noexcept {
    addrinfo hints{};
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = socktype;
    hints.ai_flags = flags;
    return hints;
}

struct FreeAddrinfo {
    void operator()(addrinfo* list) const noexcept { ::freeaddrinfo(list); }
};

}  // namespace

addrinfo tcp_hints(int flags) noexcept { return hints_for(SOCK_STREAM, flags); }
addrinfo udp_hints(int flags) noexcept { return hints_for(SOCK_DGRAM, flags); }

std::vector<Endpoint> resolve(std::string_view host, std::string_view service, const addrinfo& hints) {
    const std::string host_text(host);
    const std::string service_text(service);
    addrinfo* raw = nullptr;
    const int rc = ::getaddrinfo(host_text.empty() ? nullptr : host_text.c_str(),
                                 service_text.empty() ? nullptr : service_text.c_str(), &hints, &raw);
    const int err = errno;  // EAI_SYSTEM's reason; formatting the message below may change errno
    const std::unique_ptr<addrinfo, FreeAddrinfo> list(raw);
    const std::string call = fmt::format("getaddrinfo {} {}", host_text, service_text);
    if (rc == EAI_SYSTEM) {
        throw_errno(call, err);
    }
    if (rc != 0) {
        throw std::system_error(rc, gai_category(), call);
    }

    std::vector<Endpoint> endpoints;
    for (const addrinfo* ai = list.get(); ai != nullptr; ai = ai->ai_next) {
        Endpoint endpoint;
        endpoint.family = ai->ai_family;
        endpoint.socktype = ai->ai_socktype;
        endpoint.protocol = ai->ai_protocol;
        std::memcpy(&endpoint.address.storage, ai->ai_addr, ai->ai_addrlen);
        endpoint.address.length = ai->ai_addrlen;
        endpoints.push_back(endpoint);
    }
    return endpoints;
}

std::string to_string(const sockaddr& address) {
    char text[INET6_ADDRSTRLEN] = {};
    if (address.sa_family == AF_INET) {
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
    return fmt::format("<address family {}>", address.sa_family);
}

std::string to_string(const Address& address) { return to_string(*address.get()); }

Address local_address(int fd) {
    Address address;
    address.length = sizeof address.storage;
    check(::getsockname(fd, address.get(), &address.length), "getsockname");
    return address;
}

Address peer_address(int fd) {
    Address address;
    address.length = sizeof address.storage;
    check(::getpeername(fd, address.get(), &address.length), "getpeername");
    return address;
}

std::uint16_t local_port(int fd) {
    const Address address = local_address(fd);
    if (address.family() == AF_INET) {
        return ntohs(reinterpret_cast<const sockaddr_in*>(address.get())->sin_port);
    }
    if (address.family() == AF_INET6) {
        return ntohs(reinterpret_cast<const sockaddr_in6*>(address.get())->sin6_port);
    }
    throw std::system_error(EAFNOSUPPORT, std::generic_category(), "local_port");
}

}  // namespace net
