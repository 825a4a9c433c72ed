// Tests for exercise 12 — awaitable reads and writes on an edge-triggered
// registration, and asyncio's echo handler (exercises/12-coroutines/stream.hpp).
// Stream-level cases drive a net::EventLoop one turn at a time on this thread
// over a socketpair; server cases run the fixture's loop on its own thread
// and talk to it over loopback, every wait with a deadline.
#include <doctest/doctest.h>

#include <poll.h>
#include <sys/epoll.h>
#include <sys/socket.h>

#include <cerrno>
#include <chrono>
#include <cstring>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include <fmt/core.h>

#include "12-coroutines/fixtures.hpp"
#include "harness.hpp"
#include "net/error.hpp"
#include "net/fd.hpp"
#include "net/task.hpp"
#include "net/tcp.hpp"
#include "printers.hpp"
#include "stream.hpp"

using namespace std::chrono_literals;
using fixtures::EchoServer;

namespace {

struct Pair {
    net::Fd ours;
    net::Fd peer;
};

Pair socket_pair() {
    int fds[2];
    net::check(::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, fds), "socketpair");
    return Pair{net::Fd(fds[0]), net::Fd(fds[1])};
}

void write_to(int fd, std::string_view bytes) {
    REQUIRE(::send(fd, bytes.data(), bytes.size(), MSG_NOSIGNAL) == static_cast<ssize_t>(bytes.size()));
}

// Reads `chunk` bytes at a time until `total` have come.
net::Task<std::string> read_in_chunks(lesson12::Stream& stream, std::size_t chunk, std::size_t total) {
    std::string got;
    std::vector<char> buffer(chunk);
    while (got.size() < total) {
        const std::size_t n = co_await stream.read(buffer);
        if (n == 0) {
            break;
        }
        got.append(buffer.data(), n);
    }
    co_return got;
}

// Awaits `task`, keeping its result or its exception for the test to look at.
net::Task<void> store(net::Task<std::string> task, std::optional<std::string>& result, std::exception_ptr& error) {
    try {
        result = co_await std::move(task);
    } catch (...) {
        error = std::current_exception();
    }
}

// `turns` turns of the loop on this thread, each waiting at most 20 ms.
void turn(net::EventLoop& loop, int turns) {
    for (int i = 0; i < turns; ++i) {
        loop.run_once(20ms);
    }
}

// A client that sends `total` bytes in one go from a second thread while this
// one reads the echo back: the server's sends fill the kernel's buffers and
// come back short.
std::string echo_big(std::uint16_t port, const std::string& payload) {
    net::Fd socket = net::connect_tcp("127.0.0.1", port, 2s);
    const timeval limit{5, 0};
    net::check(::setsockopt(socket.get(), SOL_SOCKET, SO_SNDTIMEO, &limit, sizeof limit), "setsockopt SO_SNDTIMEO");
    const int small = 16 * 1024;
    net::check(::setsockopt(socket.get(), SOL_SOCKET, SO_RCVBUF, &small, sizeof small), "setsockopt SO_RCVBUF");
    std::thread sender([&] {
        std::size_t sent = 0;
        while (sent < payload.size()) {
            const ssize_t n = ::send(socket.get(), payload.data() + sent, payload.size() - sent, MSG_NOSIGNAL);
            if (n <= 0) {
                return;  // the reader below reports what came back
            }
            sent += static_cast<std::size_t>(n);
        }
    });
    harness::Client reader(net::Fd(net::check(::dup(socket.get()), "dup")));
    std::string back;
    try {
        back = reader.recv_exact(payload.size(), 10s);
    } catch (...) {
        ::shutdown(socket.get(), SHUT_RDWR);  // frees the sender
        sender.join();
        throw;
    }
    sender.join();
    return back;
}

}  // namespace

TEST_CASE("handle_echo: what a client sends comes back, in order, and EOF ends it") {
    EchoServer server;
    auto client = harness::Client::connect(server.port());
    for (const std::string& line : std::vector<std::string>{"hello\n", "a", "second line\n", std::string(3000, 'x')}) {
        client.send(line);
        INFO(client);
        CHECK(client.recv_exact(line.size()) == line);
    }
    client.shutdown_write();
    client.expect_eof();  // handle_echo returned at EOF, and its Stream closed the socket
    server.stop();
    CHECK(server.errors() == std::vector<std::string>{});
}

TEST_CASE("handle_echo: 4 MiB sent in one go to a client that reads slowly come back whole (short writes)") {
    EchoServer server;
    const std::string payload = harness::random_bytes(4 << 20, harness::test_seed(12));
    const std::string back = echo_big(server.port(), payload);
    CHECK_MESSAGE(back == payload, harness::first_difference(payload, back));
    server.stop();
    CHECK(server.errors() == std::vector<std::string>{});
}

