// The chat room's per-client state and its broadcast.
#include "chat-room.hpp"

#include <cerrno>
#include <cstring>
#include <string_view>
#include <sys/socket.h>
#include <system_error>
#include <utility>

#include "net/log.hpp"
#include "net/stream.hpp"

namespace chat {

void ChatRoom::add(net::Fd client, const net::Address& peer) {
    const int fd = client.get();
    // A new Member: a client that reuses a departed one's descriptor number
    // must not inherit its nick or its half-received line.
    members_.insert_or_assign(fd, Member{std::move(client), net::to_string(peer), {}, {}});
}

std::vector<int> ChatRoom::sockets() const {
    std::vector<int> fds;
    for (const auto& [fd, member] : members_) {
        fds.push_back(fd);
    }
    return fds;
}

void ChatRoom::readable(int fd) {
    const auto found = members_.find(fd);
    if (found == members_.end()) {
        return;  // it left earlier in this turn (a send to it failed)
    }
    Member& member = found->second;
    char buffer[4096];
    // Exactly one recv(): poll() promised it will not block. A second might.
    const ssize_t n = ::recv(fd, buffer, sizeof buffer, 0);
    if (n < 0 && errno == EINTR) {
        return;  // poll() will say so again
    }
    if (n <= 0) {
        const std::string why = n == 0 ? "recv() = 0: EOF" : fmt::format("recv: {}", std::strerror(errno));
        leave(fd, why);
        close_departed();
        return;
    }
    say_.step("recv(fd {}) = {}", fd, net::plural(n, "byte"));

    // TCP brings bytes, not lines: this may be half a line, or several.
    member.pending.append(buffer, static_cast<std::size_t>(n));
    std::size_t start = 0;
    std::size_t newline = 0;
    while (!departed_.contains(fd) && (newline = member.pending.find('\n', start)) != std::string::npos) {
        std::size_t end = newline;
        if (end > start && member.pending[end - 1] == '\r') {
            --end;  // telnet and Windows send "\r\n"
        }
        if (end - start > max_line) {
            break;  // too long: handled below
        }
        if (end > start) {
            line(member, member.pending.substr(start, end - start));
        }
        start = newline + 1;
    }
    member.pending.erase(0, start);
    // Without a limit, a client that never sends '\n' grows this buffer forever.
    if (!departed_.contains(fd) && member.pending.size() > max_line + 1) {
        deliver(fd, "ERR line too long\n");
        leave(fd, fmt::format("a line over {} bytes", max_line));
    }
    close_departed();
}

void ChatRoom::line(Member& member, const std::string& text) {
    if (member.nick.empty()) {
        member.nick = text;
        net::log::good("{} joined as {}", member.peer, member.nick);
        broadcast(member.socket.get(), fmt::format("* {} joined\n", member.nick));
        return;
    }
    broadcast(member.socket.get(), fmt::format("{}: {}\n", member.nick, text));
}

// To everyone in the room but the sender, one blocking send() each. A member
// that does not read stalls this loop once its buffers are full: chapter 09
// shows it happen, lesson 10 fixes it.
void ChatRoom::broadcast(int from, const std::string& message) {
    std::size_t told = 0;
    for (const auto& [fd, member] : members_) {
        if (fd != from && !member.nick.empty() && !departed_.contains(fd)) {
            deliver(fd, message);
            ++told;
        }
    }
    say_.step("broadcast {} to {}", net::plural(message.size(), "byte"), net::plural(told, "member"));
}

void ChatRoom::deliver(int fd, const std::string& message) {
    try {
        net::send_all(fd, message);  // MSG_NOSIGNAL: a member who left is EPIPE, not SIGPIPE
    } catch (const std::system_error& error) {
        leave(fd, error.what());
    }
}

// Members leave only between broadcasts: erasing one while broadcast()
// walks the map would pull the floor from under it.
void ChatRoom::leave(int fd, const std::string& why) {
    departed_.try_emplace(fd, why);
}

void ChatRoom::close_departed() {
    while (!departed_.empty()) {
        const auto [fd, why] = *departed_.begin();
        const auto found = members_.find(fd);
        const std::string nick = found->second.nick;
        net::log::info("{} ({}) left: {}", found->second.peer, nick.empty() ? "no nick yet" : nick, why);
        members_.erase(found);  // closes the socket; the number is free for the next accept()
        say_.step("close(fd {})", fd);
        if (!nick.empty()) {
            broadcast(fd, fmt::format("* {} left\n", nick));  // may find more who left
        }
        departed_.erase(fd);
    }
}

}  // namespace chat
