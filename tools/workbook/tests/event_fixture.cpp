// Test cases that fail on purpose, each in one of the ways a learner's code
// makes a test fail, for the round trip test in test_events.cpp: this binary
// (linked with the real test main) writes the events, the CLI reads them.
// Not a test itself: each case is run alone with -tc=.
#include <doctest/doctest.h>

#include <chrono>
#include <csignal>
#include <sys/socket.h>
#include <thread>

#include "harness.hpp"
#include "net/error.hpp"

TEST_CASE("a wrong reply") {
    harness::LoopbackServer server([](int listener) {
        const net::Fd peer = harness::accept_within(listener);
        net::check(::send(peer.get(), "hi", 2, MSG_NOSIGNAL), "send");
    });
    auto client = harness::Client::connect(server.port());
    INFO(client);
    CHECK(client.recv_exact(2) == "ho");
}

TEST_CASE("a stub") {
    harness::LoopbackServer server([](int) { net::todo("serve: accept, then answer"); });
    auto client = harness::Client::connect(server.port());
    REQUIRE(client.recv_exact(1) == "x");
}

TEST_CASE("a hang") {
    SUBCASE("in a subcase") {
        const harness::Step step("waiting for nothing");
        std::this_thread::sleep_for(std::chrono::seconds(10));
    }
}

TEST_CASE("a SIGPIPE") {
    std::raise(SIGPIPE);
}
