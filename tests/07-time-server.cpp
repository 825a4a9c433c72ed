// Tests for exercise 07 — RFC 867/868 time over TCP and UDP, with timeouts
// (exercises/07-time-server/timeserver.hpp). The test plays the clients of
// your server and the servers of your client, over real loopback sockets;
// every wait has a deadline.
#include <doctest/doctest.h>

#include <array>
#include <atomic>
#include <cerrno>
#include <chrono>
#include <pthread.h>
#include <string>
#include <sys/socket.h>
#include <system_error>
#include <future>
#include <thread>

#include <fmt/core.h>

#include "07-time-server/clock.hpp"
#include "07-time-server/peers.hpp"
#include "background.hpp"
#include "harness.hpp"
#include "interrupts.hpp"
#include "net/address.hpp"
#include "net/error.hpp"
#include "timeserver.hpp"
#include "udp_peer.hpp"
#include "waits.hpp"

using namespace std::chrono_literals;
using harness::milliseconds;
using lesson07::Clock;
using test07::as_string;
using test07::check_about_now;
using test07::decode;
using test07::hex;
using test07::iso;
using test07::parse_daytime;
using test07::server_closed_within;
using test07::utc;

namespace {

// lesson07::serve_udp as the body of a harness::BackgroundUdpServer.
harness::BackgroundUdpServer::Body serve_udp(lesson07::Service service) {
    return [service](int socket, const std::atomic<bool>& stop) { return lesson07::serve_udp(socket, service, stop); };
}

}  // namespace

// ---- the formats --------------------------------------------------------------

TEST_CASE("time_bytes: 1970 is 2,208,988,800 seconds after 1900, most significant byte first") {
    CHECK(hex(as_string(lesson07::time_bytes(Clock::from_time_t(0)))) == "83 aa 7e 80 ");
    CHECK(hex(as_string(lesson07::time_bytes(utc(2000, 1, 1, 0, 0, 0)))) == "bc 17 c2 00 ");
    CHECK(hex(as_string(lesson07::time_bytes(utc(2000, 1, 1, 0, 0, 0) + 999ms))) == "bc 17 c2 00 ");
    check_about_now(decode(as_string(lesson07::time_bytes(Clock::now()))), "time_bytes(now)");
}

TEST_CASE("time_bytes wraps around on 2036-02-07 06:28:16 UTC, as 32 bits must") {
    const auto wrap = utc(2036, 2, 7, 6, 28, 16);
    CHECK(hex(as_string(lesson07::time_bytes(wrap - 1s))) == "ff ff ff ff ");
    CHECK(hex(as_string(lesson07::time_bytes(wrap))) == "00 00 00 00 ");
    CHECK(hex(as_string(lesson07::time_bytes(wrap + 1s))) == "00 00 00 01 ");
}

TEST_CASE("time_from_bytes reads what time_bytes writes, before and after the 2036 wrap") {
    const std::array<std::uint8_t, 4> unix_epoch{0x83, 0xaa, 0x7e, 0x80};
    CHECK(iso(lesson07::time_from_bytes(unix_epoch)) == "1970-01-01 00:00:00 UTC");
    const std::array<std::uint8_t, 4> y2k{0xbc, 0x17, 0xc2, 0x00};
    CHECK(iso(lesson07::time_from_bytes(y2k)) == "2000-01-01 00:00:00 UTC");
    const std::array<std::uint8_t, 4> after_wrap{0x00, 0x00, 0x00, 0x01};
    CHECK(iso(lesson07::time_from_bytes(after_wrap)) == "2036-02-07 06:28:17 UTC");
    for (const auto when : {utc(1999, 12, 31, 23, 59, 59), utc(2024, 3, 5, 7, 8, 9), utc(2100, 6, 1, 12, 0, 0),
                            Clock::time_point{std::chrono::floor<std::chrono::seconds>(Clock::now())}}) {
        INFO("round trip of " << iso(when));
        CHECK(lesson07::time_from_bytes(lesson07::time_bytes(when)) == when);
    }
}

