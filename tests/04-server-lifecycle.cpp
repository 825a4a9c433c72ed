// Tests for exercise 04 — a server that behaves (exercises/04-server-lifecycle/lifecycle.hpp).
// The test plays the clients over real loopback sockets; every wait has a
// deadline. SIGPIPE is blocked in the server's thread, so a send that raises
// it is reported by name instead of ending the test run (fixtures.hpp).
#include <doctest/doctest.h>

#include <atomic>
#include <cerrno>
#include <chrono>
#include <future>
#include <optional>
#include <string>
#include <sys/socket.h>
#include <system_error>
#include <thread>

#include <fmt/core.h>

#include "04-server-lifecycle/fixtures.hpp"
#include "harness.hpp"
#include "interrupts.hpp"
#include "lifecycle.hpp"
#include "net/address.hpp"
#include "net/error.hpp"
#include "waits.hpp"

using namespace std::chrono_literals;

using fixtures::end_request;
using fixtures::huge_reply;
using fixtures::ServeInBackground;
using fixtures::shout;
using fixtures::sigpipe_verdict;
using fixtures::time_wait_count;

// ---- open_listener --------------------------------------------------------

TEST_CASE("open_listener listens on 127.0.0.1 by default, on a port the kernel picks") {
    const net::Fd listener = lesson04::open_listener(0);
    REQUIRE(listener.valid());
    const std::uint16_t port = net::local_port(listener.get());
    CHECK(port != 0);
    CHECK(net::to_string(net::local_address(listener.get())) == fmt::format("127.0.0.1:{}", port));
    auto client = harness::Client::connect(port);
    const net::Fd accepted = harness::accept_within(listener.get(), 1000ms);
    CHECK(accepted.valid());
}

TEST_CASE("open_listener listens on ::1 when asked") {
    const net::Fd listener = lesson04::open_listener(0, "::1");
    const std::uint16_t port = net::local_port(listener.get());
    CHECK(net::to_string(net::local_address(listener.get())) == fmt::format("[::1]:{}", port));
    auto client = harness::Client::connect(port, "::1");
    CHECK(harness::accept_within(listener.get(), 1000ms).valid());
}

TEST_CASE("open_listener: a server restarted right after closing a connection first binds again (SO_REUSEADDR)") {
    std::uint16_t port = 0;
    {
        const net::Fd listener = lesson04::open_listener(0);
        port = net::local_port(listener.get());
        auto client = harness::Client::connect(port);
        net::Fd accepted = harness::accept_within(listener.get(), 1000ms);
        accepted.reset();      // the server closes first: its side will wait in TIME_WAIT
        client.expect_eof(1000ms);
        client.close();        // the client's FIN completes the close
    }                          // and the old server exits
    // The kernel processes a loopback FIN at once; allow it a moment anyway.
    const harness::Deadline settle(500ms);
    while (time_wait_count(port) == 0 && !settle.expired()) {
        std::this_thread::sleep_for(1ms);
    }
    INFO("connections in TIME_WAIT on port " << port << ": " << time_wait_count(port));
    REQUIRE(time_wait_count(port) >= 1);  // the situation a restart runs into

    try {
        const net::Fd restarted = lesson04::open_listener(port);
        CHECK(net::local_port(restarted.get()) == port);
        auto client = harness::Client::connect(port);
        CHECK(harness::accept_within(restarted.get(), 1000ms).valid());
    } catch (const std::system_error& error) {
        FAIL("the restarted server could not listen on port " << port << ": " << std::string(error.what())
             << "\n  a connection the old server closed first is in TIME_WAIT; set SO_REUSEADDR "
                "before bind() (the accepted sockets inherit it from the listener)");
    }
}

TEST_CASE("open_listener refuses a port another server listens on, with an error naming bind") {
    const net::Fd first = lesson04::open_listener(0);
    const std::uint16_t port = net::local_port(first.get());
    try {
        const net::Fd second = lesson04::open_listener(port);
        FAIL("two servers listen on 127.0.0.1:" << port
             << " at once: SO_REUSEPORT allows that; SO_REUSEADDR alone does not");
    } catch (const std::system_error& error) {
        INFO("what(): " << std::string(error.what()));
        CHECK(error.code().value() == EADDRINUSE);
        CHECK(std::string(error.what()).find("bind") != std::string::npos);
    }
}

