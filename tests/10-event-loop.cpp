// Tests for exercise 10 — a non-blocking echo connection on an epoll loop
// (exercises/10-event-loop/connection.hpp). The loop around it is the
// fixture's (10-event-loop/echo_loop.hpp); real loopback clients talk to it,
// every wait with a deadline.
#include <doctest/doctest.h>

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <exception>
#include <cstddef>
#include <string>
#include <thread>

#include <fmt/core.h>

#include "10-event-loop/echo_loop.hpp"
#include "10-event-loop/clients.hpp"
#include "connection.hpp"
#include "harness.hpp"
#include "net/error.hpp"
#include "net/fd.hpp"
#include "net/tcp.hpp"
#include "printers.hpp"
#include "waits.hpp"

using namespace std::chrono_literals;
using fixtures::EchoServer;
using fixtures::NonReader;

namespace {

constexpr std::size_t limit = 256 * 1024;
constexpr int small_send_buffer = 16 * 1024;

// `count` round trips of one short line; returns the slowest.
std::chrono::milliseconds slowest_round_trip(harness::Client& client, int count) {
    auto slowest = 0ms;
    for (int i = 0; i < count; ++i) {
        const std::string line = fmt::format("ping {}\n", i);
        const auto start = std::chrono::steady_clock::now();
        client.send(line);
        // Not inside CHECK: a server that stopped answering ends the case at the first timeout.
        const std::string answer = client.recv_exact(line.size(), 2s);
        CHECK(answer == line);
        slowest = std::max(slowest, std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - start));
    }
    return slowest;
}

}  // namespace

TEST_CASE("the echo connection answers pipelined requests sent in one write, in order") {
    EchoServer server;
    auto client = harness::Client::connect(server.port());
    INFO(client);
    const std::string requests = "GET one\nGET two\nGET three\n";
    client.send(requests);
    CHECK(client.recv_exact(requests.size()) == requests);
    CHECK(slowest_round_trip(client, 3) < 1000ms);
}

TEST_CASE("a reply larger than the kernel's send buffer arrives whole and in order (EAGAIN keeps the tail)") {
    EchoServer server(limit, small_send_buffer);
    auto client = harness::Client::connect(server.port());
    const std::string data = harness::random_bytes(2 << 20, 1001);
    const std::string back = fixtures::echo_while_sending(client, data, 5s);
    CHECK_MESSAGE(back.size() == data.size(), "the server sent back ", back.size(), " of ", data.size(), " bytes");
    CHECK_MESSAGE(back == data, "the bytes came back changed or out of order");
}

TEST_CASE("a client that sends 8 MiB and never reads does not delay the others, and the server holds at most its limit") {
    EchoServer server(limit, small_send_buffer);
    auto other = harness::Client::connect(server.port());
    NonReader greedy(server.port());
    const std::string data = harness::random_bytes(8 << 20, 1002);
    const int refused = greedy.push(data, 500ms);
    REQUIRE_MESSAGE(refused == 0, "sending to the echo server failed: ", std::strerror(refused));
    INFO("the non-reader got ", greedy.sent, " bytes into the connection before it stalled");

    // While the greedy client's replies pile up, the other client is served at once.
    CHECK(slowest_round_trip(other, 20) < 1000ms);
    CHECK_MESSAGE(server.figures.most_buffered.load() <= limit + lesson10::Connection::read_chunk,
                  "the server buffered ", server.figures.most_buffered.load(), " bytes for a client that does not read; "
                  "the limit was ", limit, " (stop reading at the limit: backpressure)");
    CHECK_MESSAGE(greedy.sent < data.size(), "all 8 MiB went in although the client read nothing: nobody pushed back");

    // Now it reads: everything it sent comes back, and the server reads the rest once it has room.
    int failed = 0;
    std::thread reader_side([&] { failed = greedy.push(data, 5000ms); });
    const std::string back = greedy.read_back(data.size(), 3s);
    ::shutdown(greedy.socket.get(), SHUT_WR);  // ends a push still waiting if read_back gave up
    reader_side.join();
    CHECK_MESSAGE(failed == 0, "sending the rest failed: ", std::strerror(failed));
    CHECK_MESSAGE(back.size() == data.size(), "the non-reader got back ", back.size(), " of ", data.size(), " bytes");
    CHECK_MESSAGE(back == data.substr(0, back.size()), "the echoed bytes differ from what was sent");
}