TEST_CASE("daytime_line: the RFC's example style, in UTC (not local time), ending in CRLF") {
    const test07::LocalTimeFarFromUtc local_time;  // UTC+14: localtime_r would be 14 hours off
    CHECK(lesson07::daytime_line(utc(1982, 2, 22, 17, 37, 43)) == "Monday, February 22, 1982 17:37:43-UTC\r\n");
    CHECK(lesson07::daytime_line(utc(2024, 3, 5, 7, 8, 9) + 500ms) == "Tuesday, March 05, 2024 07:08:09-UTC\r\n");
    check_about_now(parse_daytime(lesson07::daytime_line(Clock::now())), "daytime_line(now)");
}

// ---- the TCP server -----------------------------------------------------------

TEST_CASE("serve_tcp_client, daytime: one line with the time, then the server closes") {
    const test07::LocalTimeFarFromUtc local_time;
    harness::LoopbackServer server([](int listener) {
        lesson07::serve_tcp_client(harness::accept_within(listener), lesson07::Service::daytime, 2000ms);
    });
    auto client = harness::Client::connect(server.port());
    INFO(client);
    const std::string line = client.recv_until_eof(1000ms);  // RFC 867: the client sends nothing
    check_about_now(parse_daytime(line), "the daytime server");
    server.join();
}

TEST_CASE("serve_tcp_client, time: 4 big-endian bytes, then it closes at once (RFC 868's prose) or when the client does (its dialogue)") {
    harness::LoopbackServer server([](int listener) {
        lesson07::serve_tcp_client(harness::accept_within(listener), lesson07::Service::time, 2000ms);
    });
    auto client = harness::Client::connect(server.port());
    INFO(client);
    const std::string four = client.recv_exact(4, 1000ms);
    INFO("the 4 bytes: " << hex(four));
    check_about_now(decode(four), "the time server");
    if (server_closed_within(client, test07::closes_at_once)) {
        const harness::Step step("the server closed right after its 4 bytes (RFC 868's prose): it should return");
        server.join(500ms);
        return;
    }
    // It waits for the client to close first (up to its timeout): close.
    client.close();
    const harness::Step step("the client closed: the server should return at once");
    server.join(500ms);
}

TEST_CASE("serve_tcp_client drops a client that never closes, on time, and the next client is served") {
    const auto timeout = 300ms;
    harness::LoopbackServer server([&](int listener) {
        for (int i = 0; i < 2; ++i) {
            lesson07::serve_tcp_client(harness::accept_within(listener), lesson07::Service::time, timeout);
        }
    });
    auto silent = harness::Client::connect(server.port());
    INFO(silent);
    (void)silent.recv_exact(4, 1000ms);
    const auto served_at = std::chrono::steady_clock::now();
    auto next = harness::Client::connect(server.port());  // waits behind the silent one

    const bool dropped = server_closed_within(silent, 1500ms);
    const auto waited = std::chrono::duration_cast<milliseconds>(std::chrono::steady_clock::now() - served_at);
    INFO("the silent client was " << std::string(dropped ? "dropped" : "still connected") << " after " << waited.count()
         << " ms; the timeout is " << timeout.count() << " ms");
    REQUIRE(dropped);
    test07::check_close_time(waited, timeout);

    const std::string four = next.recv_exact(4, 1000ms);
    check_about_now(decode(four), "the time server, to the next client");
    next.close();
    server.join(1000ms);
}

TEST_CASE("serve_tcp_client: a client that sends a byte every 50 ms is dropped on time too") {
    const auto timeout = 300ms;
    harness::LoopbackServer server([&](int listener) {
        lesson07::serve_tcp_client(harness::accept_within(listener), lesson07::Service::time, timeout);
    });
    auto dripping = harness::Client::connect(server.port());
    (void)dripping.recv_exact(4, 1000ms);
    const auto served_at = std::chrono::steady_clock::now();
    const harness::Deadline give_up(1500ms);
    bool dropped = false;
    while (!dropped && !give_up.expired()) {
        try {
            dripping.send(".", 100ms);
        } catch (const std::system_error&) {
            dropped = true;  // the server closed with our bytes unread: a reset
            break;
        }
        dropped = server_closed_within(dripping, 50ms);
    }
    const auto waited = std::chrono::duration_cast<milliseconds>(std::chrono::steady_clock::now() - served_at);
    INFO("the dripping client was " << std::string(dropped ? "dropped" : "still connected") << " after " << waited.count()
         << " ms; the timeout is " << timeout.count() << " ms for the whole wait, not per recv");
    REQUIRE(dropped);
    test07::check_close_time(waited, timeout);
    server.join(1000ms);
}

