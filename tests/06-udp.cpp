// Tests for exercise 06 — datagrams, truncation, timeouts and retries
// (exercises/06-udp/udp.hpp). The test plays the other side over real UDP
// sockets on loopback; loss, duplication and reordering come from the seeded
// lossy proxy (tests/support/udp_proxy.hpp). Every wait has a deadline.
#include <doctest/doctest.h>

#include <atomic>
#include <cerrno>
#include <chrono>
#include <functional>
#include <string>
#include <sys/socket.h>
#include <system_error>
#include <thread>
#include <vector>

#include <fmt/core.h>

#include "06-udp/fixtures.hpp"
#include "harness.hpp"
#include "net/error.hpp"
#include "udp.hpp"
#include "udp_proxy.hpp"

using namespace std::chrono_literals;
using harness::UdpFate;
using Peer = harness::UdpPeer;

using fixtures::receive_within;
using fixtures::request_within;
using fixtures::rescue_from;
using fixtures::rescue_through;
using fixtures::ServerOptions;
using fixtures::TestServer;

// ---------------------------------------------------------------- receive_datagram

TEST_CASE("receive_datagram returns a datagram's bytes and the address it came from") {
    Peer receiver("127.0.0.1", "receiver");
    Peer sender("127.0.0.1", "sender");
    INFO(sender);
    sender.send_to(receiver.address(), "hello, datagram");
    const lesson06::Datagram got = receive_within(receiver, 1024);
    CHECK(got.bytes == "hello, datagram");
    CHECK(got.size == 15);
    CHECK_FALSE(got.truncated());
    CHECK(net::to_string(got.from) == sender.where());  // where a reply would have to go
}

TEST_CASE("receive_datagram detects a 2,000-byte datagram cut by a 1,024-byte buffer (MSG_TRUNC)") {
    Peer receiver("127.0.0.1", "receiver");
    Peer sender("127.0.0.1", "sender");
    INFO(sender);
    const std::string big = harness::random_bytes(2000, 6);
    sender.send_to(receiver.address(), big);
    sender.send_to(receiver.address(), "next");
    const lesson06::Datagram cut = receive_within(receiver, 1024);
    INFO("receive_datagram returned bytes.size() = " << cut.bytes.size() << ", size = " << cut.size);
    REQUIRE_MESSAGE(cut.size == 2000, "recvfrom without MSG_TRUNC returns only the 1,024 bytes copied: "
                                      "the datagram was cut and nothing said so");
    CHECK(cut.truncated());
    CHECK(cut.bytes == big.substr(0, 1024));
    // The rest of a cut datagram is gone: the next read is the next datagram.
    const lesson06::Datagram next = receive_within(receiver, 1024);
    CHECK(next.bytes == "next");
    CHECK_FALSE(next.truncated());
}

TEST_CASE("receive_datagram: a datagram that exactly fills the buffer is whole; an empty one is no end of file") {
    Peer receiver("127.0.0.1", "receiver");
    Peer sender("127.0.0.1", "sender");
    INFO(sender);
    const std::string exact = harness::random_bytes(1024, 7);
    sender.send_to(receiver.address(), exact);
    sender.send_to(receiver.address(), "");
    const lesson06::Datagram full = receive_within(receiver, 1024);
    CHECK(full.size == 1024);
    CHECK_FALSE(full.truncated());
    CHECK(full.bytes == exact);
    const lesson06::Datagram empty = receive_within(receiver, 1024);
    CHECK(empty.size == 0);
    CHECK(empty.bytes.empty());
    CHECK(net::to_string(empty.from) == sender.where());
}

// ---------------------------------------------------------------- echo_one

