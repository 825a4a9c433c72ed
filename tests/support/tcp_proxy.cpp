#include "tcp_proxy.hpp"

#include <algorithm>
#include <cerrno>
#include <charconv>
#include <cstdlib>
#include <cstring>
#include <fcntl.h>
#include <future>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <random>
#include <stdexcept>
#include <sys/socket.h>
#include <unistd.h>
#include <vector>

#include <fmt/core.h>

#include "interrupts.hpp"
#include "net/error.hpp"
#include "net/tcp.hpp"
#include "net/address.hpp"

namespace harness {

namespace {

using Clock = std::chrono::steady_clock;

constexpr std::size_t read_chunk = 64 * 1024;
constexpr std::size_t buffer_limit = 256 * 1024;  // stop reading a side while this much waits

void set_nonblocking(int fd) {
    const int flags = net::check(::fcntl(fd, F_GETFL), "fcntl F_GETFL");
    net::check(::fcntl(fd, F_SETFL, flags | O_NONBLOCK), "fcntl F_SETFL");
}

// Small pieces must leave as separate segments, not be merged by Nagle.
void set_nodelay(int fd) {
    const int on = 1;
    net::check(::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &on, sizeof on), "setsockopt TCP_NODELAY");
}

void reset_and_close(net::Fd& fd) {
    if (fd) {
        const linger reset{1, 0};
        ::setsockopt(fd.get(), SOL_SOCKET, SO_LINGER, &reset, sizeof reset);
        fd.reset();
    }
}

// Bytes travelling one way: read from `from`, waiting to be sent to `to`.
struct Direction {
    std::string buffer;
    std::size_t start = 0;  // bytes before this were sent already
    bool source_open = true;
    bool shut = false;      // we sent the EOF on (shutdown SHUT_WR)
    Clock::time_point ready_at{};

    [[nodiscard]] std::size_t pending() const { return buffer.size() - start; }
    void consume(std::size_t n) {
        start += n;
        if (start == buffer.size() || start > read_chunk) {
            buffer.erase(0, start);
            start = 0;
        }
    }
};

struct Link {
    net::Fd client;
    net::Fd server;
    Direction up;    // client → server
    Direction down;  // server → client
    bool broken = false;
    [[nodiscard]] bool finished() const { return broken || (up.shut && down.shut); }
};

struct Counters {
    std::atomic<std::size_t>& received;
    std::atomic<std::size_t>& forwarded;
    std::atomic<std::size_t>& sends;
    std::atomic<std::size_t>& largest;
};

bool is_fatal_socket_error(int error) { return error != EAGAIN && error != EWOULDBLOCK && error != EINTR; }

// One recv from `from` into the direction's buffer. False: the link broke.
bool pull(int from, Direction& way, const Counters& counters) {
    char chunk[read_chunk];
    const ssize_t n = ::recv(from, chunk, sizeof chunk, MSG_DONTWAIT);
    if (n < 0) {
        return !is_fatal_socket_error(errno);
    }
    if (n == 0) {
        way.source_open = false;
        return true;
    }
    way.buffer.append(chunk, static_cast<std::size_t>(n));
    counters.received += static_cast<std::size_t>(n);
    return true;
}

// One send of a randomly sized piece to `to`. False: the link broke.
bool push(int to, Direction& way, const ProxyOptions& options, std::mt19937_64& random, const Counters& counters) {
    const std::size_t pending = way.pending();
    std::size_t piece = 0;
    if (random() % 100 < options.coalesce_percent) {
        // Everything that piled up (often several of the sender's writes),
        // up to a random 1-16 KiB so that big transfers still get cut often.
        piece = std::min(pending, std::uniform_int_distribution<std::size_t>(1024, 16 * 1024)(random));
    } else {
        piece = std::uniform_int_distribution<std::size_t>(options.min_piece, options.max_piece)(random);
    }
    piece = std::clamp<std::size_t>(piece, 1, pending);
    const ssize_t n = ::send(to, way.buffer.data() + way.start, piece, MSG_NOSIGNAL | MSG_DONTWAIT);
    if (n < 0) {
        return !is_fatal_socket_error(errno);
    }
    way.consume(static_cast<std::size_t>(n));
    counters.forwarded += static_cast<std::size_t>(n);
    counters.sends += 1;
    std::size_t largest = counters.largest.load();
    while (static_cast<std::size_t>(n) > largest && !counters.largest.compare_exchange_weak(largest, static_cast<std::size_t>(n))) {
    }
    if (options.max_delay.count() > 0) {
        way.ready_at = Clock::now() + std::chrono::microseconds(std::uniform_int_distribution<std::int64_t>(
                                          0, options.max_delay.count())(random));
    }
    return true;
}

// After the source's EOF and the last byte, pass the EOF on (half-close).
void pass_eof(int to, Direction& way) {
    if (!way.source_open && way.pending() == 0 && !way.shut) {
        ::shutdown(to, SHUT_WR);
        way.shut = true;
    }
}

}  // namespace