// ---- the UDP server -----------------------------------------------------------

TEST_CASE("serve_udp, time: each empty datagram gets 4 bytes back, sent to its own sender") {
    harness::BackgroundUdpServer server(serve_udp(lesson07::Service::time));
    harness::UdpPeer first("127.0.0.1", "first client");
    harness::UdpPeer second("127.0.0.1", "second client");
    first.send_to(server.address(), "");
    second.send_to(server.address(), "");
    for (harness::UdpPeer* client : {&first, &second}) {
        INFO(*client);
        const harness::UdpDatagram reply = client->receive(1000ms, "waiting for the UDP time server's reply");
        INFO("the reply: " << hex(reply.bytes));
        REQUIRE(reply.bytes.size() == 4);
        CHECK(reply.from == net::to_string(server.address()));
        check_about_now(decode(reply.bytes), "the UDP time server");
    }
    CHECK(server.stop() == 2);
}

TEST_CASE("serve_udp, daytime: any datagram gets the daytime line back") {
    const test07::LocalTimeFarFromUtc local_time;
    harness::BackgroundUdpServer server(serve_udp(lesson07::Service::daytime));
    harness::UdpPeer client;
    client.send_to(server.address(), "what time is it?\n");
    INFO(client);
    const harness::UdpDatagram reply = client.receive(1000ms, "waiting for the UDP daytime server's reply");
    check_about_now(parse_daytime(reply.bytes), "the UDP daytime server");
    CHECK(server.stop() == 1);
}

TEST_CASE("serve_udp keeps answering through a storm of signals, and stops when asked") {
    harness::BackgroundUdpServer server([](int socket, const std::atomic<bool>& stop) {
        const harness::InterruptStorm storm(::pthread_self());
        return lesson07::serve_udp(socket, lesson07::Service::time, stop);
    });
    harness::UdpPeer client;
    for (int i = 0; i < 5; ++i) {
        client.send_to(server.address(), "");
        INFO(client);
        const harness::UdpDatagram reply = client.receive(1000ms, "waiting for the UDP time server's reply");
        REQUIRE(reply.bytes.size() == 4);
    }
    INFO("SIGUSR1 interrupts delivered: " << harness::interrupts_delivered());
    CHECK(server.stop() == 5);
}

TEST_CASE("serve_udp: a reply that cannot be sent is skipped, and the next peer is still answered") {
    // The one reply an unprivileged test can make the kernel refuse for real:
    // on a Unix-domain datagram socket, a question from an unnamed socket comes
    // from an empty address, and sendto to it fails (ENOTCONN). A UDP server
    // meets the same for one peer as EACCES, EPERM or ENOBUFS.
    const net::Fd socket = test07::unix_datagram_socket("server");
    harness::BackgroundServer server([&](const std::atomic<bool>& stop) {
        return lesson07::serve_udp(socket.get(), lesson07::Service::time, stop);
    }, [&] { ::shutdown(socket.get(), SHUT_RDWR); });
    const net::Fd nameless = test07::unix_datagram_socket();
    const net::Fd named = test07::unix_datagram_socket("client");
    const net::Address to = test07::unix_address("server");
    net::check(::sendto(nameless.get(), "", 0, 0, to.get(), to.length), "test's sendto from the unnamed socket");
    net::check(::sendto(named.get(), "", 0, 0, to.get(), to.length), "test's sendto from the named socket");
    harness::wait_readable(named.get(), harness::Deadline(1000ms),
                           "the named client waiting for its reply, after the server failed to answer the unnamed one");
    char reply[16];
    const ssize_t n = net::check(::recv(named.get(), reply, sizeof reply, MSG_DONTWAIT), "test's recv");
    CHECK(n == 4);
    INFO("serve_udp counts only the replies it sent");
    CHECK(server.stop() == 1);
}

// ---- the client ---------------------------------------------------------------