TEST_CASE("echo_one sends each datagram back to the address it came from, empty ones too") {
    std::vector<lesson06::Echo> results;
    harness::UdpServer server([&](int fd) {
        results.push_back(lesson06::echo_one(fd, 1024));
        results.push_back(lesson06::echo_one(fd, 1024));
    });
    Peer client;
    INFO(client);
    client.send_to(server.address(), "ping");
    const harness::UdpDatagram echo = client.receive(1s, "waiting for the echo of \"ping\"");
    REQUIRE(echo.bytes == "ping");
    CHECK(echo.from == server.where());
    client.send_to(server.address(), "");
    const harness::UdpDatagram empty = client.receive(1s, "waiting for the echo of an empty datagram");
    CHECK(empty.size == 0);
    server.join();
    REQUIRE(results.size() == 2);
    CHECK(net::to_string(results[0].peer) == client.where());
    CHECK(results[0].size == 4);
    CHECK(results[0].echoed);
    CHECK(results[1].size == 0);
    CHECK(results[1].echoed);
}

TEST_CASE("echo_one replies to each sender's own address: two clients, interleaved") {
    harness::UdpServer server([](int fd) {
        for (int i = 0; i < 4; ++i) {
            (void)lesson06::echo_one(fd, 1024);
        }
    });
    Peer alice("127.0.0.1", "client A");
    Peer bob("127.0.0.1", "client B");
    INFO(alice);
    INFO(bob);
    alice.send_to(server.address(), "A1 from alice");
    bob.send_to(server.address(), "B1 from bob");
    bob.send_to(server.address(), "B2 from bob");
    alice.send_to(server.address(), "A2 from alice");
    REQUIRE(alice.receive(1s, "client A waiting for its first echo").bytes == "A1 from alice");
    REQUIRE(bob.receive(1s, "client B waiting for its first echo").bytes == "B1 from bob");
    REQUIRE(bob.receive(1s, "client B waiting for its second echo").bytes == "B2 from bob");
    REQUIRE(alice.receive(1s, "client A waiting for its second echo").bytes == "A2 from alice");
    server.join();
    CHECK(alice.drain().empty());  // nobody got anyone else's echo
    CHECK(bob.drain().empty());
}

TEST_CASE("echo_one does not echo a datagram cut by its buffer, and reports its real size") {
    std::vector<lesson06::Echo> results;
    harness::UdpServer server([&](int fd) {
        results.push_back(lesson06::echo_one(fd, 1024));
        results.push_back(lesson06::echo_one(fd, 1024));
    });
    Peer client;
    INFO(client);
    client.send_to(server.address(), harness::random_bytes(2000, 8));
    client.send_to(server.address(), "small");
    const harness::UdpDatagram first = client.receive(1s, "waiting for the echo of \"small\"");
    REQUIRE_MESSAGE(first.bytes == "small", "the first datagram back was " << first.size
                                            << " bytes: the server echoed a piece of the 2,000-byte datagram");
    server.join();
    REQUIRE(results.size() == 2);
    CHECK(results[0].size == 2000);
    CHECK_FALSE(results[0].echoed);
    CHECK(results[1].echoed);
    CHECK(client.drain().empty());
}

TEST_CASE("echo_one works over IPv6 (::1)") {
    harness::UdpServer server([](int fd) { (void)lesson06::echo_one(fd, 1024); }, "::1");
    Peer client("::1");
    INFO(client);
    client.send_to(server.address(), "six");
    const harness::UdpDatagram echo = client.receive(1s, "waiting for the echo over IPv6");
    CHECK(echo.bytes == "six");
    CHECK(echo.from == server.where());
    server.join();
}

// ---------------------------------------------------------------- request_with_retry

TEST_CASE("request_with_retry sends \"<id> <payload>\" and returns the answer without the id") {
    TestServer server;
    Peer client;
    INFO(server);
    const std::string answer = request_within(1s, client, server.address(), 7, "hello", {50ms, 3}, rescue_from(server, 7));
    REQUIRE(answer == "re: hello");
    const auto arrivals = server.arrivals();
    REQUIRE(arrivals.size() == 1);  // no reason to send it twice
    CHECK(arrivals[0].bytes == "7 hello");
    CHECK(arrivals[0].from == client.where());
}

