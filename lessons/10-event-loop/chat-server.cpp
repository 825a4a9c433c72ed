// chat-server — lesson 09's chat on the epoll loop, with output buffers.
//
//     chat-server --port 5000        then, in two or more terminals:  nc 127.0.0.1 5000
//
// The protocol is lesson 09's: the first line is your nick, every later line
// goes to everyone else. What changed is the sending. Lesson 09 called a
// blocking send() for each member, so one member who stopped reading froze the
// whole room. Here a broadcast only appends to each member's output buffer and
// sends what the kernel takes now; the rest goes out when epoll says EPOLLOUT.
// A member whose unsent bytes pass --output-limit is not reading: it is dropped,
// as the room cannot wait for it, nor keep everybody's lines for it forever.
#include <sys/epoll.h>
#include <sys/socket.h>

#include <cerrno>
#include <chrono>
#include <cstring>
#include <fcntl.h>
#include <map>
#include <string>

#include "net/address.hpp"
#include "net/args.hpp"
#include "net/error.hpp"
#include "net/event_loop.hpp"
#include "net/fd.hpp"
#include "net/log.hpp"
#include "net/signals.hpp"
#include "net/tcp.hpp"

namespace {

using Clock = net::EventLoop::Clock;
using std::chrono::milliseconds;

constexpr std::size_t max_line = 1024;  // as in lesson 09: a longer line gets "ERR line too long"

struct Member {
    net::Fd socket;
    std::string peer;
    std::string nick;              // "" until its first line
    std::string input;             // bytes after the last '\n'
    std::string output;            // lines the kernel has not taken yet
    std::uint32_t watching = 0;    // what epoll watches it for now
    Clock::time_point last_heard;  // for --idle-timeout
    bool leaving = false;          // closed after this turn, once no loop walks the members
};

class ChatRoom {
public:
    ChatRoom(net::EventLoop& loop, int listener, std::size_t output_limit, milliseconds idle, bool quiet)
        : loop_(loop), listener_(listener), output_limit_(output_limit), idle_(idle), quiet_(quiet) {
        loop_.watch(listener_, EPOLLIN, [this](std::uint32_t) { accept_one(); });
    }

private:
    void accept_one() {
        net::Address peer;
        peer.length = sizeof peer.storage;
        const int fd = ::accept4(listener_, peer.get(), &peer.length, SOCK_NONBLOCK | SOCK_CLOEXEC);
        if (fd < 0) {
            if (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR && !net::is_per_client_accept_error(errno)) {
                net::throw_errno("accept4");
            }
            return;  // level-triggered: if another client waits, epoll says so again
        }
        Member& member = members_.insert_or_assign(fd, Member{}).first->second;
        member.socket.reset(fd);
        member.peer = net::to_string(peer);
        member.last_heard = Clock::now();
        say("accept4() = {} from {} (non-blocking)", fd, member.peer);
        loop_.watch(fd, EPOLLIN, [this, fd](std::uint32_t events) { on_ready(fd, events); });
        member.watching = EPOLLIN;
        if (idle_.count() > 0) {
            check_idle(fd, member.last_heard);
        }
    }

    void on_ready(int fd, std::uint32_t events) {
        Member& member = members_.at(fd);
        if ((events & EPOLLOUT) != 0) {
            flush(member);
        }
        if (!member.leaving && (events & (EPOLLIN | EPOLLHUP | EPOLLERR)) != 0) {
            receive(member);
        }
        update_interest(member);
    }

