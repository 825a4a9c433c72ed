// Reference solution for exercise 09 — a poll() chat server on one thread.
#include "chat.hpp"

#include <cerrno>
#include <map>
#include <poll.h>
#include <string>
#include <sys/socket.h>
#include <system_error>
#include <utility>
#include <vector>

#include "net/error.hpp"
#include "net/fd.hpp"
#include "net/stream.hpp"
#include "net/tcp.hpp"

namespace lesson09 {

Lines take_lines(std::string& pending, std::string_view received) {
    Lines lines;
    pending.append(received);
    std::size_t start = 0;
    for (;;) {
        const std::size_t newline = pending.find('\n', start);
        if (newline == std::string::npos) {
            break;
        }
        std::size_t end = newline;
        if (end > start && pending[end - 1] == '\r') {
            --end;
        }
        if (end - start > max_line) {
            lines.too_long = true;
            return lines;
        }
        lines.complete.emplace_back(pending, start, end - start);
        start = newline + 1;
    }
    pending.erase(0, start);
    // The unfinished rest may still end in '\r' before its '\n' arrives.
    if (pending.size() > max_line + 1 || (pending.size() == max_line + 1 && pending.back() != '\r')) {
        lines.too_long = true;
    }
    return lines;
}

namespace {

// What the loop remembers about one client between two poll() calls.
struct Member {
    net::Fd socket;
    std::string nick;     // "" until its first non-empty line
    std::string pending;  // the start of a line whose '\n' has not come yet
};

// Every client, by descriptor. Erasing a member erases its state with it, so
// a new client that gets the same descriptor number starts afresh.
class Room {
public:
    void add(net::Fd client) {
        const int fd = client.get();
        members_.insert_or_assign(fd, Member{std::move(client), {}, {}});
    }

    [[nodiscard]] std::vector<int> sockets() const {
        std::vector<int> fds;
        fds.reserve(members_.size());
        for (const auto& [fd, member] : members_) {
            fds.push_back(fd);
        }
        return fds;
    }

    // poll() said `fd` is readable, hung up or in error: one recv() tells which.
    void on_readable(int fd) {
        const auto found = members_.find(fd);
        if (found == members_.end()) {
            return;  // it left earlier in this turn (a failed broadcast)
        }
        Member& member = found->second;
        char buffer[4096];
        const ssize_t n = ::recv(fd, buffer, sizeof buffer, 0);
        if (n < 0 && errno == EINTR) {
            return;  // poll() will report it again
        }
        if (n <= 0) {
            leave(fd);  // 0: EOF; -1: a reset or another error on this client only
            flush_departures();
            return;
        }
        const Lines lines = take_lines(member.pending, std::string_view(buffer, static_cast<std::size_t>(n)));
        for (const std::string& line : lines.complete) {
            if (!line.empty() && !departing(fd)) {
                said(fd, line);
            }
        }
        if (lines.too_long && !departing(fd)) {
            deliver(fd, "ERR line too long\n");
            leave(fd);
        }
        flush_departures();
    }

private:
    void said(int fd, const std::string& line) {
        Member& member = members_.at(fd);
        if (member.nick.empty()) {
            member.nick = line;
            broadcast(fd, "* " + line + " joined\n");
        } else {
            broadcast(fd, member.nick + ": " + line + "\n");
        }
    }

    // To every member with a nick but `from`, in descriptor order.
    void broadcast(int from, const std::string& message) {
        for (auto& [fd, member] : members_) {
            if (fd != from && !member.nick.empty() && !departing(fd)) {
                deliver(fd, message);
            }
        }
    }

    // A blocking send; a member whose socket fails is on its way out.
    void deliver(int fd, const std::string& message) {
        try {
            net::send_all(fd, message);
        } catch (const std::system_error&) {
            leave(fd);
        }
    }

    // Members are removed only between sends, never while broadcast() walks them.
    void leave(int fd) {
        if (!departing(fd)) {
            departures_.push_back(fd);
        }
    }
    [[nodiscard]] bool departing(int fd) const {
        for (const int gone : departures_) {
            if (gone == fd) {
                return true;
            }
        }
        return false;
    }

    // Closes everyone who left and tells the others; telling them may find
    // more who have left, so this runs until nobody is left to remove.
    void flush_departures() {
        while (!departures_.empty()) {
            const int fd = departures_.front();
            const std::string nick = members_.at(fd).nick;
            if (!nick.empty()) {
                broadcast(fd, "* " + nick + " left\n");
            }
            members_.erase(fd);  // closes the socket, forgets nick and pending bytes
            departures_.erase(departures_.begin());
        }
    }

    std::map<int, Member> members_;
    std::vector<int> departures_;
};

}  // namespace

std::size_t serve(int listener, const std::atomic<bool>& stop) {
    Room room;
    std::size_t accepted = 0;
    std::vector<pollfd> watched;
    while (!stop) {
        // The listener first, then every client: rebuilt each turn, since
        // the room changes between turns.
        watched.assign(1, pollfd{listener, POLLIN, 0});
        for (const int fd : room.sockets()) {
            watched.push_back(pollfd{fd, POLLIN, 0});
        }
        if (::poll(watched.data(), watched.size(), -1) < 0) {
            if (errno == EINTR) {
                continue;  // a signal: the loop condition decides
            }
            net::throw_errno("poll");
        }
        for (std::size_t i = 1; i < watched.size(); ++i) {
            // POLLHUP and POLLERR come whether asked for or not: recv() says what happened.
            if ((watched[i].revents & (POLLIN | POLLHUP | POLLERR)) != 0) {
                room.on_readable(watched[i].fd);
            }
        }
        if ((watched[0].revents & POLLIN) != 0) {
            const int fd = ::accept4(listener, nullptr, nullptr, SOCK_CLOEXEC);
            if (fd < 0) {
                const int err = errno;
                if (err != EINTR && !net::is_per_client_accept_error(err)) {
                    net::throw_errno("accept", err);
                }
                continue;  // that client is gone (or a signal): next turn
            }
            room.add(net::Fd{fd});
            ++accepted;
        }
    }
    return accepted;
}

}  // namespace lesson09