TEST_CASE("ask_time over TCP reads the 4 bytes even when they arrive in pieces") {
    std::promise<pid_t> asking;
    harness::LoopbackServer fake([asker = asking.get_future().share()](int listener) {
        harness::Client peer(harness::accept_within(listener), "client");
        REQUIRE(asker.wait_for(2s) == std::future_status::ready);
        peer.send(std::string("\xbc\x17", 2));
        try {
            harness::wait_until_taken(peer.fd(), harness::peer_socket(peer.fd()), asker.get(),
                                      "ask_time took the first 2 bytes and waits for more", 2000ms);
        } catch (const harness::Timeout&) {
            return;  // it stopped reading: the test reports what ask_time returned
        }
        peer.send(std::string("\xc2\x00", 2));  // so this arrives in a later recv
        peer.expect_eof(2000ms);  // RFC 868: the client closes after reading
    });
    const auto when = harness::within(3s, "ask_time over TCP", [&] {
        asking.set_value(harness::thread_id());
        return lesson07::ask_time("127.0.0.1", fake.port(), lesson07::Transport::tcp, 2000ms);
    });
    CHECK(iso(when) == "2000-01-01 00:00:00 UTC");
    fake.join();
}

TEST_CASE("ask_time over TCP takes the time from a server that closes right after the 4 bytes (RFC 868's prose)") {
    // "When the connection is established, the server returns a 32-bit time
    // value and closes the connection." Many servers do just that.
    harness::LoopbackServer closing([](int listener) {
        harness::Client peer(harness::accept_within(listener), "client");
        peer.send(std::string("\xbc\x17\xc2\x00", 4));
        peer.close();  // the server closes first, without waiting for the client
    });
    const auto when = harness::within(3s, "ask_time from a server that closes first", [&] {
        return lesson07::ask_time("127.0.0.1", closing.port(), lesson07::Transport::tcp, 2000ms);
    });
    CHECK(iso(when) == "2000-01-01 00:00:00 UTC");
    closing.join();
}

TEST_CASE("ask_time over UDP sends one empty datagram and reads the 4-byte reply") {
    test07::FakeUdpTimeServer fake([](const std::string&) { return std::string("\x83\xaa\x7e\x80", 4); });
    const auto when = harness::within(3s, "ask_time over UDP", [&] {
        return lesson07::ask_time("127.0.0.1", fake.port(), lesson07::Transport::udp, 2000ms);
    });
    CHECK(iso(when) == "1970-01-01 00:00:00 UTC");
    INFO("the question: \"" << harness::escape(fake.request()) << "\"");
    CHECK(fake.request().empty());  // RFC 868 over UDP: an empty datagram asks
}

TEST_CASE("ask_time gives up on a TCP server that never answers: after 2 s by default") {
    std::atomic<int> accepted{-1};
    harness::LoopbackServer mute([&](int listener) {
        harness::Client peer(harness::accept_within(listener), "client");
        accepted = peer.fd();
        (void)peer.recv_until_eof(5000ms);  // says nothing; waits for the client to give up
    });
    test07::expect_timeout("ask_time waiting for a server that never answers", 3500ms, 1500ms, 2500ms, [&] {
        return lesson07::ask_time("127.0.0.1", mute.port(), lesson07::Transport::tcp);
    }, "ask_time returned a time from a server that sent nothing", [&] { ::shutdown(accepted.load(), SHUT_RDWR); });
    mute.join(1000ms);
}

TEST_CASE("ask_time's timeout is for the whole answer: a server dripping a byte every 800 ms loses a 2 s client") {
    // Bytes at 0.8, 1.6, 2.4 and 3.2 s: a client whose timer restarts at every
    // recv (SO_RCVTIMEO set once, Python's settimeout) waits for all four.
    harness::LoopbackServer dripping([](int listener) {
        harness::Client peer(harness::accept_within(listener), "client");
        for (const char byte : std::string("\xbc\x17\xc2\x00", 4)) {
            try {
                if (peer.recv_some(800ms).empty()) {
                    return;  // the client gave up and closed: done
                }
            } catch (const harness::Timeout&) {
                peer.send(std::string(1, byte));  // 800 ms of silence, then one more byte
            }
        }
        peer.expect_eof(2000ms);
    });
    test07::expect_timeout("ask_time against a server dripping a byte every 800 ms", 4500ms, 1500ms, 2500ms, [&] {
        return lesson07::ask_time("127.0.0.1", dripping.port(), lesson07::Transport::tcp, 2000ms);
    }, "ask_time waited for all 4 bytes, 3.2 s, with a timeout of 2 s: its deadline restarted at each recv");
    dripping.join(2000ms);
}