// ---- serve_client ---------------------------------------------------------

TEST_CASE("serve_client: the client half-closes (shutdown SHUT_WR) and still gets the whole reply") {
    std::string request_seen;
    harness::LoopbackServer server([&](int listener) {
        lesson04::serve_client(harness::accept_within(listener), [&](std::string_view request) {
            request_seen = request;
            return shout(request);
        });
    });
    auto client = harness::Client::connect(server.port());
    INFO(client);
    client.send("banana\n");
    {
        // A server that waits for the rest takes these bytes and blocks in
        // recv again; one that answers now has sent something by then.
        try {
            const int accepted = harness::wait_for_peer_socket(client.fd(), "serve_client's socket");
            harness::wait_until_taken(client.fd(), accepted, server.thread_id(),
                                      "serve_client taking the first part of the request and waiting for more",
                                      1000ms);
        } catch (const harness::Timeout&) {
            // it did not wait for more: the check below says whether it answered instead
        }
        INFO("the request is everything up to the client's EOF: nothing may come back before it");
        REQUIRE(harness::unread_bytes(client.fd()) == 0);
    }
    client.send("apple\ncherry");
    end_request(client);
    REQUIRE(client.recv_until_eof(2000ms) == "19 bytes: BANANA\nAPPLE\nCHERRY");
    server.join();
    CHECK(request_seen == "banana\napple\ncherry");
}