    // One recv (level-triggered: more waiting means another report), then every whole line.
    void receive(Member& member) {
        char buffer[4096];
        const ssize_t n = ::recv(member.socket.get(), buffer, sizeof buffer, 0);
        if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR)) {
            return;
        }
        if (n <= 0) {
            return leave(member, n == 0 ? std::string{"recv() = 0: EOF"} : fmt::format("recv: {}", std::strerror(errno)));
        }
        say("recv({}) = {}", member.socket.get(), net::plural(n, "byte"));
        member.last_heard = Clock::now();
        member.input.append(buffer, static_cast<std::size_t>(n));
        std::size_t start = 0;
        for (std::size_t newline; !member.leaving && (newline = member.input.find('\n', start)) != std::string::npos;
             start = newline + 1) {
            std::string text = member.input.substr(start, newline - start);
            if (!text.empty() && text.back() == '\r') {
                text.pop_back();
            }
            if (text.size() > max_line) {
                break;
            }
            if (!text.empty()) {
                line(member, text);
            }
        }
        member.input.erase(0, start);
        if (!member.leaving && member.input.size() > max_line + 1) {
            send_to(member, "ERR line too long\n");
            leave(member, fmt::format("a line over {} bytes", max_line));
        }
    }

    void line(Member& member, const std::string& text) {
        if (member.nick.empty()) {
            member.nick = text;
            net::log::good("{} joined as {}", member.peer, member.nick);
            return broadcast(member, fmt::format("* {} joined\n", member.nick));
        }
        broadcast(member, fmt::format("{}: {}\n", member.nick, text));
    }

    // Never waits for anyone: each member gets the line in its buffer, and
    // as much of the buffer as its socket takes right now.
    void broadcast(const Member& from, const std::string& message) {
        std::size_t told = 0;
        for (auto& [fd, member] : members_) {
            if (&member != &from && !member.nick.empty() && !member.leaving) {
                send_to(member, message);
                update_interest(member);
                ++told;
            }
        }
        say("broadcast {} to {}", net::plural(message.size(), "byte"), net::plural(told, "member"));
    }

    void send_to(Member& member, const std::string& message) {
        member.output += message;
        flush(member);
        if (!member.leaving && member.output.size() > output_limit_) {
            leave(member, fmt::format("not reading: {} unsent (--output-limit {})",
                                      net::plural(member.output.size(), "byte"), output_limit_));
        }
    }

    // Sends until the buffer is empty or the kernel's is full (EAGAIN).
    void flush(Member& member) {
        std::size_t sent = 0;
        while (sent < member.output.size()) {
            const ssize_t n = ::send(member.socket.get(), member.output.data() + sent, member.output.size() - sent, MSG_NOSIGNAL);
            if (n >= 0) {
                sent += static_cast<std::size_t>(n);
            } else if (errno == EAGAIN || errno == EWOULDBLOCK) {
                say("send({}) = EAGAIN: {} wait for EPOLLOUT", member.socket.get(), net::plural(member.output.size() - sent, "byte"));
                break;
            } else if (errno != EINTR) {
                leave(member, fmt::format("send: {}", std::strerror(errno)));
                break;
            }
        }
        member.output.erase(0, sent);
    }

    // EPOLLOUT only while bytes wait: an empty socket buffer is writable on every turn.
    void update_interest(Member& member) {
        const std::uint32_t wanted = member.output.empty() ? EPOLLIN : EPOLLIN | EPOLLOUT;
        if (!member.leaving && wanted != member.watching) {
            say("epoll_ctl(MOD, {}) = {}", member.socket.get(), wanted == EPOLLIN ? "EPOLLIN" : "EPOLLIN|EPOLLOUT");
            loop_.change(member.socket.get(), wanted);
            member.watching = wanted;
        }
    }

    // Fires idle_ after the last line heard when the timer was set; if the
    // member spoke since, the timer is set again for the rest of its window.
    void check_idle(int fd, Clock::time_point heard) {
        loop_.after(std::chrono::ceil<milliseconds>(heard + idle_ - Clock::now()), [this, fd, heard] {
            const auto found = members_.find(fd);
            if (found == members_.end() || found->second.leaving) {
                return;
            }
            if (found->second.last_heard != heard) {
                return check_idle(fd, found->second.last_heard);
            }
            leave(found->second, fmt::format("idle for {} ms", idle_.count()));
        });
    }

    // Members leave after the current turn: a broadcast may be walking the map.
    void leave(Member& member, const std::string& why) {
        if (member.leaving) {
            return;
        }
        member.leaving = true;
        const int fd = member.socket.get();
        loop_.unwatch(fd);  // before the close: epoll forgets a descriptor only with its last dup
        net::log::info("{} ({}) left: {}", member.peer, member.nick.empty() ? "no nick yet" : member.nick, why);
        loop_.defer([this, fd] {
            const std::string nick = members_.at(fd).nick;
            members_.erase(fd);  // closes the socket
            if (!nick.empty()) {
                const Member nobody;
                broadcast(nobody, fmt::format("* {} left\n", nick));
            }
        });
    }

    template <typename... Args>
    void say(fmt::format_string<Args...> format, Args&&... args) const {
        if (!quiet_) {
            net::log::step(format, std::forward<Args>(args)...);
        }
    }

    net::EventLoop& loop_;
    int listener_;
    std::size_t output_limit_;
    milliseconds idle_;
    bool quiet_;
    std::map<int, Member> members_;
};

int serve(const net::Args& args) {
    net::stop_on_signals();
    const net::Fd listener = net::listen_tcp(args.host(), args.port());
    net::check(::fcntl(listener.get(), F_SETFL, O_NONBLOCK), "fcntl O_NONBLOCK");
    net::log::info("listening on {}  (try: nc {} {})", net::to_string(net::local_address(listener.get())),
                   args.host(), net::local_port(listener.get()));
    net::EventLoop loop;
    const ChatRoom room(loop, listener.get(), static_cast<std::size_t>(args.integer("--output-limit", 1, 1LL << 30)),
                        milliseconds{args.integer("--idle-timeout", 0, 86'400'000)}, args.flag("--quiet"));
    loop.run();
    net::log::info("stopping: signal received");
    return 0;
}

}  // namespace

int main(int argc, char** argv) {
    const net::Usage usage{
        .program = "chat-server",
        .summary = "Lesson 09's line chat on an epoll loop: output buffers instead of blocking sends,\n"
                   "so one member who stops reading delays nobody. Stop it with Ctrl-C.",
        .options = {
            {"--output-limit", "BYTES", "drop a member whose unsent lines pass BYTES", "1048576"},
            {"--idle-timeout", "MS", "close a member silent this long (0: never)", "0"},
            {"--quiet", "", "print no per-call narration"},
        },
    };
    return net::run_main(argc, argv, usage, serve);
}
