// sort-server — a server that behaves: it restarts at once, survives clients
// that vanish mid-reply, answers clients that half-close, and stops cleanly.
//
//     sort-server --port 5000       then:  printf 'pear\napple\nfig\n' | nc -N 127.0.0.1 5000
//
// Each client sends lines, then shutdown(SHUT_WR) ("that is all"); the server
// sorts them, sends them back and closes. One client at a time. Ctrl-C (or
// SIGTERM) stops accepting, finishes the client in flight, then exits; a
// second Ctrl-C drops that client instead of waiting for it.
//
// Two flags switch a fix off so you can watch what it prevents (chapter 04):
//   --no-reuseaddr   no SO_REUSEADDR: a quick restart fails with EADDRINUSE
//   --plain-send     send without MSG_NOSIGNAL: a client that hangs up
//                    mid-reply kills the server with SIGPIPE
#include <algorithm>
#include <atomic>
#include <cerrno>
#include <csignal>
#include <cstring>
#include <stdexcept>
#include <string>
#include <string_view>
#include <sys/socket.h>
#include <vector>

#include <fmt/core.h>

#include "net/address.hpp"
#include "net/args.hpp"
#include "net/error.hpp"
#include "net/fd.hpp"
#include "net/log.hpp"
#include "net/tcp.hpp"