TEST_CASE("read: an edge collected after its bytes were read (stale) makes the read wait, not fail") {
    net::EventLoop loop;
    Pair pair = socket_pair();
    lesson12::Stream stream(loop, std::move(pair.ours));
    turn(loop, 1);  // the edge of the registration itself (the send buffer has room) is used up
    std::optional<std::string> result;
    std::exception_ptr error;
    net::Spawned running = net::spawn(store(read_in_chunks(stream, 16, 1), result, error));
    REQUIRE_FALSE(result.has_value());  // nothing to read yet: it waits

    // Another socket's handler runs first in the next turn and takes the
    // stream's byte (in a server, another task reading this socket): the
    // EPOLLIN epoll_wait collected for the stream in the same turn is stale.
    Pair other = socket_pair();
    loop.watch(other.ours.get(), EPOLLIN, [&](std::uint32_t) {
        char stolen[16];
        CHECK(::recv(stream.fd(), stolen, sizeof stolen, 0) == 1);
        loop.unwatch(other.ours.get());
    });
    write_to(other.peer.get(), "!");  // ready first
    write_to(pair.peer.get(), "x");   // ready second
    turn(loop, 1);
    if (error) {
        try {
            std::rethrow_exception(error);
        } catch (const std::exception& e) {
            FAIL("the read ended on a stale edge instead of waiting on: ", e.what());
        }
    }
    CHECK_FALSE(result.has_value());
    write_to(pair.peer.get(), "y");
    for (int i = 0; i < 50 && !result && !error; ++i) {
        turn(loop, 1);
    }
    REQUIRE_FALSE(error);
    CHECK(result == std::optional<std::string>("y"));
    running.cancel();
}

TEST_CASE("read: bytes left after a short read are read at once (no new edge will come for them)") {
    net::EventLoop loop;
    Pair pair = socket_pair();
    lesson12::Stream stream(loop, std::move(pair.ours));
    write_to(pair.peer.get(), "abcdef");
    turn(loop, 1);  // the edges for those bytes (and for the empty send buffer) are used up
    std::optional<std::string> result;
    std::exception_ptr error;
    net::Spawned running = net::spawn(store(read_in_chunks(stream, 2, 6), result, error));
    for (int i = 0; i < 10 && !result && !error; ++i) {
        turn(loop, 1);
    }
    REQUIRE_FALSE(error);
    CHECK_MESSAGE(result == std::optional<std::string>("abcdef"),
                  "a read waited for an edge while bytes were waiting: under EPOLLET it never comes");
    running.cancel();
}

TEST_CASE("a task cancelled while it waits to read: its stream forgets it, and the next read works") {
    net::EventLoop loop;
    Pair pair = socket_pair();
    lesson12::Stream stream(loop, std::move(pair.ours));
    turn(loop, 1);
    const std::size_t frames = net::live_task_frames();
    std::optional<std::string> first;
    std::exception_ptr first_error;
    net::Spawned waiting = net::spawn(store(read_in_chunks(stream, 16, 1), first, first_error));
    turn(loop, 1);
    REQUIRE_FALSE(first_error);
    REQUIRE_FALSE(first.has_value());
    waiting.cancel();  // the frame, and the ReadAwaiter in it, are gone
    CHECK(net::live_task_frames() == frames);

    std::optional<std::string> second;
    std::exception_ptr second_error;
    net::Spawned reading = net::spawn(store(read_in_chunks(stream, 16, 5), second, second_error));
    write_to(pair.peer.get(), "again");
    for (int i = 0; i < 10 && !second && !second_error; ++i) {
        turn(loop, 1);
    }
    if (second_error) {
        try {
            std::rethrow_exception(second_error);
        } catch (const std::exception& e) {
            FAIL("the read after the cancelled one failed: ", e.what());
        }
    }
    CHECK(second == std::optional<std::string>("again"));
    reading.cancel();
}

TEST_CASE("a destroyed Stream leaves the loop watching nothing of it") {
    net::EventLoop loop;
    const std::size_t watched = loop.watched();
    for (int round = 0; round < 3; ++round) {  // the same fd numbers come back each round
        Pair pair = socket_pair();
        {
            lesson12::Stream stream(loop, std::move(pair.ours));
            CHECK(loop.watched() == watched + 1);
        }
        CHECK_MESSAGE(loop.watched() == watched, "~Stream must unwatch its socket before it closes it");
        turn(loop, 1);
    }
}

TEST_CASE("cancellation: the idle watchdog closes the socket, frees the frames, and the fd count returns to its baseline") {
    const std::size_t frames = net::live_task_frames();
    const int fds = harness::open_fd_count();
    {
        EchoServer server(150ms);
        std::vector<harness::Client> clients;
        for (int i = 0; i < 20; ++i) {
            clients.push_back(harness::Client::connect(server.port()));
            clients.back().send("ping");
            CHECK(clients.back().recv_exact(4) == "ping");
        }
        for (harness::Client& client : clients) {
            client.expect_eof(3s);  // the watchdog cancelled its handler; the Stream closed it
        }
        server.stop();
        CHECK(server.handlers_timed_out() == 20);
        CHECK(server.errors() == std::vector<std::string>{});
        CHECK(server.loop().watched() == 1);  // the listener only
    }
    CHECK(net::live_task_frames() == frames);
    CHECK(harness::open_fd_count() == fds);
}

TEST_CASE("1,000 clients on one thread, each echoed") {
    EchoServer server;
    std::vector<net::Fd> clients;
    clients.reserve(1000);
    for (int i = 0; i < 1000; ++i) {
        clients.push_back(net::connect_tcp("127.0.0.1", server.port(), 2s));
        const std::string message = fmt::format("client {}\n", i);
        write_to(clients.back().get(), message);
    }
    for (int i = 0; i < 1000; ++i) {
        harness::Client client(std::move(clients[static_cast<std::size_t>(i)]));
        const std::string message = fmt::format("client {}\n", i);
        CHECK(client.recv_exact(message.size(), 5s) == message);
    }
    server.stop();
    CHECK(server.errors() == std::vector<std::string>{});
}