TEST_CASE("request_with_retry ignores a datagram from another address that claims to be the reply") {
    TestServer server({.forge_from_stranger = true});
    Peer client;
    INFO(server);
    const std::string answer =
        request_within(1s, client, server.address(), 3, "who is there?", {50ms, 3}, rescue_from(server, 3));
    REQUIRE(answer == "re: who is there?");
}

TEST_CASE("request_with_retry returns a 60,000-byte answer whole") {
    TestServer server;
    Peer client;
    const std::string payload = harness::random_bytes(60'000, 9);
    const std::string answer =
        request_within(1s, client, server.address(), 12, payload, {100ms, 3}, rescue_from(server, 12));
    CHECK(answer.size() == payload.size() + 4);
    CHECK(answer == "re: " + payload);
}

TEST_CASE("request_with_retry works over IPv6 (::1)") {
    TestServer server({}, "::1");
    Peer client("::1");
    INFO(server);
    CHECK(request_within(1s, client, server.address(), 6, "six", {50ms, 3}, rescue_from(server, 6)) == "re: six");
}

TEST_CASE("request_with_retry through a lossy proxy: the first two requests are lost, the third gets through") {
    TestServer server;
    harness::UdpProxy proxy(server.port(), {.client_to_server = {UdpFate::drop, UdpFate::drop}});
    Peer client;
    INFO(proxy);
    INFO(server);
    const std::string answer =
        request_within(500ms, client, proxy.address(), 1, "lost twice", {30ms, 4}, rescue_through(proxy, 1));
    REQUIRE(answer == "re: lost twice");
    CHECK(proxy.client_to_server().received == 3);
    CHECK(server.arrivals().size() == 1);
}

TEST_CASE("request_with_retry through a lossy proxy: the reply is lost, so the same request goes again") {
    TestServer server;
    harness::UdpProxy proxy(server.port(), {.server_to_client = {UdpFate::drop}});
    Peer client;
    INFO(proxy);
    INFO(server);
    const std::string answer =
        request_within(500ms, client, proxy.address(), 5, "answer lost", {30ms, 4}, rescue_through(proxy, 5));
    REQUIRE(answer == "re: answer lost");
    const auto arrivals = server.arrivals();
    REQUIRE(arrivals.size() == 2);
    CHECK(arrivals[1].bytes == arrivals[0].bytes);  // a retry is the same request, same id
}

TEST_CASE("request_with_retry ignores a stale duplicate of the previous reply on the same socket") {
    TestServer server;
    harness::UdpProxy proxy(server.port(), {.server_to_client = {UdpFate::duplicate}});
    Peer client;
    INFO(proxy);
    INFO(server);
    REQUIRE(request_within(500ms, client, proxy.address(), 1, "first", {50ms, 4}, rescue_through(proxy, 1)) ==
            "re: first");
    // The second copy of "1 re: first" now waits in the client's socket.
    const std::string second =
        request_within(500ms, client, proxy.address(), 2, "second", {50ms, 4}, rescue_through(proxy, 2));
    REQUIRE_MESSAGE(second == "re: second",
                    "the reply to request 2 must carry id 2; \"1 re: first\" is a duplicate of an old reply");
}

TEST_CASE("request_with_retry survives a seeded lossy network: drops, duplicates and reordering") {
    TestServer server;
    harness::UdpProxy proxy(server.port(), {.drop = 0.25, .duplicate = 0.2, .reorder = 0.2});
    Peer client;
    INFO(proxy);  // the seed: replay a failure with WORKBOOK_SEED=<seed>
    for (std::uint32_t id = 1; id <= 12; ++id) {
        const std::string payload = "request number " + std::to_string(id);
        const std::string answer =
            request_within(1s, client, proxy.address(), id, payload, {25ms, 6}, rescue_through(proxy, id));
        REQUIRE(answer == "re: " + payload);
    }
}

TEST_CASE("request_with_retry backs off: each attempt waits twice as long as the one before") {
    TestServer server({.answer_from = 2});  // silent for two requests, answers the third
    Peer client;
    INFO(server);
    const std::string answer =
        request_within(800ms, client, server.address(), 9, "patience", {100ms, 3}, rescue_from(server, 9));
    REQUIRE(answer == "re: patience");
    const auto arrivals = server.arrivals();
    REQUIRE(arrivals.size() == 3);
    const auto first_gap = std::chrono::duration_cast<std::chrono::milliseconds>(arrivals[1].at - arrivals[0].at);
    const auto second_gap = std::chrono::duration_cast<std::chrono::milliseconds>(arrivals[2].at - arrivals[1].at);
    INFO("the requests came " << first_gap.count() << " ms and " << second_gap.count()
                              << " ms apart; with a first timeout of 100 ms: about 100, then about 200");
    CHECK(first_gap >= 80ms);
    CHECK(second_gap >= 150ms);
    CHECK(arrivals[2].bytes == arrivals[0].bytes);
}

TEST_CASE("request_with_retry gives up with ETIMEDOUT naming the server when the server never answers") {
    TestServer server({.answer_from = 1000});
    Peer client;
    INFO(server);
    const auto start = std::chrono::steady_clock::now();
    try {
        (void)request_within(800ms, client, server.address(), 4, "hello?", {40ms, 3}, rescue_from(server, 4));
        FAIL("request_with_retry returned although the server never answered");
    } catch (const std::system_error& error) {
        const auto waited = std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - start);
        INFO("what(): " << error.what() << "; it gave up after " << waited.count() << " ms");
        CHECK(error.code() == std::errc::timed_out);
        CHECK(std::string(error.what()).find(server.where()) != std::string::npos);
        CHECK_MESSAGE(waited >= 250ms, "3 attempts from 40 ms wait 40 + 80 + 160 = 280 ms before giving up");
    }
    CHECK(server.arrivals().size() == 3);  // exactly `attempts` requests
}

