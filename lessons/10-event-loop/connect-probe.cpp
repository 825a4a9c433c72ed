// connect-probe — a non-blocking connect() with a deadline, on the event loop.
//
//     connect-probe --port 5000                 is anybody listening there? (1 s at most)
//     connect-probe --demo                      refused, connected, and a full accept queue
//
// A blocking connect() to a server whose accept queue is full waits for
// minutes: the kernel drops the SYN and retransmits it, 1 s, 3 s, 7 s... later.
// A non-blocking one returns EINPROGRESS at once; epoll reports the socket
// writable when the handshake is over, either way, and getsockopt(SO_ERROR)
// says which way. The deadline is a timer on the same loop.
#include <sys/epoll.h>
#include <sys/socket.h>

#include <cerrno>
#include <chrono>
#include <cstring>
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

constexpr int timed_out = ETIMEDOUT;  // what probe() reports when our own deadline fired first

double ms_since(Clock::time_point start) {
    return std::chrono::duration<double, std::milli>(Clock::now() - start).count();
}

// Connects to `server` without blocking. Returns 0 (connected), the errno
// the handshake failed with (ECONNREFUSED...), or ETIMEDOUT when `deadline`
// passed first.
int probe(const net::Address& server, milliseconds deadline) {
    const std::string name = net::to_string(server);
    const auto start = Clock::now();
    const net::Fd socket{net::check(::socket(server.family(), SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0), "socket")};
    if (::connect(socket.get(), server.get(), server.length) == 0) {
        net::log::good("connect({}) = 0: connected at once", name);
        return 0;
    }
    if (errno != EINPROGRESS) {
        const int err = errno;  // refused before the call returned, or no route at all
        net::log::step("connect({}) = {}", name, std::strerror(err));
        return err;
    }
    net::log::step("connect({}) = EINPROGRESS: the SYN is out; wait for EPOLLOUT, {} ms at most", name,
                   deadline.count());

    net::EventLoop loop;
    int outcome = -1;
    loop.watch(socket.get(), EPOLLOUT, [&](std::uint32_t events) {
        // Writable means "the handshake is over", not "it worked": SO_ERROR says
        // how it ended (and reading it clears it).
        int err = 0;
        socklen_t length = sizeof err;
        net::check(::getsockopt(socket.get(), SOL_SOCKET, SO_ERROR, &err, &length), "getsockopt SO_ERROR");
        net::log::step("epoll: {}{}after {:.2f} ms; getsockopt(SO_ERROR) = {}", (events & EPOLLOUT) ? "EPOLLOUT " : "",
                       (events & EPOLLERR) ? "EPOLLERR " : "", ms_since(start), err == 0 ? "0" : std::strerror(err));
        outcome = err;
        loop.stop();
    });
    loop.after(deadline, [&] {
        net::log::step("timer: {} ms passed, no answer to the SYN", deadline.count());
        outcome = timed_out;
        loop.stop();
    });
    loop.run();  // until a handler above stops it, or Ctrl-C
    loop.unwatch(socket.get());
    if (outcome < 0) {
        throw std::runtime_error("interrupted");
    }
    return outcome;
}

void report(int outcome) {
    if (outcome == 0) {
        net::log::good("connected: somebody is listening");
    } else if (outcome == timed_out) {
        net::log::warn("no answer in time: a full accept queue, a firewall that drops, or nobody there");
    } else {
        net::log::warn("failed: {}", std::strerror(outcome));
    }
}

// Three probes against this machine, each set up so that you know the answer.
int demo(milliseconds deadline) {
    // 1. A port that is bound but not listening: the kernel answers the SYN with a reset.
    const net::Fd closed{net::check(::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0), "socket")};
    net::Address closed_address = net::resolve("127.0.0.1", "0").at(0).address;
    net::check(::bind(closed.get(), closed_address.get(), closed_address.length), "bind");
    closed_address = net::local_address(closed.get());
    net::log::info("1. a port nobody listens on ({})", net::to_string(closed_address));
    report(probe(closed_address, deadline));

    // 2. A listener that never calls accept(), with listen(fd, 0): Linux queues
    //    one finished handshake (backlog + 1), so the first probe gets in...
    const net::Fd listener = net::listen_tcp("127.0.0.1", 0, 0);
    const net::Address listening = net::local_address(listener.get());
    net::log::info("2. a listener with backlog 0 that never accepts ({})", net::to_string(listening));
    report(probe(listening, deadline));

    // 3. ...and takes the only place in its accept queue (a closed client stays
    //    queued until accepted), so the next SYN is dropped without an answer.
    net::log::info("3. the same listener, its accept queue now full");
    report(probe(listening, deadline));
    return 0;
}

int run(const net::Args& args) {
    net::stop_on_signals();
    const milliseconds deadline{args.integer("--timeout", 1, 600'000)};
    if (args.flag("--demo")) {
        return demo(deadline);
    }
    if (args.port() == 0) {
        throw net::UsageError("--port is required (or --demo)");
    }
    int outcome = -1;
    for (const net::Endpoint& endpoint : net::resolve(args.host(), std::to_string(args.port()))) {
        outcome = probe(endpoint.address, deadline);
        report(outcome);
        if (outcome == 0) {
            break;
        }
    }
    return outcome == 0 ? 0 : 1;
}

}  // namespace

int main(int argc, char** argv) {
    const net::Usage usage{
        .program = "connect-probe",
        .summary = "Connects without blocking: connect() returns EINPROGRESS, epoll reports the end of\n"
                   "the handshake, getsockopt(SO_ERROR) says how it ended, a timer enforces the deadline.",
        .port_help = "the port to probe (required unless --demo)",
        .options = {
            {"--timeout", "MS", "give up on a handshake after MS milliseconds", "1000"},
            {"--demo", "", "probe a closed port, a listener, and a listener whose accept queue is full"},
        },
    };
    return net::run_main(argc, argv, usage, run);
}
