// Tests for exercise 07 — RFC 867/868 time over TCP and UDP, with timeouts
// (exercises/07-time-server/timeserver.hpp). The test plays the clients of
// your server and the servers of your client, over real loopback sockets;
// every wait has a deadline.
#include <doctest/doctest.h>

#include <array>
#include <atomic>
#include <cerrno>
#include <chrono>
#include <condition_variable>
#include <csignal>
#include <ctime>
#include <functional>
#include <mutex>
#include <netinet/in.h>
#include <optional>
#include <poll.h>
#include <pthread.h>
#include <string>
#include <sys/socket.h>
#include <system_error>
#include <thread>

#include <fmt/core.h>

#include "harness.hpp"
#include "interrupts.hpp"
#include "net/address.hpp"
#include "net/error.hpp"
#include "timeserver.hpp"

using namespace std::chrono_literals;
using harness::milliseconds;
using lesson07::Clock;

namespace {

// ---- time, as the test reads it ---------------------------------------------

Clock::time_point utc(int year, int month, int day, int hour, int minute, int second) {
    std::tm fields{};
    fields.tm_year = year - 1900;
    fields.tm_mon = month - 1;
    fields.tm_mday = day;
    fields.tm_hour = hour;
    fields.tm_min = minute;
    fields.tm_sec = second;
    return Clock::from_time_t(::timegm(&fields));
}

std::string iso(Clock::time_point when) {
    const std::time_t seconds = std::chrono::floor<std::chrono::seconds>(when).time_since_epoch().count();
    std::tm fields{};
    ::gmtime_r(&seconds, &fields);
    return fmt::format("{:04}-{:02}-{:02} {:02}:{:02}:{:02} UTC", fields.tm_year + 1900, fields.tm_mon + 1,
                       fields.tm_mday, fields.tm_hour, fields.tm_min, fields.tm_sec);
}

// RFC 868 bytes read the test's own way: big-endian, minus the 1900 offset.
Clock::time_point decode(std::string_view four) {
    REQUIRE(four.size() == 4);
    std::uint32_t value = 0;
    for (const char byte : four) {
        value = (value << 8) | static_cast<std::uint8_t>(byte);
    }
    return Clock::from_time_t(static_cast<std::time_t>(std::int64_t{value} - 2'208'988'800));
}

std::string hex(std::string_view bytes) {
    std::string out;
    for (const char byte : bytes) {
        out += fmt::format("{:02x} ", static_cast<std::uint8_t>(byte));
    }
    return out;
}

std::string as_string(const std::array<std::uint8_t, 4>& bytes) {
    return {reinterpret_cast<const char*>(bytes.data()), bytes.size()};
}

// The clock the server read and the one the test reads are the same machine's:
// two seconds of slack covers a slow run, and catches a wrong epoch or byte order.
void check_about_now(Clock::time_point told, std::string_view what) {
    const auto off = std::chrono::duration_cast<std::chrono::seconds>(told - Clock::now());
    INFO(what << " says " << iso(told) << ", the clock says " << iso(Clock::now()) << " (off by " << off.count()
              << " s)");
    CHECK(std::chrono::abs(off) <= 2s);
}

// A daytime line back to a time: "Monday, February 22, 1982 17:37:43-UTC\r\n".
Clock::time_point parse_daytime(const std::string& line) {
    INFO("the daytime line: \"" << harness::escape(line) << "\"");
    std::tm fields{};
    const char* end = ::strptime(line.c_str(), "%A, %B %d, %Y %H:%M:%S-UTC\r\n", &fields);
    REQUIRE(end != nullptr);
    REQUIRE(*end == '\0');
    return Clock::from_time_t(::timegm(&fields));
}

// ---- stopping a server thread the way Ctrl-C does ---------------------------

// Runs body(stop) on its own thread. stop() sets the flag, then signals the
// thread (SIGUSR2, no SA_RESTART) until the body returns.
class BackgroundServer {
public:
    using Body = std::function<std::size_t(const std::atomic<bool>& stop)>;

    BackgroundServer(Body body, std::function<void()> unblock) : unblock_(std::move(unblock)) {
        harness::install_stop_signal();
        harness::clear_server_failure();
        thread_ = std::thread([this, body = std::move(body)] {
            {
                const std::lock_guard lock(mutex_);
                id_ = ::pthread_self();
                started_ = true;
            }
            try {
                result_ = body(stop_);
            } catch (...) {
                error_ = std::current_exception();
                harness::record_server_failure(error_);
            }
            const std::lock_guard lock(mutex_);
            returned_ = true;
            changed_.notify_all();
        });
    }

    ~BackgroundServer() {
        if (thread_.joinable()) {
            try {
                (void)stop(500ms);
            } catch (...) {
                // the test's own failure is the one to report
            }
        }
    }

    BackgroundServer(const BackgroundServer&) = delete;
    BackgroundServer& operator=(const BackgroundServer&) = delete;

    std::size_t stop(milliseconds timeout = 1500ms) {
        const harness::Step step("stopping the server: stop flag set, signalling its thread until it returns");
        stop_.store(true);
        std::unique_lock lock(mutex_);
        const harness::Deadline deadline(timeout);
        while (!returned_ && !deadline.expired()) {
            if (started_) {
                ::pthread_kill(id_, harness::stop_signal);  // under the lock: the thread is still alive
            }
            changed_.wait_for(lock, 500us);
        }
        if (!returned_) {
            unblock_();
            if (!changed_.wait_for(lock, 3s, [this] { return returned_; })) {
                thread_.detach();
                harness::fatal_timeout("the server thread, after its stop flag was set and its socket shut down");
            }
            lock.unlock();
            thread_.join();
            throw harness::Timeout("the server did not return after its stop flag was set and its thread signalled",
                                   timeout);
        }
        lock.unlock();
        thread_.join();
        if (error_) {
            std::rethrow_exception(error_);
        }
        return result_;
    }

private:
    std::function<void()> unblock_;
    std::atomic<bool> stop_{false};
    std::mutex mutex_;
    std::condition_variable changed_;
    pthread_t id_{};
    bool started_ = false;
    bool returned_ = false;
    std::size_t result_ = 0;
    std::exception_ptr error_;
    std::thread thread_;  // last: it uses everything above
};

// ---- UDP, from the test's side ------------------------------------------------

net::Fd bound_udp() {
    net::Fd sock{net::check(::socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0), "socket")};
    sockaddr_in address{};
    address.sin_family = AF_INET;
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    net::check(::bind(sock.get(), reinterpret_cast<const sockaddr*>(&address), sizeof address), "bind");
    return sock;
}

void send_datagram(int sock, std::uint16_t port, std::string_view bytes) {
    sockaddr_in to{};
    to.sin_family = AF_INET;
    to.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    to.sin_port = htons(port);
    net::check(::sendto(sock, bytes.data(), bytes.size(), 0, reinterpret_cast<const sockaddr*>(&to), sizeof to),
               "test's sendto");
}

struct Datagram {
    std::string bytes;
    net::Address from;
};

// The datagram waiting on `sock` (one must be there).
Datagram read_datagram(int sock) {
    char buffer[2048];
    Datagram datagram;
    datagram.from.length = sizeof datagram.from.storage;
    const ssize_t n = net::check(::recvfrom(sock, buffer, sizeof buffer, MSG_DONTWAIT, datagram.from.get(),
                                            &datagram.from.length),
                                 "test's recvfrom");
    datagram.bytes.assign(buffer, static_cast<std::size_t>(n));
    return datagram;
}

Datagram receive_datagram(int sock, milliseconds timeout, std::string_view step) {
    harness::wait_readable(sock, harness::Deadline(timeout), step);
    return read_datagram(sock);
}

// A UDP time server of `service` on its own thread, for the tests to ask.
struct UdpServer {
    explicit UdpServer(lesson07::Service service, bool interrupt_storm = false)
        : sock(bound_udp()), port(net::local_port(sock.get())),
          thread([this, service, interrupt_storm](const std::atomic<bool>& stop) {
              std::optional<harness::InterruptStorm> storm;
              if (interrupt_storm) {
                  storm.emplace(::pthread_self());
              }
              return lesson07::serve_udp(sock.get(), service, stop);
          }, [this] { ::shutdown(sock.get(), SHUT_RDWR); }) {}

    net::Fd sock;
    std::uint16_t port;
    BackgroundServer thread;
};

// A UDP server the test scripts: answers the first datagram with
// respond(request), then stops. Its destructor wakes and joins it.
class FakeUdpServer {
public:
    explicit FakeUdpServer(std::function<std::string(const std::string& request)> respond)
        : sock_(bound_udp()), port_(net::local_port(sock_.get())) {
        harness::clear_server_failure();
        thread_ = std::thread([this, respond = std::move(respond)] {
            try {
                pollfd waiting{sock_.get(), POLLIN, 0};
                const harness::Deadline deadline(5000ms);
                while (!stopping_.load() && !deadline.expired()) {
                    if (net::check(::poll(&waiting, 1, 20), "poll") == 0) {
                        continue;
                    }
                    const Datagram asked = read_datagram(sock_.get());
                    request_ = asked.bytes;
                    const std::string reply = respond(asked.bytes);
                    net::check(::sendto(sock_.get(), reply.data(), reply.size(), 0, asked.from.get(),
                                        asked.from.length),
                               "sendto");
                    return;
                }
            } catch (...) {
                harness::record_server_failure(std::current_exception());
            }
        });
    }
    ~FakeUdpServer() {
        stopping_.store(true);
        if (thread_.joinable()) {
            thread_.join();
        }
    }
    FakeUdpServer(const FakeUdpServer&) = delete;
    FakeUdpServer& operator=(const FakeUdpServer&) = delete;

    [[nodiscard]] std::uint16_t port() const { return port_; }
    // What the client asked with; read it after the client returned.
    [[nodiscard]] std::string request() {
        stopping_.store(true);
        if (thread_.joinable()) {
            thread_.join();
        }
        return request_;
    }

private:
    net::Fd sock_;
    std::uint16_t port_;
    std::atomic<bool> stopping_{false};
    std::string request_ = "(no datagram arrived)";
    std::thread thread_;
};

// ---- TCP: did the server close on us? ----------------------------------------

// Waits up to `timeout` for the server to close the connection (EOF, or a
// reset when it closed with our bytes unread). False if it is still open.
bool server_closed_within(harness::Client& client, milliseconds timeout) {
    const harness::Deadline deadline(timeout);
    try {
        while (!deadline.expired()) {
            if (client.recv_some(deadline.remaining()).empty()) {
                return true;
            }
        }
    } catch (const harness::Timeout&) {
        return false;
    } catch (const std::system_error& error) {
        if (error.code().value() == ECONNRESET) {
            return true;
        }
        throw;
    }
    return false;
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

TEST_CASE("daytime_line: the RFC's example style, in UTC, ending in CRLF") {
    CHECK(lesson07::daytime_line(utc(1982, 2, 22, 17, 37, 43)) == "Monday, February 22, 1982 17:37:43-UTC\r\n");
    CHECK(lesson07::daytime_line(utc(2024, 3, 5, 7, 8, 9) + 500ms) == "Tuesday, March 05, 2024 07:08:09-UTC\r\n");
    check_about_now(parse_daytime(lesson07::daytime_line(Clock::now())), "daytime_line(now)");
}

// ---- the TCP server -----------------------------------------------------------

TEST_CASE("serve_tcp_client, daytime: one line with the time, then the server closes") {
    harness::LoopbackServer server([](int listener) {
        lesson07::serve_tcp_client(harness::accept_within(listener), lesson07::Service::daytime, 2000ms);
    });
    auto client = harness::Client::connect(server.port());
    INFO(client);
    const std::string line = client.recv_until_eof(1000ms);  // RFC 867: the client sends nothing
    check_about_now(parse_daytime(line), "the daytime server");
    server.join();
}

TEST_CASE("serve_tcp_client, time: 4 big-endian bytes, then it waits for the client to close first") {
    harness::LoopbackServer server([](int listener) {
        lesson07::serve_tcp_client(harness::accept_within(listener), lesson07::Service::time, 2000ms);
    });
    auto client = harness::Client::connect(server.port());
    INFO(client);
    const std::string four = client.recv_exact(4, 1000ms);
    INFO("the 4 bytes: " << hex(four));
    check_about_now(decode(four), "the time server");
    {
        INFO("RFC 868: the client closes first; the server waits for that (up to its timeout)");
        CHECK_FALSE(server_closed_within(client, 50ms));
    }
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
    CHECK(waited >= timeout / 2);  // it did wait for the client to close first
    CHECK(waited <= timeout + 600ms);

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
    CHECK(waited >= timeout / 2);
    CHECK(waited <= timeout + 600ms);
    server.join(1000ms);
}

// ---- the UDP server -----------------------------------------------------------

TEST_CASE("serve_udp, time: each empty datagram gets 4 bytes back, sent to its own sender") {
    UdpServer server(lesson07::Service::time);
    net::Fd first = bound_udp();
    net::Fd second = bound_udp();
    send_datagram(first.get(), server.port, "");
    send_datagram(second.get(), server.port, "");
    for (const int sock : {first.get(), second.get()}) {
        const Datagram reply = receive_datagram(sock, 1000ms, "waiting for the UDP time server's reply");
        INFO("the reply: " << hex(reply.bytes));
        REQUIRE(reply.bytes.size() == 4);
        CHECK(net::to_string(reply.from) == fmt::format("127.0.0.1:{}", server.port));
        check_about_now(decode(reply.bytes), "the UDP time server");
    }
    CHECK(server.thread.stop() == 2);
}

TEST_CASE("serve_udp, daytime: any datagram gets the daytime line back") {
    UdpServer server(lesson07::Service::daytime);
    net::Fd client = bound_udp();
    send_datagram(client.get(), server.port, "what time is it?\n");
    const Datagram reply = receive_datagram(client.get(), 1000ms, "waiting for the UDP daytime server's reply");
    check_about_now(parse_daytime(reply.bytes), "the UDP daytime server");
    CHECK(server.thread.stop() == 1);
}

TEST_CASE("serve_udp keeps answering through a storm of signals, and stops when asked") {
    UdpServer server(lesson07::Service::time, /*interrupt_storm=*/true);
    net::Fd client = bound_udp();
    for (int i = 0; i < 5; ++i) {
        send_datagram(client.get(), server.port, "");
        const Datagram reply = receive_datagram(client.get(), 1000ms, "waiting for the UDP time server's reply");
        REQUIRE(reply.bytes.size() == 4);
    }
    INFO("SIGUSR1 interrupts delivered: " << harness::interrupts_delivered());
    CHECK(server.thread.stop() == 5);
}

// ---- the client ---------------------------------------------------------------

TEST_CASE("ask_time over TCP reads the 4 bytes even when they arrive in pieces") {
    harness::LoopbackServer fake([](int listener) {
        harness::Client peer(harness::accept_within(listener), "client");
        peer.send(std::string("\xbc\x17", 2));
        std::this_thread::sleep_for(30ms);  // a pause between the pieces
        peer.send(std::string("\xc2\x00", 2));
        peer.expect_eof(2000ms);  // RFC 868: the client closes after reading
    });
    const auto when = harness::within(3s, "ask_time over TCP", [&] {
        return lesson07::ask_time("127.0.0.1", fake.port(), lesson07::Transport::tcp, 2000ms);
    });
    CHECK(iso(when) == "2000-01-01 00:00:00 UTC");
    fake.join();
}

TEST_CASE("ask_time over UDP sends one empty datagram and reads the 4-byte reply") {
    FakeUdpServer fake([](const std::string&) { return std::string("\x83\xaa\x7e\x80", 4); });
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
    const auto started = std::chrono::steady_clock::now();
    try {
        (void)harness::within(3500ms, "ask_time waiting for a server that never answers", [&] {
            return lesson07::ask_time("127.0.0.1", mute.port(), lesson07::Transport::tcp);
        }, [&] { ::shutdown(accepted.load(), SHUT_RDWR); });
        FAIL("ask_time returned a time from a server that sent nothing");
    } catch (const std::system_error& error) {
        const auto waited = std::chrono::duration_cast<milliseconds>(std::chrono::steady_clock::now() - started);
        INFO("what(): " << std::string(error.what()) << "; gave up after " << waited.count() << " ms");
        CHECK(error.code().value() == ETIMEDOUT);
        CHECK(waited >= 1500ms);
        CHECK(waited <= 2500ms);
    }
    mute.join(1000ms);
}

TEST_CASE("ask_time gives up on a UDP server that never answers, after the timeout it is given") {
    net::Fd mute = bound_udp();  // receives the question, never answers
    const auto started = std::chrono::steady_clock::now();
    try {
        (void)harness::within(1500ms, "ask_time waiting for a UDP server that never answers", [&] {
            return lesson07::ask_time("127.0.0.1", net::local_port(mute.get()), lesson07::Transport::udp, 300ms);
        }, [&] {
            // Free a client stuck in recv: answer it after all.
            try {
                const Datagram asked = receive_datagram(mute.get(), 100ms, "the question the client sent");
                ::sendto(mute.get(), "late", 4, 0, asked.from.get(), asked.from.length);
            } catch (...) {
                // it never asked: nothing to answer
            }
        });
        FAIL("ask_time returned a time from a server that sent nothing");
    } catch (const std::system_error& error) {
        const auto waited = std::chrono::duration_cast<milliseconds>(std::chrono::steady_clock::now() - started);
        INFO("what(): " << std::string(error.what()) << "; gave up after " << waited.count() << " ms");
        CHECK(error.code().value() == ETIMEDOUT);
        CHECK(waited >= 250ms);
        CHECK(waited <= 900ms);
    }
}

TEST_CASE("ask_time over UDP fails at once with ECONNREFUSED where nothing listens") {
    std::uint16_t closed_port = 0;
    {
        const net::Fd probe = bound_udp();
        closed_port = net::local_port(probe.get());
    }
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
    FakeUdpServer fake([](const std::string&) { return std::string("12345"); });
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

    UdpServer udp(lesson07::Service::time);
    check_about_now(harness::within(3s, "ask_time against serve_udp", [&] {
        return lesson07::ask_time("127.0.0.1", udp.port, lesson07::Transport::udp, 2000ms);
    }), "ask_time over UDP");
    CHECK(udp.thread.stop() == 1);
}