TEST_CASE("request_with_retry fails within its deadline when nothing listens") {
    const net::Address nowhere = harness::udp_address(harness::closed_udp_port());
    Peer client;
    INFO(client);
    const auto start = std::chrono::steady_clock::now();
    try {
        (void)request_within(1s, client, nowhere, 1, "anyone?", {40ms, 3}, [&] { ::shutdown(client.fd(), SHUT_RDWR); });
        FAIL("request_with_retry returned an answer from a closed port");
    } catch (const std::system_error& error) {
        const auto waited = std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - start);
        INFO("what(): " << error.what() << "; it gave up after " << waited.count() << " ms");
        // Connected: ICMP port unreachable says "refused" at once. Not connected: a timeout.
        CHECK((error.code() == std::errc::connection_refused || error.code() == std::errc::timed_out));
    }
}

TEST_CASE("each attempt's timeout is a deadline: stale datagrams arriving meanwhile do not extend it") {
    TestServer server({.answer_from = 1000, .stale_every = 15ms});  // never answers, chatters every 15 ms
    Peer client;
    INFO(server);
    const auto start = std::chrono::steady_clock::now();
    CHECK_THROWS_AS((void)request_within(800ms, client, server.address(), 8, "still there?", {40ms, 3},
                                         rescue_from(server, 8)),
                    std::system_error);
    const auto waited = std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - start);
    INFO("gave up after " << waited.count() << " ms; 40 + 80 + 160 = 280 ms were allowed");
    CHECK(waited < 700ms);
}

TEST_CASE("request_with_retry rejects bad arguments, and a request too large for a datagram, at once") {
    TestServer server;
    Peer client;
    const auto rescue = rescue_from(server, 1);
    CHECK_THROWS_AS((void)request_within(1s, client, server.address(), 1, "x", {50ms, 0}, rescue), std::invalid_argument);
    CHECK_THROWS_AS((void)request_within(1s, client, server.address(), 1, "x", {0ms, 3}, rescue), std::invalid_argument);
    try {
        (void)request_within(1s, client, server.address(), 1, std::string(70'000, 'x'), {50ms, 2}, rescue);
        FAIL("a 70,000-byte request cannot be one UDP datagram");
    } catch (const std::system_error& error) {
        INFO("what(): " << error.what());
        CHECK(error.code().value() == EMSGSIZE);
    }
}
