// Tests for exercise 02 — the echo server's and client's halves
// (exercises/02-tcp-client-server/echo.hpp). The test plays the other side
// over real loopback sockets; every wait has a deadline.
#include <doctest/doctest.h>

#include <atomic>
#include <cerrno>
#include <chrono>
#include <string>
#include <sys/socket.h>
#include <system_error>

#include "echo.hpp"
#include "harness.hpp"
#include "waits.hpp"

using namespace std::chrono_literals;

TEST_CASE("serve_client echoes a message byte for byte, then closes when the client does") {
    std::size_t echoed = 0;
    harness::LoopbackServer server([&](int listener) { echoed = lesson02::serve_client(harness::accept_within(listener)); });
    auto client = harness::Client::connect(server.port());
    INFO(client);
    client.send("hello, echo\n");
    REQUIRE(client.recv_exact(12) == "hello, echo\n");
    client.shutdown_write();
    client.expect_eof();  // nothing extra, and the socket was closed
    server.join();
    CHECK(echoed == 12);
}

TEST_CASE("serve_client keeps echoing: several messages, with pauses between them") {
    harness::LoopbackServer server([](int listener) { (void)lesson02::serve_client(harness::accept_within(listener)); });
    auto client = harness::Client::connect(server.port());
    INFO(client);
    for (const std::string message : {"one\n", "two two\n", "three three three\n"}) {
        client.send(message);
        REQUIRE(client.recv_exact(message.size()) == message);
    }
    client.shutdown_write();
    client.expect_eof();
    server.join();
}

TEST_CASE("serve_client echoes binary data exactly: zero bytes, all byte values, 100 KB") {
    std::size_t echoed = 0;
    harness::LoopbackServer server([&](int listener) { echoed = lesson02::serve_client(harness::accept_within(listener)); });
    auto client = harness::Client::connect(server.port());
    const std::string data = harness::random_bytes(100'000, 2);
    client.send(data);
    client.shutdown_write();
    const std::string back = client.recv_until_eof();
    CHECK(back.size() == data.size());
    CHECK(back == data);
    server.join();
    CHECK(echoed == data.size());
}

TEST_CASE("serve_client returns 0 for a client that connects and leaves without sending") {
    std::size_t echoed = 99;
    harness::LoopbackServer server([&](int listener) { echoed = lesson02::serve_client(harness::accept_within(listener)); });
    {
        auto client = harness::Client::connect(server.port());
        client.close();
    }
    server.join();
    CHECK(echoed == 0);
}

TEST_CASE("a server loop around serve_client serves clients one after another") {
    const int before = harness::open_fd_count();
    {
        harness::LoopbackServer server([](int listener) {
            for (int i = 0; i < 3; ++i) {
                (void)lesson02::serve_client(harness::accept_within(listener));
            }
        });
        {
            auto silent = harness::Client::connect(server.port());  // leaves without a word
        }
        for (const std::string name : {"first", "second"}) {
            auto client = harness::Client::connect(server.port());
            INFO(client);
            client.send(name);
            CHECK(client.recv_exact(name.size()) == name);
        }
        server.join();
    }
    CHECK(harness::open_fd_count() == before);  // every accepted socket was closed
}

namespace {

// An echo server the test controls: replies in `pieces` separate sends, each
// sent only once the client has taken the one before and waits in recv again,
// so every piece arrives in a recv of its own, as a slow network might deliver it.
struct TestEchoServer {
    explicit TestEchoServer(std::size_t pieces = 1, bool answer = true, std::string_view host = "127.0.0.1")
        : server([this, pieces, answer](int listener) {
              harness::Client peer(harness::accept_within(listener), "client");
              accepted = peer.fd();
              const std::string got = peer.recv_some();
              received = got;
              if (!answer) {
                  return;
              }
              const std::size_t step = (got.size() + pieces - 1) / pieces;
              for (std::size_t at = 0; at < got.size(); at += step) {
                  peer.send(got.substr(at, step));
                  if (at + step < got.size()) {
                      const int client_socket = harness::peer_socket(peer.fd());
                      if (client_socket < 0) {
                          return;  // the client has left already: the test says what it got
                      }
                      harness::wait_until_taken(peer.fd(), client_socket, client_thread.load(),
                                                "the client taking one piece of the echo before the next is sent");
                  }
              }
              (void)peer.recv_until_eof();
          }, host) {}

    std::atomic<int> accepted{-1};
    std::atomic<pid_t> client_thread{0};  // set before the client connects
    std::string received;
    harness::LoopbackServer server;
};

std::string echo_within_deadline(TestEchoServer& echo, const std::string& host, const std::string& message) {
    return harness::within(3s, "echo_once waiting for its echo", [&] {
        echo.client_thread.store(harness::thread_id());
        return lesson02::echo_once(host, echo.server.port(), message);
    }, [&] { ::shutdown(echo.accepted.load(), SHUT_RDWR); });
}

}  // namespace

TEST_CASE("echo_once sends the message and returns the echo") {
    TestEchoServer echo;
    REQUIRE(echo_within_deadline(echo, "127.0.0.1", "ping\n") == "ping\n");
    echo.server.join();
    CHECK(echo.received == "ping\n");
}

TEST_CASE("echo_once waits for the whole echo when it arrives in pieces") {
    TestEchoServer echo(3);
    const std::string message = "one recv is not one message";
    REQUIRE(echo_within_deadline(echo, "127.0.0.1", message) == message);
    echo.server.join();
}

TEST_CASE("echo_once reports a server that closes before answering, rather than hanging") {
    TestEchoServer echo(1, false);
    REQUIRE_THROWS_AS(echo_within_deadline(echo, "127.0.0.1", "anyone there?"), std::runtime_error);
    echo.server.join();
}

TEST_CASE("echo_once throws std::system_error naming connect when nothing listens") {
    std::uint16_t closed_port = 0;
    {
        harness::LoopbackServer probe([](int) {});
        closed_port = probe.port();
    }
    const int before = harness::open_fd_count();
    try {
        (void)harness::within(3s, "echo_once connecting to a closed port",
                              [&] { return lesson02::echo_once("127.0.0.1", closed_port, "x"); });
        FAIL("echo_once to a closed port returned");
    } catch (const std::system_error& error) {
        INFO("what(): " << error.what());
        CHECK(error.code().value() == ECONNREFUSED);
        CHECK(std::string(error.what()).find("connect") != std::string::npos);
    }
    CHECK(harness::open_fd_count() == before);  // the socket was closed on the error path
}

TEST_CASE("echo_once works over IPv6") {
    TestEchoServer echo(1, true, "::1");
    REQUIRE(echo_within_deadline(echo, "::1", "six") == "six");
    echo.server.join();
}
