#include "connections.hpp"

#include <algorithm>
#include <cerrno>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdexcept>
#include <string>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>

#include <fmt/core.h>

#include "net/args.hpp"
#include "net/error.hpp"

namespace bench {

namespace {

bool is_loopback(const net::Address& address) {
    if (address.family() == AF_INET) {
        const auto& ipv4 = reinterpret_cast<const sockaddr_in&>(address.storage);
        return (ntohl(ipv4.sin_addr.s_addr) >> 24) == 127;
    }
    if (address.family() == AF_INET6) {
        const auto& ipv6 = reinterpret_cast<const sockaddr_in6&>(address.storage);
        return IN6_IS_ADDR_LOOPBACK(&ipv6.sin6_addr);
    }
    return false;
}

}  // namespace

net::Address loopback_target(std::string_view host, std::uint16_t port) {
    const auto endpoints = net::resolve(host, std::to_string(port), net::tcp_hints(AI_NUMERICSERV));
    for (const net::Endpoint& endpoint : endpoints) {
        if (!is_loopback(endpoint.address)) {
            throw net::UsageError(fmt::format(
                "refusing to load {} ({}): tools/bench only loads this machine's loopback "
                "(127.0.0.0/8 or ::1)", host, net::to_string(endpoint.address)));
        }
    }
    return endpoints.front().address;
}

void raise_descriptor_limit() {
    rlimit limit{};
    net::check(::getrlimit(RLIMIT_NOFILE, &limit), "getrlimit");
    if (limit.rlim_cur < limit.rlim_max) {
        limit.rlim_cur = limit.rlim_max;
        net::check(::setrlimit(RLIMIT_NOFILE, &limit), "setrlimit");
    }
}

int milliseconds_until(Clock::time_point deadline, int cap) {
    const auto left = deadline - Clock::now();
    if (left <= Clock::duration::zero()) {
        return 0;
    }
    const auto ms = std::chrono::ceil<std::chrono::milliseconds>(left).count();
    return static_cast<int>(std::min<long long>(ms, cap));
}

std::vector<net::Fd> connect_all(const net::Address& target, std::size_t count, Clock::time_point deadline) {
    net::Fd epoll{net::check(::epoll_create1(EPOLL_CLOEXEC), "epoll_create1")};
    std::vector<net::Fd> connections;
    connections.reserve(count);
    std::size_t pending = 0;
    for (std::size_t i = 0; i < count; ++i) {
        net::Fd fd{net::check(::socket(target.family(), SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0), "socket")};
        const int on = 1;
        net::check(::setsockopt(fd.get(), IPPROTO_TCP, TCP_NODELAY, &on, sizeof on), "setsockopt TCP_NODELAY");
        if (::connect(fd.get(), target.get(), target.length) < 0) {
            if (errno != EINPROGRESS) {
                const int err = errno;
                net::throw_errno(fmt::format("connect {} (connection {} of {})", net::to_string(target), i + 1, count), err);
            }
            epoll_event interest{};
            interest.events = EPOLLOUT;
            interest.data.u64 = i;
            net::check(::epoll_ctl(epoll.get(), EPOLL_CTL_ADD, fd.get(), &interest), "epoll_ctl");
            ++pending;
        }
        connections.push_back(std::move(fd));
    }

    epoll_event events[256];
    while (pending > 0) {
        const int timeout = milliseconds_until(deadline);
        if (timeout == 0) {
            throw std::runtime_error(fmt::format("only {} of {} connections to {} completed in time (is the accept queue full?)",
                                                 count - pending, count, net::to_string(target)));
        }
        const int ready = ::epoll_wait(epoll.get(), events, 256, timeout);
        if (ready < 0) {
            if (errno == EINTR) {
                continue;
            }
            net::throw_errno("epoll_wait");
        }
        for (int e = 0; e < ready; ++e) {
            const std::size_t i = events[e].data.u64;
            const int fd = connections[i].get();
            int err = 0;
            socklen_t length = sizeof err;
            net::check(::getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &length), "getsockopt SO_ERROR");
            if (err != 0) {
                net::throw_errno(fmt::format("connect {} (connection {} of {})", net::to_string(target), i + 1, count), err);
            }
            net::check(::epoll_ctl(epoll.get(), EPOLL_CTL_DEL, fd, nullptr), "epoll_ctl");
            --pending;
        }
    }
    return connections;
}

}  // namespace bench