TEST_CASE("ask_time gives up on a listener whose accept queue is full (its SYN is dropped), within its timeout") {
    test07::FullListener full;
    test07::expect_timeout("ask_time connecting to a listener whose accept queue is full", 2500ms, 0ms, 1500ms, [&] {
        return lesson07::ask_time("127.0.0.1", full.port(), lesson07::Transport::tcp, 1000ms);
    }, "ask_time returned a time from a listener that never accepted (connect() needs the deadline too)",
       [&] { full.close(); });  // a blocking connect's next SYN then gets a reset
}

TEST_CASE("ask_time gives up on a UDP server that never answers, after the timeout it is given") {
    harness::UdpPeer mute("127.0.0.1", "mute server");  // receives the question, never answers
    test07::expect_timeout("ask_time waiting for a UDP server that never answers", 1500ms, 250ms, 900ms, [&] {
        return lesson07::ask_time("127.0.0.1", net::local_port(mute.fd()), lesson07::Transport::udp, 300ms);
    }, "ask_time returned a time from a server that sent nothing", [&] {
        // Free a client stuck in recv: answer it after all.
        try {
            const auto asked = mute.receive(100ms, "the question the client sent");
            const auto port = asked.from.substr(asked.from.rfind(':') + 1);
            mute.send_to(harness::udp_address(static_cast<std::uint16_t>(std::stoi(port))), "late");
        } catch (...) {
            // it never asked: nothing to answer
        }
    });
}

TEST_CASE("ask_time over UDP fails at once with ECONNREFUSED where nothing listens") {
    const std::uint16_t closed_port = harness::closed_udp_port();
    try {
        (void)harness::within(1500ms, "ask_time to a UDP port where nothing listens", [&] {
            return lesson07::ask_time("127.0.0.1", closed_port, lesson07::Transport::udp, 2000ms);
        });
        FAIL("ask_time returned a time from a port where nothing listens");
    } catch (const std::system_error& error) {
        INFO("what(): " << std::string(error.what()) << " (connect() the UDP socket to learn of the ICMP error)");
        CHECK(error.code().value() == ECONNREFUSED);
    }
}

TEST_CASE("ask_time over TCP reports a server that closes after 2 of the 4 bytes") {
    harness::LoopbackServer fake([](int listener) {
        harness::Client peer(harness::accept_within(listener), "client");
        peer.send(std::string("\xbc\x17", 2));
    });
    REQUIRE_THROWS_AS((void)harness::within(3s, "ask_time from a server that sends 2 bytes", [&] {
        return lesson07::ask_time("127.0.0.1", fake.port(), lesson07::Transport::tcp, 2000ms);
    }), std::runtime_error);
    fake.join();
}

TEST_CASE("ask_time over UDP refuses a reply that is not 4 bytes") {
    test07::FakeUdpTimeServer fake([](const std::string&) { return std::string("12345"); });
    CHECK_THROWS_AS((void)harness::within(3s, "ask_time receiving a 5-byte reply", [&] {
        return lesson07::ask_time("127.0.0.1", fake.port(), lesson07::Transport::udp, 2000ms);
    }), std::runtime_error);
}

TEST_CASE("ask_time and the servers agree: the time comes back within 2 s of the clock, over TCP and UDP") {
    harness::LoopbackServer tcp([](int listener) {
        lesson07::serve_tcp_client(harness::accept_within(listener), lesson07::Service::time, 1000ms);
    });
    check_about_now(harness::within(3s, "ask_time against serve_tcp_client", [&] {
        return lesson07::ask_time("127.0.0.1", tcp.port(), lesson07::Transport::tcp, 2000ms);
    }), "ask_time over TCP");
    tcp.join(1000ms);

    harness::BackgroundUdpServer udp(serve_udp(lesson07::Service::time));
    check_about_now(harness::within(3s, "ask_time against serve_udp", [&] {
        return lesson07::ask_time("127.0.0.1", udp.port(), lesson07::Transport::udp, 2000ms);
    }), "ask_time over UDP");
    CHECK(udp.stop() == 1);
}
