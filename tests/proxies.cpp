// Tests of the harness's re-chunking TCP proxy: the lesson tests that use it
// trust it to forward every byte intact, whatever pieces it makes.
#include <doctest/doctest.h>

#include <chrono>
#include <cstdlib>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <thread>

#include "harness.hpp"
#include "tcp_proxy.hpp"

using namespace std::chrono_literals;

TEST_CASE("harness: the proxy forwards 1 MB each way intact and passes each side's EOF on") {
    const std::string request = harness::random_bytes(1 << 20, 36);
    const std::string reply = harness::random_bytes(1 << 20, 37);
    std::string received;
    harness::LoopbackServer server([&](int listener) {
        harness::Client peer(harness::accept_within(listener), "client");
        received = peer.recv_until_eof(5s);  // the client's shutdown(SHUT_WR), passed on
        peer.send(reply, 5s);                // the read-closed side can still be written
    });
    harness::TcpProxy proxy(server.port());
    INFO(proxy);
    auto client = harness::Client::connect(proxy.port());
    client.send(request, 5s);
    client.shutdown_write();
    const std::string back = client.recv_until_eof(5s);
    server.join();
    CHECK(harness::first_difference(request, received) == "");
    CHECK(harness::first_difference(reply, back) == "");
    CHECK(proxy.sends() > 20);
    CHECK(proxy.error() == "");
}

TEST_CASE("harness: the proxy splits one write into pieces of 1-7 bytes") {
    harness::LoopbackServer server([](int listener) {
        harness::Client peer(harness::accept_within(listener), "client");
        peer.send(peer.recv_exact(64));
    });
    harness::TcpProxy proxy(server.port(), {.coalesce_percent = 0});
    INFO(proxy);
    auto client = harness::Client::connect(proxy.port());
    const std::string message = harness::random_bytes(64, 38);
    client.send(message);
    CHECK(client.recv_exact(64) == message);
    server.join();
    CHECK(proxy.largest_send() <= 7);
    CHECK(proxy.sends() >= 2 * 64 / 7);
}

TEST_CASE("harness: the proxy's pauses between pieces delay the bytes but keep them intact") {
    harness::LoopbackServer server([](int listener) {
        harness::Client peer(harness::accept_within(listener), "client");
        peer.send(peer.recv_exact(2000));
    });
    harness::TcpProxy proxy(server.port(), {.max_delay = std::chrono::microseconds(300)});
    INFO(proxy);
    auto client = harness::Client::connect(proxy.port());
    const std::string message = harness::random_bytes(2000, 39);
    client.send(message);
    CHECK(client.recv_exact(2000) == message);
    server.join();
}

TEST_CASE("harness: the proxy coalesces writes that piled up while it was paused") {
    harness::LoopbackServer server([](int listener) {
        harness::Client peer(harness::accept_within(listener), "client");
        peer.send(peer.recv_some());
    });
    harness::TcpProxy proxy(server.port(), {.coalesce_percent = 100});
    INFO(proxy);
    proxy.pause();
    auto client = harness::Client::connect(proxy.port());
    for (const std::string_view write : {"one\n", "two\n", "three\n"}) {
        client.send(write);
    }
    const harness::Deadline deadline(2s);
    while (proxy.bytes_received() < 14 && !deadline.expired()) {
        std::this_thread::yield();  // polls the proxy's counter, not a clock
    }
    REQUIRE(proxy.bytes_received() == 14);
    proxy.resume();
    CHECK(client.recv_exact(14) == "one\ntwo\nthree\n");  // the server got all three in one recv
    server.join();
}

TEST_CASE("harness: the proxy's destructor closes open connections, and WORKBOOK_SEED replays a seed") {
    {
        harness::LoopbackServer server([](int listener) {
            harness::Client peer(harness::accept_within(listener), "client");
            peer.send(peer.recv_exact(2));
            (void)peer.recv_until_eof();
        });
        std::optional<harness::TcpProxy> proxy;
        proxy.emplace(server.port());
        auto client = harness::Client::connect(proxy->port());
        INFO(client);
        client.send("hi");
        REQUIRE(client.recv_exact(2) == "hi");
        proxy.reset();
        client.expect_eof(1s);
        server.join();
    }
    const char* saved = std::getenv("WORKBOOK_SEED");
    const std::optional<std::string> previous = saved ? std::optional<std::string>(saved) : std::nullopt;
    ::setenv("WORKBOOK_SEED", "42", 1);
    CHECK(harness::test_seed(7) == 42);
    CHECK(harness::TcpProxy(1, {.seed = 7}).seed() == 42);
    ::setenv("WORKBOOK_SEED", "forty-two", 1);
    CHECK_THROWS_AS((void)harness::test_seed(7), std::invalid_argument);
    ::unsetenv("WORKBOOK_SEED");
    CHECK(harness::test_seed(7) == 7);
    if (previous) {
        ::setenv("WORKBOOK_SEED", previous->c_str(), 1);
    }
}
