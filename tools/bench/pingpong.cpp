#include "pingpong.hpp"

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <sys/epoll.h>
#include <sys/socket.h>

#include <fmt/core.h>

#include "net/error.hpp"

namespace bench {

namespace {

// One connection's message in flight. Its bytes depend on the connection and
// on the round trip's number, so an echo of an old message, of another
// connection's message or of a shifted stream is caught, not just a short one.
struct Connection {
    int fd = -1;
    std::uint64_t sequence = 0;
    std::vector<unsigned char> message;
    std::size_t sent = 0;
    std::size_t received = 0;
    Clock::time_point started;
    std::uint64_t completed = 0;  // round trips, warm-up included
    bool writing = false;         // EPOLLOUT wanted: the last send() was short
    bool done = false;            // ended by an error
};

void fill_message(Connection& connection, std::uint64_t index) {
    std::uint64_t state = (index << 40) ^ connection.sequence;
    auto& bytes = connection.message;
    for (std::size_t i = 0; i < bytes.size(); i += 8) {
        const std::uint64_t word = mix(state);
        std::memcpy(bytes.data() + i, &word, std::min<std::size_t>(8, bytes.size() - i));
    }
}

class Loop {
public:
    Loop(const std::vector<net::Fd>& fds, const PingpongOptions& options)
        : epoll_{net::check(::epoll_create1(EPOLL_CLOEXEC), "epoll_create1")}, scratch_(64 * 1024) {
        connections_.resize(fds.size());
        for (std::size_t i = 0; i < fds.size(); ++i) {
            connections_[i].fd = fds[i].get();
            connections_[i].message.resize(options.message_size);
            epoll_event interest{};
            interest.events = EPOLLIN;
            interest.data.u64 = i;
            net::check(::epoll_ctl(epoll_.get(), EPOLL_CTL_ADD, fds[i].get(), &interest), "epoll_ctl");
        }
    }

    PingpongResult run(const PingpongOptions& options) {
        const auto start = Clock::now();
        measure_from_ = start + options.warmup;
        const auto end = measure_from_ + options.measure;
        for (std::size_t i = 0; i < connections_.size(); ++i) {
            begin_round_trip(i, start);
        }
        std::vector<epoll_event> events(std::min<std::size_t>(connections_.size(), 1024));
        while (Clock::now() < end) {
            const int ready = ::epoll_wait(epoll_.get(), events.data(), static_cast<int>(events.size()), milliseconds_until(end));
            if (ready < 0) {
                if (errno == EINTR) {
                    continue;
                }
                net::throw_errno("epoll_wait");
            }
            for (int e = 0; e < ready; ++e) {
                const std::size_t i = events[static_cast<std::size_t>(e)].data.u64;
                if ((events[static_cast<std::size_t>(e)].events & (EPOLLIN | EPOLLERR | EPOLLHUP)) != 0) {
                    on_readable(i);
                }
                if (!connections_[i].done && connections_[i].writing
                    && (events[static_cast<std::size_t>(e)].events & EPOLLOUT) != 0) {
                    send_some(i);
                }
            }
        }
        result_.seconds = std::chrono::duration<double>(end - measure_from_).count();
        for (const Connection& connection : connections_) {
            result_.unanswered += connection.completed == 0 ? 1 : 0;
            result_.failed += connection.done ? 1 : 0;
        }
        result_.latencies_ns = latencies_.take_sorted();
        return std::move(result_);
    }

private:
    void begin_round_trip(std::size_t i, Clock::time_point now) {
        Connection& connection = connections_[i];
        ++connection.sequence;
        fill_message(connection, i);
        connection.sent = 0;
        connection.received = 0;
        connection.started = now;
        send_some(i);
    }

    void send_some(std::size_t i) {
        Connection& connection = connections_[i];
        while (connection.sent < connection.message.size()) {
            const ssize_t n = ::send(connection.fd, connection.message.data() + connection.sent,
                                     connection.message.size() - connection.sent, MSG_NOSIGNAL);
            if (n < 0) {
                if (errno == EINTR) {
                    continue;
                }
                if (errno == EAGAIN) {
                    break;
                }
                fail(i, fmt::format("send: {}", std::strerror(errno)));
                return;
            }
            connection.sent += static_cast<std::size_t>(n);
        }
        const bool want_out = connection.sent < connection.message.size();
        if (want_out != connection.writing) {
            connection.writing = want_out;
            epoll_event interest{};
            interest.events = EPOLLIN | (want_out ? EPOLLOUT : 0U);
            interest.data.u64 = i;
            net::check(::epoll_ctl(epoll_.get(), EPOLL_CTL_MOD, connection.fd, &interest), "epoll_ctl");
        }
    }

    void on_readable(std::size_t i) {
        Connection& connection = connections_[i];
        if (connection.done) {
            return;
        }
        // Never read past the message in flight: anything more would be bytes the
        // server made up, and they are caught as the next message's first bytes.
        const std::size_t wanted = std::min(scratch_.size(), connection.message.size() - connection.received);
        const ssize_t n = ::recv(connection.fd, scratch_.data(), wanted, 0);
        if (n < 0) {
            if (errno != EINTR && errno != EAGAIN) {
                fail(i, fmt::format("recv: {}", std::strerror(errno)));
            }
            return;
        }
        if (n == 0) {
            fail(i, fmt::format("the server closed the connection after {} round trips", connection.completed));
            return;
        }
        const auto count = static_cast<std::size_t>(n);
        const unsigned char* expected = connection.message.data() + connection.received;
        if (std::memcmp(scratch_.data(), expected, count) != 0) {
            std::size_t at = 0;
            while (scratch_[at] == expected[at]) {
                ++at;
            }
            ++result_.mismatches;
            fail(i, fmt::format("round trip {}: byte {} of the echo is {:#04x}, {:#04x} was sent", connection.sequence,
                                connection.received + at, scratch_[at], expected[at]));
            return;
        }
        connection.received += count;
        if (connection.received < connection.message.size()) {
            return;
        }
        const auto now = Clock::now();
        ++connection.completed;
        if (connection.started >= measure_from_) {
            ++result_.round_trips;
            latencies_.record(static_cast<std::uint64_t>(
                std::chrono::duration_cast<std::chrono::nanoseconds>(now - connection.started).count()));
        }
        begin_round_trip(i, now);
    }

    void fail(std::size_t i, std::string what) {
        Connection& connection = connections_[i];
        connection.done = true;
        ::epoll_ctl(epoll_.get(), EPOLL_CTL_DEL, connection.fd, nullptr);  // fd stays open: no error possible
        if (result_.first_error.empty()) {
            result_.first_error = fmt::format("connection {}: {}", i + 1, what);
        }
    }

    net::Fd epoll_;
    std::vector<Connection> connections_;
    std::vector<unsigned char> scratch_;
    Clock::time_point measure_from_;
    Latencies latencies_;
    PingpongResult result_;
};

}  // namespace

PingpongResult run_pingpong(const std::vector<net::Fd>& connections, const PingpongOptions& options) {
    Loop loop(connections, options);
    return loop.run(options);
}

}  // namespace bench
