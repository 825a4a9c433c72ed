// et-echo-server — lesson 10's echo server, edge-triggered, on one loop per core.
//
//     et-echo-server --port 5000                 then:  nc -N 127.0.0.1 5000
//     et-echo-server --port 5000 --loops 2       two threads, two listeners, one port
//     et-echo-server --port 5000 --max-fds 16    run out of descriptors on purpose
//     et-echo-server --port 5000 --read-once     the classic edge-triggered bug, on purpose
//
// Every socket is registered once with EPOLLET and never changed: epoll
// reports an edge (something new arrived, or room came back), so each handler
// drains until EAGAIN. A server out of descriptors sheds clients with a
// reserve descriptor instead of spinning or dying. With --loops N, N threads
// each run their own loop on their own listener, all bound to one port with
// SO_REUSEPORT: the kernel spreads new connections across them.
#include <netdb.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <fcntl.h>
#include <map>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "net/address.hpp"
#include "net/args.hpp"
#include "net/error.hpp"
#include "net/event_loop.hpp"
#include "net/fd.hpp"
#include "net/log.hpp"
#include "net/signals.hpp"
#include "net/tcp.hpp"

namespace {

struct Options {
    std::size_t output_limit;
    bool read_once;
    bool quiet;
};

struct Client {
    net::Fd socket;
    std::string output;          // replies the kernel has not taken yet
    bool reading_paused = false;  // stopped at the output limit with bytes left in the kernel
    bool peer_closed = false;     // recv said 0: send what is owed, then close
};

class EchoLoop {
public:
    EchoLoop(int number, net::Fd listener, Options options)
        : number_(number), listener_(std::move(listener)), options_(options) {
        loop_.watch(listener_.get(), EPOLLIN | EPOLLET, [this](std::uint32_t) { accept_all(); });
    }

    void run() { loop_.run(); }
    void stop() noexcept { loop_.stop(); }

    void report() const {
        net::log::info("loop {}: {} accepted, {} shed, {} epoll_wait returns", number_, accepted_, shed_, loop_.wakeups());
    }

private:
    void accept_all() {
        if (!reserve_) {
            reserve_.reset(::open("/dev/null", O_RDONLY | O_CLOEXEC));  // lost earlier: take it back while we can
        }
        for (;;) {  // one edge for however many are queued: take them all
            const int fd = ::accept4(listener_.get(), nullptr, nullptr, SOCK_NONBLOCK | SOCK_CLOEXEC);
            if (fd >= 0) {
                ++accepted_;
                say("loop {}: accept4() = {}", number_, fd);
                clients_[fd].socket.reset(fd);
                loop_.watch(fd, EPOLLIN | EPOLLOUT | EPOLLRDHUP | EPOLLET,
                            [this, fd](std::uint32_t events) { on_ready(fd, events); });
                continue;
            }
            if (errno == EAGAIN || errno == EWOULDBLOCK) {
                return;  // the queue is empty: the next client makes a new edge
            }
            if (errno == EINTR || net::is_per_client_accept_error(errno)) {
                continue;
            }
            const int err = errno;
            if (err != EMFILE && err != ENFILE) {
                net::throw_errno("accept4", err);
            }
            // Out of descriptors. The client stays queued and, edge-triggered,
            // nobody would hear of it again: free the reserve, take the client,
            // close it, take the reserve back.
            if (!reserve_) {
                return;
            }
            reserve_.reset();
            const int shed = ::accept4(listener_.get(), nullptr, nullptr, SOCK_CLOEXEC);
            const int shed_error = errno;  // before open() can change it
            if (shed >= 0) {
                ::close(shed);
                ++shed_;
                net::log::info("loop {}: accept4: {}: shed a client (closed at once)", number_, std::strerror(err));
            }
            reserve_.reset(::open("/dev/null", O_RDONLY | O_CLOEXEC));
            if (shed < 0 && shed_error != EINTR && !net::is_per_client_accept_error(shed_error)) {
                // EAGAIN: nobody was queued (at the limit accept4 says EMFILE
                // before it looks at the queue). EMFILE: another loop took the slot.
                return;
            }
        }
    }