TEST_CASE("serve_client: a request of 300 KB and a reply of 2 MB arrive whole") {
    const std::string request = harness::random_bytes(300'000, 4);
    const std::string reply = harness::random_bytes(2'000'000, 5);
    std::string request_seen;
    harness::LoopbackServer server([&](int listener) {
        lesson04::serve_client(harness::accept_within(listener), [&](std::string_view got) {
            request_seen = got;
            return reply;
        });
    });
    auto client = harness::Client::connect(server.port());
    client.send(request);
    end_request(client);
    const std::string back = client.recv_until_eof(3000ms);
    server.join();
    CHECK(request_seen.size() == request.size());
    CHECK(request_seen == request);
    REQUIRE(back.size() == reply.size());
    CHECK(back == reply);
}

TEST_CASE("serve_client refuses a request over max_request without calling the handler") {
    bool handler_called = false;
    std::string refusal;
    harness::LoopbackServer server([&](int listener) {
        try {
            lesson04::serve_client(harness::accept_within(listener), [&](std::string_view) {
                handler_called = true;
                return std::string("should not be sent");
            });
        } catch (const std::runtime_error& error) {
            refusal = error.what();
        }
    });
    auto client = harness::Client::connect(server.port());
    try {
        client.send(std::string(lesson04::max_request + 1, 'a'), 3000ms);
        end_request(client);
        (void)client.recv_until_eof(3000ms);
    } catch (const std::system_error&) {
        // a reset is a fine way to be refused, too
    }
    server.join();
    CHECK_FALSE(handler_called);
    INFO("serve_client should throw std::runtime_error for a request of max_request + 1 bytes");
    CHECK_FALSE(refusal.empty());
}

TEST_CASE("serve_client: a client that resets mid-reply raises no SIGPIPE; send fails with EPIPE or ECONNRESET") {
    std::optional<std::system_error> failure;
    bool sigpipe = false;
    harness::LoopbackServer server([&](int listener) {
        fixtures::block_sigpipe();
        try {
            lesson04::serve_client(harness::accept_within(listener),
                                   [](std::string_view) { return huge_reply(); });
        } catch (const std::system_error& error) {
            failure = error;
        }
        sigpipe = fixtures::took_pending_sigpipe();
    });
    auto client = harness::Client::connect(server.port());
    INFO(client);
    client.send("give me everything");
    end_request(client);
    REQUIRE(client.recv_some(2000ms).size() > 0);  // the reply has started
    client.close_with_reset();                      // and the client vanishes
    server.join();
    INFO(sigpipe_verdict);
    CHECK_FALSE(sigpipe);
    REQUIRE(failure.has_value());
    INFO("what(): " << std::string(failure->what()));
    CHECK((failure->code().value() == EPIPE || failure->code().value() == ECONNRESET));
    CHECK(std::string(failure->what()).find("send") != std::string::npos);
}

// ---- serve ----------------------------------------------------------------

TEST_CASE("serve serves clients one after another, then returns how many when stopped") {
    const int before = harness::open_fd_count();
    {
        ServeInBackground server(shout);
        for (const std::string name : {"one", "two", "three"}) {
            auto client = harness::Client::connect(server.port());
            INFO(client);
            client.send(name);
            end_request(client);
            REQUIRE(client.recv_until_eof(2000ms) == shout(name));
        }
        CHECK(server.stop() == 3);
        CHECK_FALSE(server.raised_sigpipe());
    }
    CHECK(harness::open_fd_count() == before);  // every accepted socket was closed
}

TEST_CASE("serve: a client that resets mid-reply does not stop the server from serving the next one") {
    ServeInBackground server([](std::string_view request) {
        return request == "huge" ? huge_reply() : shout(request);
    });
    {
        auto rude = harness::Client::connect(server.port());
        INFO(rude);
        rude.send("huge");
        end_request(rude);
        REQUIRE(rude.recv_some(2000ms).size() > 0);
        rude.close_with_reset();
    }
    auto next = harness::Client::connect(server.port());
    INFO(next);
    next.send("still there?");
    end_request(next);
    REQUIRE(next.recv_until_eof(2000ms) == shout("still there?"));
    CHECK(server.stop() == 1);  // the rude client was not served in full
    INFO(sigpipe_verdict);
    CHECK_FALSE(server.raised_sigpipe());
}

TEST_CASE("serve: a graceful stop finishes the client in flight, then accepts no one") {
    const std::size_t reply_size = 8 << 20;  // twice what the socket buffers hold
    std::promise<void> handling;
    std::atomic<bool> handling_announced{false};
    ServeInBackground server([&](std::string_view request) {
        if (!handling_announced.exchange(true)) {
            server.request_stop();  // Ctrl-C arrives while this client is being served
            handling.set_value();
        }
        return shout(request) + huge_reply().substr(0, reply_size);
    });
    auto in_flight = harness::Client::connect(server.port());
    INFO(in_flight);
    in_flight.send("first");
    auto queued = harness::Client::connect(server.port());  // waits in the accept queue
    end_request(in_flight);
    {
        const harness::Step step("waiting for serve to call the handler for the client in flight");
        const auto called = handling.get_future();
        const harness::Deadline deadline(2000ms);
        while (called.wait_for(5ms) != std::future_status::ready) {
            harness::rethrow_server_failure();  // a server that failed will never call it
            if (deadline.expired()) {
                throw harness::Timeout(harness::current_step(), deadline.budget());
            }
        }
    }

    // The stop signals keep coming while the reply is still on its way.
    auto stopping = std::async(std::launch::async, [&] {
        return server.stop(1500ms, [&] { queued.close(); });
    });
    const std::string reply = in_flight.recv_until_eof(3000ms);
    const std::size_t served = stopping.get();
    INFO("stop signals delivered to the server's thread: " << harness::stop_signals_delivered());
    INFO("the client in flight must get its whole reply: a stop signal interrupting send (EINTR, or a "
         "short count) is retried, and the stop flag only keeps the next client out");
    REQUIRE(reply.size() == shout("first").size() + reply_size);
    CHECK(reply.starts_with(shout("first")));
    CHECK(served == 1);
    CHECK(server.handled() == 1);  // the queued client was never accepted
}

TEST_CASE("serve stops at once when asked before any client comes") {
    ServeInBackground server(shout);
    CHECK(server.stop(1000ms) == 0);
    CHECK(server.handled() == 0);
}

TEST_CASE("serve keeps serving through a storm of signals: EINTR is not an error") {
    const std::string reply = harness::random_bytes(1'000'000, 7);
    ServeInBackground server([&](std::string_view) { return reply; }, /*interrupt_storm=*/true);
    for (int i = 0; i < 3; ++i) {
        auto client = harness::Client::connect(server.port());
        INFO(client);
        const std::string request = harness::random_bytes(200'000, static_cast<std::uint64_t>(i));
        client.send(request);
        end_request(client);
        const std::string back = client.recv_until_eof(3000ms);
        REQUIRE(back.size() == reply.size());
        CHECK(back == reply);
    }
    INFO("SIGUSR1 interrupts delivered: " << harness::interrupts_delivered());
    CHECK(server.stop() == 3);
}