TcpProxy::TcpProxy(std::uint16_t target_port, ProxyOptions options, std::string_view host)
    : listener_(net::listen_tcp(host, 0)), port_(net::local_port(listener_.get())), seed_(test_seed(options.seed)) {
    if (options.min_piece == 0 || options.max_piece < options.min_piece || options.coalesce_percent > 100) {
        throw std::invalid_argument("ProxyOptions: need 1 <= min_piece <= max_piece and coalesce_percent <= 100");
    }
    int pipe_fds[2];
    net::check(::pipe2(pipe_fds, O_NONBLOCK | O_CLOEXEC), "pipe2");
    wake_read_.reset(pipe_fds[0]);
    wake_write_.reset(pipe_fds[1]);
    set_nonblocking(listener_.get());
    options.seed = seed_;
    thread_ = std::thread([this, target_port, host = std::string(host), options] { run(target_port, host, options); });
}

TcpProxy::~TcpProxy() {
    stop_.store(true);
    wake();
    thread_.join();
}

void TcpProxy::wake() const noexcept {
    const char byte = 1;
    [[maybe_unused]] const ssize_t ignored = ::write(wake_write_.get(), &byte, 1);  // a full pipe is awake already
}

void TcpProxy::pause() {
    paused_.store(true);
    wake();
}

void TcpProxy::resume() {
    paused_.store(false);
    wake();
}

std::string TcpProxy::error() const { return error_set_.load(std::memory_order_acquire) ? error_ : std::string(); }

std::string TcpProxy::describe() const {
    std::string text = fmt::format(
        "re-chunking proxy on port {}, seed {} (replay this run with WORKBOOK_SEED={}); "
        "it forwarded {} of the {} bytes it received, in {} sends (the largest {} bytes)",
        port_, seed_, seed_, bytes_forwarded(), bytes_received(), sends(), largest_send());
    if (const std::string problem = error(); !problem.empty()) {
        text += fmt::format("; proxy error: {}", problem);
    }
    return text;
}

std::ostream& operator<<(std::ostream& out, const TcpProxy& proxy) { return out << proxy.describe(); }