    void on_ready(int fd, std::uint32_t events) {
        Client& client = clients_.at(fd);
        if (!flush(client)) {
            return close(fd, "send failed");
        }
        if (client.peer_closed) {
            if (client.output.empty()) {
                close(fd, "the client closed its side and has every reply");
            }
            return;
        }
        if ((events & (EPOLLIN | EPOLLRDHUP | EPOLLHUP | EPOLLERR)) == 0 && !client.reading_paused) {
            return;  // only room to write came back
        }
        client.reading_paused = false;
        char buffer[64 * 1024];
        for (;;) {
            if (client.output.size() >= options_.output_limit) {
                client.reading_paused = true;  // the rest waits in the kernel; EPOLLOUT brings us back
                say("loop {}: {} bytes unsent to {}: reading paused", number_, client.output.size(), fd);
                return;
            }
            const ssize_t n = ::recv(fd, buffer, sizeof buffer, 0);
            if (n == 0) {
                if (client.output.empty()) {
                    return close(fd, "recv() = 0: the client closed");
                }
                // A half-close (nc -N): it sends no more but still reads. Close
                // once it has every reply; EPOLLOUT brings us back.
                client.peer_closed = true;
                say("loop {}: recv({}) = 0 with {} still to send", number_, fd, net::plural(client.output.size(), "byte"));
                return;
            }
            if (n < 0) {
                if (errno == EINTR) {
                    continue;
                }
                if (errno != EAGAIN && errno != EWOULDBLOCK) {
                    return close(fd, fmt::format("recv: {}", std::strerror(errno)));
                }
                say("loop {}: recv({}) = EAGAIN: drained, wait for the next edge", number_, fd);
                return;
            }
            say("loop {}: recv({}) = {}", number_, fd, net::plural(n, "byte"));
            client.output.append(buffer, static_cast<std::size_t>(n));
            if (!flush(client)) {
                return close(fd, "send failed");
            }
            if (options_.read_once) {
                return;  // the bug: level-triggered habits. What is left makes no new edge.
            }
            if (static_cast<std::size_t>(n) < sizeof buffer && (events & EPOLLRDHUP) == 0) {
                // A short read emptied the queue: whatever comes next makes a new
                // edge, so the recv that would say EAGAIN can be saved. Not if the
                // client's FIN is here too (EPOLLRDHUP): its edge was this one.
                say("loop {}: recv({}) took less than asked: drained, wait for the next edge", number_, fd);
                return;
            }
        }
    }

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
                break;  // the kernel's buffer is full: the EPOLLOUT edge brings us back
            }
            sent += static_cast<std::size_t>(n);
        }
        client.output.erase(0, sent);
        return true;
    }

    void close(int fd, const std::string& why) {
        say("loop {}: closing {}: {}", number_, fd, why);
        loop_.unwatch(fd);
        clients_.erase(fd);
    }

    template <typename... Args>
    void say(fmt::format_string<Args...> format, Args&&... args) const {
        if (!options_.quiet) {
            net::log::step(format, std::forward<Args>(args)...);
        }
    }

    int number_;
    net::Fd listener_;
    Options options_;
    net::Fd reserve_{::open("/dev/null", O_RDONLY | O_CLOEXEC)};  // the descriptor kept for EMFILE
    net::EventLoop loop_;
    std::map<int, Client> clients_;
    std::size_t accepted_ = 0;
    std::size_t shed_ = 0;
};