namespace {

constexpr std::size_t max_request = 1 << 24;  // 16 MiB of lines at most

// Counted by the signal handler, read by the loops. A lock-free atomic is one
// of the few things a signal handler may touch.
std::atomic<int> stop_signals{0};
static_assert(std::atomic<int>::is_always_lock_free);

extern "C" void request_stop(int) { stop_signals.fetch_add(1); }

bool stop_requested() { return stop_signals.load() > 0; }

// Called before each blocking call on a client, and again when a signal
// interrupts one (errno EINTR). The first Ctrl-C lets the client in flight
// finish; a second one drops it. (A signal that lands between this check and
// the call only shows at the next one; ppoll() or signalfd() close that gap.)
void check_stop_while_serving() {
    static bool announced = false;
    if (stop_signals.load() >= 2) {
        throw std::runtime_error("dropped: a second stop signal");
    }
    if (stop_requested() && !announced) {
        announced = true;
        net::log::info("stop requested: finishing the client in flight first (Ctrl-C again drops it)");
    }
}

// Ctrl-C sends SIGINT, `kill` sends SIGTERM. Without SA_RESTART, a signal
// makes the blocked accept()/recv()/send() return -1 with errno EINTR, so the
// loop gets to look at stop_requested. (With SA_RESTART the kernel would
// quietly restart accept() and the server would never notice.)
void install_stop_handlers() {
    struct sigaction action {};
    action.sa_handler = request_stop;
    sigemptyset(&action.sa_mask);
    action.sa_flags = 0;  // no SA_RESTART
    net::check(::sigaction(SIGINT, &action, nullptr), "sigaction SIGINT");
    net::check(::sigaction(SIGTERM, &action, nullptr), "sigaction SIGTERM");
}

net::Fd open_listener(const net::Args& args) {
    const auto backlog = static_cast<int>(args.integer("--backlog", 0, 1'000'000));
    const auto endpoints =
        net::resolve(args.host(), std::to_string(args.port()), net::tcp_hints(AI_PASSIVE | AI_NUMERICSERV));
    const net::Endpoint& endpoint = endpoints.front();
    net::Fd listener{
        net::check(::socket(endpoint.family, endpoint.socktype | SOCK_CLOEXEC, endpoint.protocol), "socket")};
    net::log::step("socket() = fd {}", listener.get());

    if (args.flag("--no-reuseaddr")) {
        net::log::warn("not setting SO_REUSEADDR (--no-reuseaddr)");
    } else {
        // Lets bind() take the port while old connections are in TIME_WAIT.
        const int on = 1;
        net::check(::setsockopt(listener.get(), SOL_SOCKET, SO_REUSEADDR, &on, sizeof on),
                   "setsockopt SO_REUSEADDR");
        net::log::step("setsockopt(SO_REUSEADDR, 1)");
    }
    if (::bind(listener.get(), endpoint.address.get(), endpoint.address.length) < 0) {
        const int err = errno;  // before building the message: allocating may change errno
        net::throw_errno("bind " + net::to_string(endpoint.address), err);
    }
    net::log::step("bind({})", net::to_string(endpoint.address));
    // The backlog: how many finished handshakes may wait for accept(). The
    // kernel silently caps it at the sysctl net.core.somaxconn (listen(2)).
    net::check(::listen(listener.get(), backlog), "listen");
    net::log::step("listen(backlog {})", backlog);
    return listener;
}

// Reads until the client's EOF: its shutdown(SHUT_WR) ends the request, and
// it is still there, waiting for the reply.
std::string receive_request(int client) {
    std::string request;
    char buffer[65536];
    for (;;) {
        check_stop_while_serving();
        const ssize_t n = ::recv(client, buffer, sizeof buffer, 0);
        if (n < 0) {
            if (errno == EINTR) {
                continue;
            }
            net::throw_errno("recv");
        }
        if (n == 0) {
            net::log::step("recv() = 0: end of the request ({} bytes): the client is done sending", request.size());
            return request;
        }
        request.append(buffer, static_cast<std::size_t>(n));
        if (request.size() > max_request) {
            throw std::runtime_error("request too long");
        }
    }
}

std::string sort_lines(std::string_view request) {
    const std::size_t size = request.size();
    std::vector<std::string_view> lines;
    while (!request.empty()) {
        const auto end = request.find('\n');
        lines.push_back(request.substr(0, end));
        request.remove_prefix(end == std::string_view::npos ? request.size() : end + 1);
    }
    std::sort(lines.begin(), lines.end());
    std::string sorted;
    sorted.reserve(size + 1);
    for (const std::string_view line : lines) {
        sorted.append(line);
        sorted += '\n';
    }
    return sorted;
}

void send_reply(int client, std::string_view reply, bool plain_send) {
    // MSG_NOSIGNAL: if the client has gone, fail this send with EPIPE instead
    // of raising SIGPIPE, whose default action ends the whole process.
    const int flags = plain_send ? 0 : MSG_NOSIGNAL;
    std::size_t sent = 0;
    int calls = 0;
    while (sent < reply.size()) {
        check_stop_while_serving();
        const ssize_t n = ::send(client, reply.data() + sent, reply.size() - sent, flags);
        if (n < 0) {
            const int err = errno;
            if (err == EINTR) {
                continue;
            }
            net::throw_errno(fmt::format("send (after {} of {} bytes)", sent, reply.size()), err);
        }
        sent += static_cast<std::size_t>(n);
        ++calls;
    }
    net::log::step("send() x {} = {} bytes", calls, sent);
}

int serve(const net::Args& args) {
    install_stop_handlers();
    const net::Fd listener = open_listener(args);
    const std::string host = args.host();
    net::log::info("listening on {}  (try: printf 'pear\\napple\\n' | nc -N {} {})",
                   net::to_string(net::local_address(listener.get())), host, net::local_port(listener.get()));

    int served = 0;
    while (!stop_requested()) {
        net::Address peer;
        peer.length = sizeof peer.storage;
        const int fd = ::accept4(listener.get(), peer.get(), &peer.length, SOCK_CLOEXEC);
        if (fd < 0) {
            const int err = errno;
            if (err == EINTR) {
                continue;  // the loop condition decides
            }
            if (net::is_per_client_accept_error(err)) {
                // That client was lost before we took it (ECONNABORTED, ...): not our problem.
                net::log::warn("accept: {}: skipping that client", std::strerror(err));
                continue;
            }
            net::throw_errno("accept", err);
        }
        const net::Fd client{fd};
        const std::string who = net::to_string(peer);  // from accept itself: getpeername could fail by now
        net::log::step("accept() = fd {} from {}", client.get(), who);
        try {
            const std::string reply = sort_lines(receive_request(client.get()));
            send_reply(client.get(), reply, args.flag("--plain-send"));
            ++served;
            net::log::good("sorted {} bytes for {}", reply.size(), who);
        } catch (const std::runtime_error& error) {
            // One client's trouble (it hung up, it sent too much) is not the
            // server's: log it and serve the next one.
            net::log::warn("client {}: {}", who, error.what());
        }
        net::log::step("close(fd {})", client.get());
    }
    net::log::info("stopping: accepting no more clients ({} served)", served);
    return 0;
}

}  // namespace

int main(int argc, char** argv) {
    const net::Usage usage{
        .program = "sort-server",
        .summary = "Sorts the lines each client sends. A client sends its lines, then shuts down its\n"
                   "sending side (nc -N does); the reply follows. Ctrl-C finishes the client in\n"
                   "flight, then exits.",
        .options = {{"--no-reuseaddr", "", "do not set SO_REUSEADDR (shows why it is needed)"},
                    {"--plain-send", "", "send without MSG_NOSIGNAL (shows SIGPIPE killing the server)"},
                    {"--backlog", "N", "listen()'s backlog (SOMAXCONN; capped at net.core.somaxconn)", "4096"}},
    };
    return net::run_main(argc, argv, usage, serve);
}
