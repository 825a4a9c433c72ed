// echo-server — one thread, non-blocking sockets, an epoll loop.
//
//     echo-server --port 5000 --idle-timeout 30000     then:  nc -N 127.0.0.1 5000
//
// Every client gets an output buffer. epoll watches a socket for EPOLLOUT
// only while its buffer holds bytes, and stops watching it for EPOLLIN while
// the buffer is over --output-limit (backpressure): a client that sends and
// never reads costs the server a bounded amount of memory and nobody else a
// moment. A client silent for --idle-timeout milliseconds is closed.
#include <sys/epoll.h>
#include <sys/socket.h>

#include <cerrno>
#include <cstring>
#include <fcntl.h>
#include <chrono>
#include <map>
#include <memory>
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

struct Client {
    net::Fd socket;
    std::string peer;
    std::string output;                  // replies the kernel has not taken yet
    Clock::time_point last_heard;        // for the idle timeout
    std::uint32_t watching = 0;          // what epoll watches it for now
    bool peer_closed = false;            // recv said 0: send what is owed, then close
};

class EchoServer {
public:
    EchoServer(net::EventLoop& loop, int listener, std::size_t output_limit, milliseconds idle, bool quiet)
        : loop_(loop), listener_(listener), output_limit_(output_limit), idle_(idle), quiet_(quiet) {
        loop_.watch(listener_, EPOLLIN, [this](std::uint32_t) { accept_all(); });
    }

private:
    void accept_all() {
        // Level-triggered: take one per report and epoll reports again if more wait.
        sockaddr_storage address{};
        socklen_t length = sizeof address;
        const int fd = ::accept4(listener_, reinterpret_cast<sockaddr*>(&address), &length, SOCK_NONBLOCK | SOCK_CLOEXEC);
        if (fd < 0) {
            if (errno != EAGAIN && errno != EWOULDBLOCK && !net::is_per_client_accept_error(errno)) {
                net::throw_errno("accept4");
            }
            return;  // nothing after all, or a client that gave up while queued
        }
        auto& client = clients_[fd];
        client.socket.reset(fd);
        client.peer = net::to_string(net::Address{address, length});
        client.last_heard = Clock::now();
        say("accept4() = {}  {} (non-blocking)", fd, client.peer);
        watch(client, EPOLLIN);
        if (idle_.count() > 0) {
            arm_idle_timer(fd);
        }
    }

    void on_ready(int fd, std::uint32_t events) {
        Client& client = clients_.at(fd);
        if ((events & EPOLLOUT) != 0 && !flush(client)) {
            return close(fd, "send failed");
        }
        if (client.peer_closed && client.output.empty()) {
            return close(fd, "the client closed its side and has every reply");
        }
        if (!client.peer_closed && (events & (EPOLLIN | EPOLLHUP | EPOLLERR)) != 0) {
            char buffer[64 * 1024];
            const ssize_t n = ::recv(fd, buffer, sizeof buffer, 0);
            if (n == 0 && client.output.empty()) {
                return close(fd, "recv() = 0: the client closed");
            }
            if (n == 0) {
                // A half-close (nc -N): no more requests, but it still reads.
                say("recv({}) = 0 with {} still to send", fd, net::plural(client.output.size(), "byte"));
                client.peer_closed = true;
            }
            if (n < 0) {
                if (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR) {
                    return close(fd, fmt::format("recv: {}", std::strerror(errno)));
                }
            } else if (n > 0) {
                say("recv({}) = {}", fd, net::plural(n, "byte"));
                client.last_heard = Clock::now();
                client.output.append(buffer, static_cast<std::size_t>(n));
                if (!flush(client)) {
                    return close(fd, "send failed");
                }
            }
        }
        // What to be told next: the whole backpressure rule is these two lines.
        std::uint32_t wanted = 0;
        if (client.output.size() < output_limit_ && !client.peer_closed) {
            wanted |= EPOLLIN;  // (never after EOF: a socket at EOF is readable for ever)
        }
        if (!client.output.empty()) {
            wanted |= EPOLLOUT;
        }
        watch(client, wanted);
    }