void TcpProxy::run(std::uint16_t target_port, std::string host, ProxyOptions options) {
    std::mt19937_64 random(seed_);
    const Counters counters{bytes_received_, bytes_forwarded_, sends_, largest_send_};
    std::vector<Link> links;
    const auto record = [this](std::string what) {
        if (!error_set_.load()) {
            error_ = std::move(what);
            error_set_.store(true, std::memory_order_release);
        }
    };
    try {
        std::vector<pollfd> polled;
        while (!stop_.load()) {
            const auto now = Clock::now();
            const bool paused = paused_.load();
            auto next_ready = Clock::time_point::max();
            const auto sendable = [&](const Direction& way) {
                if (paused || way.pending() == 0) {
                    return false;
                }
                if (way.ready_at > now) {
                    next_ready = std::min(next_ready, way.ready_at);
                    return false;
                }
                return true;
            };
            const auto events = [&](const Direction& reading, const Direction& writing) {
                short wanted = 0;
                if (reading.source_open && reading.pending() < buffer_limit) {
                    wanted |= POLLIN;
                }
                if (sendable(writing)) {
                    wanted |= POLLOUT;
                }
                return wanted;
            };
            polled.clear();
            polled.push_back({wake_read_.get(), POLLIN, 0});
            polled.push_back({listener_.get(), POLLIN, 0});
            for (const Link& link : links) {
                // A socket done both ways is left out (fd -1): poll would
                // report its hang-up again and again.
                const bool client_active = link.up.source_open || !link.down.shut;
                const bool server_active = link.down.source_open || !link.up.shut;
                polled.push_back({client_active ? link.client.get() : -1, events(link.up, link.down), 0});
                polled.push_back({server_active ? link.server.get() : -1, events(link.down, link.up), 0});
            }
            timespec timeout{};
            timespec* wait = nullptr;
            if (next_ready != Clock::time_point::max()) {
                const auto left = std::chrono::duration_cast<std::chrono::nanoseconds>(next_ready - now);
                timeout.tv_sec = static_cast<time_t>(left.count() / 1'000'000'000);
                timeout.tv_nsec = static_cast<long>(left.count() % 1'000'000'000);
                wait = &timeout;
            }
            if (::ppoll(polled.data(), polled.size(), wait, nullptr) < 0) {
                if (errno == EINTR) {
                    continue;
                }
                net::throw_errno("proxy poll");
            }
            if (polled[0].revents != 0) {
                char drain[64];
                while (::read(wake_read_.get(), drain, sizeof drain) > 0) {
                }
            }
            for (std::size_t i = 0; i < links.size(); ++i) {
                Link& link = links[i];
                const short client_events = polled[2 + 2 * i].revents;
                const short server_events = polled[3 + 2 * i].revents;
                bool ok = true;
                const std::size_t before = link.up.pending() + link.down.pending();
                const bool up_open = link.up.source_open;
                const bool down_open = link.down.source_open;
                if (client_events & (POLLIN | POLLHUP | POLLERR)) {
                    ok = ok && (!link.up.source_open || pull(link.client.get(), link.up, counters));
                }
                if (server_events & (POLLIN | POLLHUP | POLLERR)) {
                    ok = ok && (!link.down.source_open || pull(link.server.get(), link.down, counters));
                }
                if (ok && (server_events & (POLLOUT | POLLERR)) && sendable(link.up)) {
                    ok = push(link.server.get(), link.up, options, random, counters);
                }
                if (ok && (client_events & (POLLOUT | POLLERR)) && sendable(link.down)) {
                    ok = push(link.client.get(), link.down, options, random, counters);
                }
                if (ok) {
                    pass_eof(link.server.get(), link.up);
                    pass_eof(link.client.get(), link.down);
                }
                // A hung-up socket we could make no progress on would wake
                // poll forever: treat the link as broken rather than spin.
                const bool progress = before != link.up.pending() + link.down.pending() ||
                                      up_open != link.up.source_open || down_open != link.down.source_open;
                const bool hung_up = ((client_events | server_events) & (POLLHUP | POLLERR)) != 0;
                if (!ok || (hung_up && !progress && !link.finished())) {
                    link.broken = true;
                    reset_and_close(link.client);  // the other side learns it as a reset
                    reset_and_close(link.server);
                }
            }
            std::erase_if(links, [](const Link& link) { return link.finished(); });

            if (polled[1].revents & POLLIN) {
                net::Fd accepted{::accept4(listener_.get(), nullptr, nullptr, SOCK_CLOEXEC | SOCK_NONBLOCK)};
                if (accepted) {
                    try {
                        net::Fd upstream = net::connect_tcp(host, target_port, std::chrono::seconds(2));
                        set_nonblocking(upstream.get());
                        set_nodelay(upstream.get());
                        set_nodelay(accepted.get());
                        links.push_back(Link{std::move(accepted), std::move(upstream), {}, {}, false});
                    } catch (const std::system_error& error) {
                        record(fmt::format("could not reach the server behind the proxy: {}", error.what()));
                        reset_and_close(accepted);
                    }
                }
            }
        }
    } catch (const std::exception& error) {
        record(error.what());
    }
}

}  // namespace harness