// A non-blocking listener with SO_REUSEPORT set before bind: every loop gets
// one, all on the same port, and the kernel hashes each new connection to one
// of them.
net::Fd listen_reuseport(const std::string& host, std::uint16_t port) {
    for (const net::Endpoint& endpoint : net::resolve(host, std::to_string(port), net::tcp_hints(AI_PASSIVE | AI_NUMERICSERV))) {
        net::Fd socket{::socket(endpoint.family, endpoint.socktype | SOCK_NONBLOCK | SOCK_CLOEXEC, endpoint.protocol)};
        if (!socket) {
            continue;
        }
        const int on = 1;
        net::check(::setsockopt(socket.get(), SOL_SOCKET, SO_REUSEADDR, &on, sizeof on), "setsockopt SO_REUSEADDR");
        net::check(::setsockopt(socket.get(), SOL_SOCKET, SO_REUSEPORT, &on, sizeof on), "setsockopt SO_REUSEPORT");
        net::check(::bind(socket.get(), endpoint.address.get(), endpoint.address.length), "bind");
        net::check(::listen(socket.get(), SOMAXCONN), "listen");
        return socket;
    }
    throw std::runtime_error(fmt::format("no address to listen on for {}", host));
}

int serve(const net::Args& args) {
    net::stop_on_signals();
    const auto loops = static_cast<int>(args.integer("--loops", 1, 64));
    const auto max_fds = args.integer("--max-fds", 0, 1 << 20);
    if (max_fds > 0) {
        rlimit limit{};
        net::check(::getrlimit(RLIMIT_NOFILE, &limit), "getrlimit");
        limit.rlim_cur = static_cast<rlim_t>(max_fds);
        net::check(::setrlimit(RLIMIT_NOFILE, &limit), "setrlimit RLIMIT_NOFILE");
        net::log::info("setrlimit(RLIMIT_NOFILE) = {}: descriptors 0 to {} only", max_fds, max_fds - 1);
    }
    const Options options{
        .output_limit = static_cast<std::size_t>(args.integer("--output-limit", 1, 1LL << 30)),
        .read_once = args.flag("--read-once"),
        .quiet = args.flag("--quiet"),
    };
    std::vector<std::unique_ptr<EchoLoop>> echo_loops;
    std::uint16_t port = args.port();
    for (int i = 0; i < loops; ++i) {
        net::Fd listener = listen_reuseport(args.host(), port);
        port = net::local_port(listener.get());  // port 0: the others join the port the first one got
        echo_loops.push_back(std::make_unique<EchoLoop>(i, std::move(listener), options));
    }
    net::log::info("listening on {}:{} with {} (edge-triggered{})  (try: nc -N {} {})", args.host(), port,
                   net::plural(loops, "loop"), options.read_once ? ", reading once per edge: the bug" : "",
                   args.host(), port);

    // Whichever loop sees Ctrl-C first stops the others.
    auto run = [&](EchoLoop& loop) {
        loop.run();
        for (auto& other : echo_loops) {
            other->stop();
        }
    };
    std::vector<std::jthread> threads;
    for (std::size_t i = 1; i < echo_loops.size(); ++i) {
        threads.emplace_back(run, std::ref(*echo_loops[i]));
    }
    run(*echo_loops[0]);
    threads.clear();  // joins
    for (const auto& loop : echo_loops) {
        loop->report();
    }
    return 0;
}

}  // namespace

int main(int argc, char** argv) {
    const net::Usage usage{
        .program = "et-echo-server",
        .summary = "An edge-triggered echo server: every socket registered once with EPOLLET,\n"
                   "drained until EAGAIN; a reserve descriptor sheds clients on EMFILE; one\n"
                   "loop per thread on a shared port (SO_REUSEPORT). Stop it with Ctrl-C.",
        .options = {
            {"--loops", "N", "N threads, each with its own loop and listener on the port", "1"},
            {"--output-limit", "BYTES", "stop reading a client whose unsent replies reach BYTES", "1048576"},
            {"--max-fds", "N", "lower RLIMIT_NOFILE to N first, to meet EMFILE (0: leave it)", "0"},
            {"--read-once", "", "one recv per edge: the classic bug, to see a client stall"},
            {"--quiet", "", "print no per-call narration"},
        },
    };
    return net::run_main(argc, argv, usage, serve);
}
