// Tests of the test harness: deadlines fire, transcripts record, servers re-throw.
#include <doctest/doctest.h>

#include <stdexcept>
#include <string>
#include <sys/socket.h>

#include "harness.hpp"

TEST_CASE("escape() shows control bytes and cuts long strings") {
    CHECK(harness::escape("hi\n") == "hi\\n");
    CHECK(harness::escape(std::string("\0\x7f\"", 3)) == "\\x00\\x7f\\\"");
    CHECK(harness::escape(std::string(300, 'a')) == "[a x 300]");
    CHECK(harness::escape("hi" + std::string(20, '\0') + "!") == "hi[\\x00 x 20]!");
    CHECK(harness::escape(std::string(50, 'x') + std::string("abcdefg") + std::string(300, 'y'), 20) ==
          "[x x 50]abcdefg[y x 300]");
    CHECK(harness::escape("abcdefghij", 4) == "abcd... (10 bytes in all)");
}

TEST_CASE("random_bytes() is reproducible from its seed") {
    CHECK(harness::random_bytes(64, 7) == harness::random_bytes(64, 7));
    CHECK(harness::random_bytes(64, 7) != harness::random_bytes(64, 8));
}

TEST_CASE("LoopbackServer serves on a kernel-chosen loopback port and the client keeps a transcript") {
    harness::LoopbackServer server([](int listener) {
        harness::Client peer(harness::accept_within(listener), "client");
        const std::string got = peer.recv_exact(5);
        peer.send(got);
    });
    CHECK(server.port() != 0);
    auto client = harness::Client::connect(server.port());
    client.send("hello");
    CHECK(client.recv_exact(5) == "hello");
    client.expect_eof();
    server.join();
    const std::string transcript = client.transcript().str();
    CHECK(transcript.find("test sent     \"hello\" (5 bytes)") != std::string::npos);
    CHECK(transcript.find("closed the connection") != std::string::npos);
}

TEST_CASE("a silent peer makes recv_exact time out, naming the step") {
    harness::LoopbackServer server([](int listener) {
        harness::Client peer(harness::accept_within(listener), "client");
        (void)peer.recv_until_eof();
    });
    auto client = harness::Client::connect(server.port());
    const auto start = std::chrono::steady_clock::now();
    try {
        (void)client.recv_exact(3, std::chrono::milliseconds(200));
        FAIL("no timeout");
    } catch (const harness::Timeout& timeout) {
        CHECK(std::string(timeout.what()) == "timed out after 200 ms: waiting for 3 bytes from the server, 0 arrived so far");
    }
    CHECK(std::chrono::steady_clock::now() - start < std::chrono::seconds(1));
    client.close();
    server.join();
}

TEST_CASE("a peer that closes early is an error, not a hang") {
    harness::LoopbackServer server([](int listener) {
        harness::Client peer(harness::accept_within(listener), "client");
        peer.send("ab");
    });
    auto client = harness::Client::connect(server.port());
    CHECK_THROWS_WITH(client.recv_exact(5), "the server closed the connection after 2 of the 5 bytes expected");
    server.join();
}

TEST_CASE("LoopbackServer re-throws what the server function threw") {
    harness::LoopbackServer server([](int) { throw std::runtime_error("server broke"); });
    CHECK_THROWS_WITH(server.join(), "server broke");
}

TEST_CASE("LoopbackServer unblocks a server stuck in accept and reports the timeout") {
    harness::LoopbackServer server([](int listener) { (void)::accept(listener, nullptr, nullptr); });
    CHECK_THROWS_AS(server.join(std::chrono::milliseconds(100)), harness::Timeout);
}

TEST_CASE("within() returns the result, re-throws, and times out naming the step") {
    CHECK(harness::within(std::chrono::milliseconds(500), "adding", [] { return 2 + 2; }) == 4);
    CHECK_THROWS_WITH(harness::within(std::chrono::milliseconds(500), "failing",
                                      []() -> int { throw std::runtime_error("inner"); }),
                      "inner");
    int fds[2];
    REQUIRE(::socketpair(AF_UNIX, SOCK_STREAM, 0, fds) == 0);
    net::Fd mine{fds[0]};
    net::Fd theirs{fds[1]};
    CHECK_THROWS_WITH(harness::within(
                          std::chrono::milliseconds(100), "reading from a silent peer",
                          [&] {
                              char byte;
                              return ::recv(theirs.get(), &byte, 1, 0);
                          },
                          [&] { ::shutdown(theirs.get(), SHUT_RDWR); }),
                      "timed out after 100 ms: reading from a silent peer");
}

TEST_CASE("open_fd_count() sees a descriptor come and go") {
    const int before = harness::open_fd_count();
    {
        net::Fd extra{::dup(0)};
        CHECK(harness::open_fd_count() == before + 1);
    }
    CHECK(harness::open_fd_count() == before);
}
