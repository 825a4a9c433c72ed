#pragma once
// Fixtures for tests/09-select-and-poll.cpp: the chat server under test on a
// thread (stopped like Ctrl-C), a chat client that reads whole lines with a
// deadline, and a room of clients that have all joined.

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <fcntl.h>
#include <memory>
#include <netinet/in.h>
#include <sys/socket.h>
#include <thread>
#include <unistd.h>
#include <stdexcept>
#include <string>
#include <string_view>
#include <sys/resource.h>
#include <vector>

#include <fmt/core.h>

#include "background.hpp"
#include "chat.hpp"
#include "harness.hpp"
#include "net/error.hpp"
#include "net/fd.hpp"

namespace fixtures {

using namespace std::chrono_literals;

// lesson09::serve on its own thread, on a kernel-chosen loopback port.
class ChatServer {
public:
    ChatServer()
        : server_([](int listener, const std::atomic<bool>& stop) { return lesson09::serve(listener, stop); }) {}

    [[nodiscard]] std::uint16_t port() const { return server_.port(); }
    // Stops it as Ctrl-C would; serve's result (clients accepted).
    std::size_t stop() { return server_.stop(); }

private:
    harness::BackgroundTcpServer server_;
};

// One chat client: sends, and reads whole lines, each wait with a deadline.
class Chatter {
public:
    explicit Chatter(std::uint16_t port, std::string nick = {})
        : client_(harness::Client::connect(port)), nick_(std::move(nick)) {}
    Chatter(harness::Client client, std::string nick) : client_(std::move(client)), nick_(std::move(nick)) {}

    [[nodiscard]] const std::string& nick() const { return nick_; }
    [[nodiscard]] harness::Client& client() { return client_; }

    void send(std::string_view bytes) { client_.send(bytes); }
    void say(std::string_view line) { client_.send(fmt::format("{}\n", line)); }

    // The next line from the server, without its '\n'. Timeout if none
    // comes in time; std::runtime_error if the server closes first.
    std::string line(harness::milliseconds timeout = harness::default_timeout) {
        const harness::Deadline deadline(timeout);
        for (;;) {
            const std::size_t newline = buffer_.find('\n');
            if (newline != std::string::npos) {
                std::string line = buffer_.substr(0, newline);
                buffer_.erase(0, newline + 1);
                return line;
            }
            const auto left = std::max(deadline.remaining(), harness::milliseconds(1));
            const std::string more = client_.recv_some(left);
            if (more.empty()) {
                throw std::runtime_error(fmt::format("{}: the server closed the connection (holding \"{}\")",
                                                     nick_, harness::escape(buffer_)));
            }
            buffer_ += more;
        }
    }

    // What the server sent after the last whole line, then EOF (or a reset).
    std::string rest_until_closed(harness::milliseconds timeout = harness::default_timeout) {
        const harness::Deadline deadline(timeout);
        for (;;) {
            std::string more;
            try {
                more = client_.recv_some(std::max(deadline.remaining(), harness::milliseconds(1)));
            } catch (const std::system_error&) {
                return buffer_;  // a reset: the server closed with our bytes unread
            }
            if (more.empty()) {
                return buffer_;
            }
            buffer_ += more;
        }
    }

private:
    harness::Client client_;
    std::string nick_;
    std::string buffer_;
};

// Clients c0, c1, ... that have all joined, in that order: each one's join
// is seen by the first before the next one connects (a member gets messages
// only once it has joined, so the first seeing "* cK joined" proves both).
inline std::vector<std::unique_ptr<Chatter>> join_room(std::uint16_t port, std::size_t count,
                                                        std::string_view prefix = "c") {
    std::vector<std::unique_ptr<Chatter>> room;
    for (std::size_t i = 0; i < count; ++i) {
        room.push_back(std::make_unique<Chatter>(port, fmt::format("{}{}", prefix, i)));
        room.back()->say(room.back()->nick());
        if (i > 0) {
            for (std::size_t earlier = 0; earlier < i; ++earlier) {
                const std::string seen = room[earlier]->line();
                if (seen != fmt::format("* {} joined", room.back()->nick())) {
                    throw std::runtime_error(fmt::format("{} expected \"* {} joined\", got \"{}\"",
                                                         room[earlier]->nick(), room.back()->nick(), seen));
                }
            }
        }
    }
    return room;
}

// ---- descriptor numbers -------------------------------------------------------

// A TCP socket not yet connected: its number is taken now.
inline net::Fd unconnected_socket() {
    return net::Fd{net::check(::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0), "socket")};
}

// Connects `socket` to 127.0.0.1:port (blocking: loopback answers at once).
inline harness::Client connect(net::Fd socket, std::uint16_t port) {
    sockaddr_in address{};
    address.sin_family = AF_INET;
    address.sin_port = htons(port);
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    net::check(::connect(socket.get(), reinterpret_cast<const sockaddr*>(&address), sizeof address), "connect");
    return harness::Client(std::move(socket));
}

// Resets the connection on `fd` (SO_LINGER {1, 0}) and puts /dev/null in its
// place with dup2, so that the number stays taken: the reset without the
// number coming free for the next socket() or accept().
inline void reset_keeping_number(int fd) {
    const linger abort{1, 0};
    net::check(::setsockopt(fd, SOL_SOCKET, SO_LINGER, &abort, sizeof abort), "setsockopt SO_LINGER");
    const net::Fd null{net::check(::open("/dev/null", O_RDONLY | O_CLOEXEC), "open /dev/null")};
    net::check(::dup3(null.get(), fd, O_CLOEXEC), "dup3");
}

// Waits until descriptor `fd` of this process (the server's, here) is closed.
inline void wait_until_closed(int fd, std::string_view step) {
    const harness::Deadline deadline(harness::default_timeout);
    while (::fcntl(fd, F_GETFD) >= 0) {
        if (deadline.expired()) {
            throw harness::Timeout(step, deadline.budget());
        }
        std::this_thread::sleep_for(1ms);  // a look at the kernel's table, like harness::wait_until_blocked
    }
}

// Holds descriptors open (on /dev/null) until every new one is numbered at
// least `lowest`, raising the soft RLIMIT_NOFILE if it is too low. Empty
// reason() when that worked; otherwise why not (the hard limit is too low).
class FdBallast {
public:
    explicit FdBallast(int lowest) {
        rlimit limit{};
        net::check(::getrlimit(RLIMIT_NOFILE, &limit), "getrlimit");
        const auto needed = static_cast<rlim_t>(lowest + 200);
        if (limit.rlim_cur < needed) {
            if (limit.rlim_max != RLIM_INFINITY && limit.rlim_max < needed) {
                reason_ = fmt::format("RLIMIT_NOFILE hard limit is {}, below {}", limit.rlim_max, needed);
                return;
            }
            limit.rlim_cur = needed;
            net::check(::setrlimit(RLIMIT_NOFILE, &limit), "setrlimit");
        }
        for (;;) {
            net::Fd fd{net::check(::open("/dev/null", O_RDONLY | O_CLOEXEC), "open /dev/null")};
            const bool high_enough = fd.get() >= lowest - 1;
            held_.push_back(std::move(fd));
            if (high_enough) {
                break;
            }
        }
    }
    [[nodiscard]] const std::string& reason() const { return reason_; }

private:
    std::vector<net::Fd> held_;
    std::string reason_;
};

}  // namespace fixtures