    // Sends until the buffer is empty or the kernel's is full (EAGAIN).
    bool flush(Client& client) {
        std::size_t sent = 0;
        while (sent < client.output.size()) {
            const ssize_t n = ::send(client.socket.get(), client.output.data() + sent, client.output.size() - sent, MSG_NOSIGNAL);
            if (n < 0 && errno == EINTR) {
                continue;
            }
            if (n < 0) {
                if (errno != EAGAIN && errno != EWOULDBLOCK) {
                    return false;
                }
                say("send({}) = EAGAIN: {} wait for EPOLLOUT", client.socket.get(), net::plural(client.output.size() - sent, "byte"));
                break;
            }
            sent += static_cast<std::size_t>(n);
        }
        client.output.erase(0, sent);
        return true;
    }

    void watch(Client& client, std::uint32_t wanted) {
        const int fd = client.socket.get();
        if (client.watching == 0) {
            loop_.watch(fd, wanted, [this, fd](std::uint32_t events) { on_ready(fd, events); });
        } else if (wanted != client.watching) {
            say("epoll_ctl(MOD, {}) = {}{}", fd, (wanted & EPOLLIN) ? "EPOLLIN " : "",
                (wanted & EPOLLOUT) ? "EPOLLOUT" : ((wanted & EPOLLIN) ? "" : "nothing: backpressure"));
            loop_.change(fd, wanted);
        }
        client.watching = wanted;
    }

    // One timer per client, re-armed when it fires rather than on every
    // message: a busy client costs the heap nothing.
    void arm_idle_timer(int fd) {
        const auto due = clients_.at(fd).last_heard + idle_;
        loop_.after(std::chrono::ceil<milliseconds>(due - Clock::now()), [this, fd, due] {
            auto found = clients_.find(fd);
            if (found == clients_.end() || found->second.last_heard + idle_ != due) {
                if (found != clients_.end()) {
                    arm_idle_timer(fd);  // it spoke since: wait out the rest of its new window
                }
                return;
            }
            close(fd, fmt::format("idle for {} ms", idle_.count()));
        });
    }

    void close(int fd, const std::string& why) {
        net::log::info("closing {} ({}): {}", fd, clients_.at(fd).peer, why);
        loop_.unwatch(fd);  // before the close: epoll forgets a descriptor only with its last dup
        clients_.erase(fd);
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
    std::map<int, Client> clients_;
};

int serve(const net::Args& args) {
    net::stop_on_signals();
    const net::Fd listener = net::listen_tcp(args.host(), args.port());
    net::check(::fcntl(listener.get(), F_SETFL, O_NONBLOCK), "fcntl O_NONBLOCK");
    net::log::info("listening on {}  (try: nc -N {} {})", net::to_string(net::local_address(listener.get())),
                   args.host(), net::local_port(listener.get()));
    net::EventLoop loop;
    const EchoServer server(loop, listener.get(),
                            static_cast<std::size_t>(args.integer("--output-limit", 1, 1LL << 30)),
                            milliseconds{args.integer("--idle-timeout", 0, 86'400'000)}, args.flag("--quiet"));
    loop.run();
    net::log::info("stopped: {} turns of the loop", loop.wakeups());
    return 0;
}

}  // namespace

int main(int argc, char** argv) {
    const net::Usage usage{
        .program = "echo-server",
        .summary = "An echo server on one thread: non-blocking sockets, an epoll loop, output\n"
                   "buffers with backpressure and idle timeouts. Stop it with Ctrl-C.",
        .options = {
            {"--output-limit", "BYTES", "stop reading a client whose unsent replies reach BYTES", "1048576"},
            {"--idle-timeout", "MS", "close a client silent this long (0: never)", "0"},
            {"--quiet", "", "print no per-call narration"},
        },
    };
    return net::run_main(argc, argv, usage, serve);
}
