#include "udp_proxy.hpp"

#include <algorithm>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <fcntl.h>
#include <poll.h>
#include <stdexcept>
#include <sys/socket.h>
#include <unistd.h>

#include <fmt/core.h>

#include "harness.hpp"
#include "net/error.hpp"

namespace harness {

namespace {

constexpr std::size_t log_limit = 400;  // lines kept for the report

std::string_view fate_name(UdpFate fate) {
    switch (fate) {
    case UdpFate::forward: return "forwarded";
    case UdpFate::drop: return "DROPPED";
    case UdpFate::duplicate: return "DUPLICATED";
    case UdpFate::reorder: return "HELD BACK (reordered)";
    }
    return "?";
}

std::string describe_plan(const UdpLossPlan& plan) {
    auto script = [](const std::vector<UdpFate>& fates) {
        std::string text;
        for (const UdpFate fate : fates) {
            text += text.empty() ? "" : ", ";
            text += fate_name(fate);
        }
        return text.empty() ? std::string("-") : text;
    };
    return fmt::format("scripted client>server [{}], server>client [{}]; then drop {:.0f}%, duplicate {:.0f}%, "
                       "reorder {:.0f}% (random drops lose the same bytes at most {} time(s))",
                       script(plan.client_to_server), script(plan.server_to_client), plan.drop * 100,
                       plan.duplicate * 100, plan.reorder * 100, plan.max_random_drops_of_same_bytes);
}

net::Fd udp_socket(int family) {
    return net::Fd{net::check(::socket(family, SOCK_DGRAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0), "proxy socket")};
}

}  // namespace

UdpProxy::UdpProxy(std::uint16_t server_port, UdpLossPlan plan, std::string_view host)
    : plan_(std::move(plan)), seed_(test_seed(plan_.seed == 0 ? std::nullopt : std::optional<std::uint64_t>(plan_.seed))), random_(seed_) {
    const double total = plan_.drop + plan_.duplicate + plan_.reorder;
    if (plan_.drop < 0 || plan_.duplicate < 0 || plan_.reorder < 0 || total > 1.0) {
        throw std::invalid_argument("UdpLossPlan: probabilities must be at least 0 and add up to at most 1");
    }
    server_ = udp_address(server_port, host);
    const net::Address local = udp_address(0, host);

    front_ = udp_socket(local.family());
    net::check(::bind(front_.get(), local.get(), local.length), "proxy bind");
    address_ = net::local_address(front_.get());
    port_ = net::local_port(front_.get());

    // Connected: send() goes to the server, and only the server's datagrams arrive.
    back_ = udp_socket(local.family());
    net::check(::connect(back_.get(), server_.get(), server_.length), "proxy connect");

    int pipe_fds[2];
    net::check(::pipe2(pipe_fds, O_CLOEXEC | O_NONBLOCK), "proxy pipe2");
    wake_read_.reset(pipe_fds[0]);
    wake_write_.reset(pipe_fds[1]);

    to_server_.name = "client>server";
    to_server_.script = &plan_.client_to_server;
    to_client_.name = "server>client";
    to_client_.script = &plan_.server_to_client;
    thread_ = std::thread([this] { run(); });
}

UdpProxy::~UdpProxy() {
    const char stop = 's';
    (void)!::write(wake_write_.get(), &stop, 1);  // a full pipe means a wake-up is pending anyway
    thread_.join();
}

UdpProxyCounts UdpProxy::client_to_server() const {
    const std::lock_guard lock(mutex_);
    return to_server_.counts;
}

UdpProxyCounts UdpProxy::server_to_client() const {
    const std::lock_guard lock(mutex_);
    return to_client_.counts;
}

std::string UdpProxy::report() const {
    const std::lock_guard lock(mutex_);
    std::string text = fmt::format(
        "lossy UDP proxy {} -> server {}, seed {} (replay this run with WORKBOOK_SEED={})\n  plan: {}\n",
        net::to_string(address_), net::to_string(server_), seed_, seed_, describe_plan(plan_));
    for (const Direction* direction : {&to_server_, &to_client_}) {
        const UdpProxyCounts& c = direction->counts;
        text += fmt::format("  {}: {} received, {} forwarded, {} dropped, {} duplicated, {} reordered\n",
                            direction->name, c.received, c.forwarded, c.dropped, c.duplicated, c.reordered);
    }
    for (const std::string& line : log_) {
        text += fmt::format("  {}\n", line);
    }
    if (log_left_off_ > 0) {
        text += fmt::format("  ... and {} more events\n", log_left_off_);
    }
    return text;
}

std::ostream& operator<<(std::ostream& out, const UdpProxy& proxy) { return out << proxy.report(); }

void UdpProxy::send_to_client(std::string_view bytes) {
    const std::lock_guard lock(mutex_);
    note(fmt::format("the test injected {} bytes \"{}\" for the client", bytes.size(), escape(bytes, 40)));
    pass_on(to_client_, std::string(bytes));
}

void UdpProxy::note(std::string line) {
    if (log_.size() < log_limit) {
        log_.push_back(std::move(line));
    } else {
        ++log_left_off_;
    }
}

void UdpProxy::run() {
    pollfd watched[3] = {{front_.get(), POLLIN, 0}, {back_.get(), POLLIN, 0}, {wake_read_.get(), POLLIN, 0}};
    for (;;) {
        int timeout_ms = -1;
        {
            const std::lock_guard lock(mutex_);
            const auto now = std::chrono::steady_clock::now();
            for (const Direction* direction : {&to_server_, &to_client_}) {
                if (direction->holding) {
                    const auto left = std::chrono::ceil<std::chrono::milliseconds>(direction->release_at - now);
                    const int ms = static_cast<int>(std::max<std::int64_t>(left.count(), 0));
                    timeout_ms = timeout_ms < 0 ? ms : std::min(timeout_ms, ms);
                }
            }
        }
        if (::poll(watched, 3, timeout_ms) < 0) {
            if (errno == EINTR) {
                continue;
            }
            const std::lock_guard lock(mutex_);
            note(fmt::format("poll failed: {}; the proxy stopped", std::strerror(errno)));
            return;
        }
        if (watched[2].revents != 0) {
            return;  // the destructor asks us to stop
        }
        if (watched[0].revents != 0) {
            receive_all(front_.get(), to_server_);
        }
        if (watched[1].revents != 0) {
            receive_all(back_.get(), to_client_);
        }
        const std::lock_guard lock(mutex_);
        const auto now = std::chrono::steady_clock::now();
        for (Direction* direction : {&to_server_, &to_client_}) {
            if (direction->holding && direction->release_at <= now) {
                release_held(*direction, "after its hold time, nothing came by to overtake it");
            }
        }
    }
}

void UdpProxy::receive_all(int fd, Direction& direction) {
    static thread_local char buffer[65536];  // more than any UDP datagram
    for (;;) {
        net::Address from;
        from.length = sizeof from.storage;
        const ssize_t n = ::recvfrom(fd, buffer, sizeof buffer, MSG_DONTWAIT, from.get(), &from.length);
        if (n < 0) {
            if (errno == EINTR) {
                continue;
            }
            if (errno == EAGAIN || errno == EWOULDBLOCK) {
                return;
            }
            const int error = errno;
            const std::lock_guard lock(mutex_);
            // ECONNREFUSED: an earlier datagram to the server met a closed port (ICMP).
            note(fmt::format("{}: recv failed: {}", direction.name,
                             error == ECONNREFUSED ? "nothing listens at the server's port (ICMP port unreachable)"
                                                   : std::strerror(error)));
            if (error == ECONNREFUSED) {
                continue;  // the error is consumed; datagrams may still be queued
            }
            return;
        }
        const std::lock_guard lock(mutex_);
        if (&direction == &to_server_) {
            client_ = from;
        }
        handle(direction, std::string(buffer, static_cast<std::size_t>(n)));
    }
}

UdpFate UdpProxy::decide(Direction& direction, const std::string& bytes) {
    const std::size_t index = direction.counts.received;
    if (index < direction.script->size()) {
        return (*direction.script)[index];
    }
    // One draw per datagram, whatever it decides, so a seed replays exactly.
    const double draw = std::uniform_real_distribution<double>(0.0, 1.0)(random_);
    if (draw < plan_.drop) {
        int& lost = direction.random_drops[bytes];
        if (lost >= plan_.max_random_drops_of_same_bytes) {
            return UdpFate::forward;  // lost often enough: let this retransmission through
        }
        ++lost;
        return UdpFate::drop;
    }
    if (draw < plan_.drop + plan_.duplicate) {
        return UdpFate::duplicate;
    }
    if (draw < plan_.drop + plan_.duplicate + plan_.reorder) {
        return UdpFate::reorder;
    }
    return UdpFate::forward;
}

void UdpProxy::handle(Direction& direction, std::string bytes) {
    UdpFate fate = decide(direction, bytes);
    const std::size_t index = direction.counts.received++;
    if (fate == UdpFate::reorder && direction.holding) {
        fate = UdpFate::forward;  // one held datagram at a time; this one overtakes it
    }
    note(fmt::format("{} #{} ({} bytes \"{}\"): {}", direction.name, index, bytes.size(), escape(bytes, 40),
                     fate_name(fate)));
    switch (fate) {
    case UdpFate::drop:
        ++direction.counts.dropped;
        return;
    case UdpFate::reorder:
        ++direction.counts.reordered;
        direction.holding = true;
        direction.held = std::move(bytes);
        direction.held_index = index;
        direction.release_at = std::chrono::steady_clock::now() + plan_.reorder_hold;
        return;
    case UdpFate::duplicate:
        ++direction.counts.duplicated;
        pass_on(direction, bytes);
        pass_on(direction, bytes);
        break;
    case UdpFate::forward:
        pass_on(direction, bytes);
        break;
    }
    release_held(direction, fmt::format("after #{} overtook it", index));
}

void UdpProxy::pass_on(Direction& direction, const std::string& bytes) {
    ssize_t sent = 0;
    if (&direction == &to_server_) {
        sent = ::send(back_.get(), bytes.data(), bytes.size(), MSG_DONTWAIT);
    } else if (client_.length == 0) {
        note("  (no client has sent anything yet: nowhere to forward it)");
        return;
    } else {
        sent = ::sendto(front_.get(), bytes.data(), bytes.size(), MSG_DONTWAIT, client_.get(), client_.length);
    }
    if (sent < 0) {
        // Lost, as the network would lose it; the report says why.
        note(fmt::format("  ({} send failed: {})", direction.name, std::strerror(errno)));
        return;
    }
    ++direction.counts.forwarded;
}

void UdpProxy::release_held(Direction& direction, std::string_view why) {
    if (!direction.holding) {
        return;
    }
    direction.holding = false;
    note(fmt::format("{} #{} released {}", direction.name, direction.held_index, why));
    pass_on(direction, direction.held);
}

}  // namespace harness