TEST_CASE("an idle loop with a connected client sleeps in epoll_wait: almost no CPU in one second") {
    EchoServer server;
    auto client = harness::Client::connect(server.port());
    CHECK(slowest_round_trip(client, 2) < 1000ms);
    const pid_t loop = server.thread_id();
    const std::uint64_t before = fixtures::cpu_time_ns(loop);
    std::this_thread::sleep_for(1s);  // the measurement window, not a synchronisation
    const std::uint64_t used = fixtures::cpu_time_ns(loop) - before;
    CHECK_MESSAGE(used < 100'000'000, "the loop thread used ", used / 1'000'000, " ms of CPU in one idle second: "
                  "is EPOLLOUT watched while there is nothing to send?");
}

TEST_CASE("a client that closes is closed by the server, and the loop does not spin on it") {
    EchoServer server;
    {
        auto client = harness::Client::connect(server.port());
        client.send("bye\n");
        CHECK(client.recv_exact(4) == "bye\n");
    }  // closed: the server reads 0
    const auto deadline = std::chrono::steady_clock::now() + 3s;
    while (server.figures.open.load() != 0 && std::chrono::steady_clock::now() < deadline) {
        harness::wait_until_blocked(server.thread_id(), "the loop waits again");
    }
    CHECK_MESSAGE(server.figures.open.load() == 0, "the server still holds the connection of a client that closed: "
                  "recv() returning 0 means the peer is gone");
    const std::uint64_t before = fixtures::cpu_time_ns(server.thread_id());
    std::this_thread::sleep_for(500ms);  // the measurement window
    CHECK(fixtures::cpu_time_ns(server.thread_id()) - before < 50'000'000);
}

TEST_CASE("interest(): EPOLLIN below the limit, EPOLLOUT only while bytes wait") {
    int fds[2];
    REQUIRE(::socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0, fds) == 0);
    net::Fd peer{fds[1]};
    lesson10::Connection connection(net::Fd{fds[0]}, 8);
    CHECK(connection.interest() == EPOLLIN);
    REQUIRE(::send(peer.get(), "12345678", 8, 0) == 8);
    CHECK(connection.on_readable() == lesson10::Status::open);  // echoed at once: the socket had room
    CHECK(connection.buffered() == 0);
    CHECK(connection.interest() == EPOLLIN);
    ::close(peer.release());
    CHECK(connection.on_readable() == lesson10::Status::closed);
}

TEST_CASE("a client that half-closes gets every reply before the close, and its EOF is no longer watched") {
    int fds[2];
    REQUIRE(::socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0, fds) == 0);
    net::Fd peer{fds[1]};
    const int small = 4096;  // most of the echo cannot go out at once
    REQUIRE(::setsockopt(fds[0], SOL_SOCKET, SO_SNDBUF, &small, sizeof small) == 0);
    lesson10::Connection connection(net::Fd{fds[0]});
    const std::string data = harness::random_bytes(64 * 1024, 1005);
    REQUIRE(::send(peer.get(), data.data(), data.size(), 0) == static_cast<ssize_t>(data.size()));
    REQUIRE(::shutdown(peer.get(), SHUT_WR) == 0);  // nc -N: "that was all", still reading

    // The loop, level-triggered: call what interest() asks for, as epoll would report it.
    std::string back;
    lesson10::Status status = lesson10::Status::open;
    bool saw_eof_unwatched = false;
    for (int turn = 0; turn < 1000 && status == lesson10::Status::open; ++turn) {
        const std::uint32_t wanted = connection.interest();
        if ((wanted & EPOLLOUT) != 0) {
            status = connection.on_writable();
        }
        if (status == lesson10::Status::open && (wanted & EPOLLIN) != 0) {
            status = connection.on_readable();
        }
        saw_eof_unwatched = saw_eof_unwatched || (connection.buffered() > 0 && (connection.interest() & EPOLLIN) == 0);
        back += fixtures::read_available(peer.get());
    }
    CHECK_MESSAGE(back.size() == data.size(), "the client got back ", back.size(), " of ", data.size(),
                  " bytes: recv() == 0 after a half-close (nc -N) means 'no more requests', not 'stop answering'");
    CHECK(back == data.substr(0, back.size()));
    CHECK_MESSAGE(status == lesson10::Status::closed, "once every reply is out, on_writable must say closed");
    CHECK_MESSAGE(saw_eof_unwatched, "after the client's EOF, interest() must drop EPOLLIN: a socket at EOF is "
                  "readable for ever, and level-triggered epoll would report it on every turn");
}
