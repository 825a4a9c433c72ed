// Tests for exercise 03 — send_all, recv_exact and LineReader
// (exercises/03-byte-streams/streams.hpp). The test is the peer, over real
// loopback sockets; the code under test runs on its own thread, and every
// wait has a deadline.
#include <doctest/doctest.h>

#include <atomic>
#include <cerrno>
#include <chrono>
#include <cstdlib>
#include <optional>
#include <pthread.h>
#include <random>
#include <string>
#include <sys/socket.h>
#include <system_error>
#include <thread>
#include <vector>

#include <fmt/core.h>

#include "harness.hpp"
#include "interrupts.hpp"
#include "net/error.hpp"
#include "printers.hpp"
#include "streams.hpp"
#include "tcp_proxy.hpp"
#include "waits.hpp"
#include "wire.hpp"

using namespace std::chrono_literals;

namespace {

harness::ProxyOptions rechunking() { return harness::ProxyOptions{}; }

// Lines of 0..max_length printable bytes, each ending in '\n', about `total` bytes in all.
std::string random_lines(std::size_t total, std::size_t max_length, std::uint64_t seed) {
    std::mt19937_64 random(seed);
    std::string text;
    while (text.size() < total) {
        const std::size_t length = random() % (max_length + 1);
        for (std::size_t i = 0; i < length; ++i) {
            text += static_cast<char>(' ' + random() % 95);
        }
        text += '\n';
    }
    return text;
}

// {"one", "two"}, escaped, for failure reports.
std::string show(const std::vector<std::string>& lines) {
    std::string out;
    for (const std::string& line : lines) {
        out += fmt::format("{}\"{}\"", out.empty() ? "{" : ", ", harness::escape(line, 60));
    }
    return out.empty() ? "{}" : out + "}";
}

void set_buffer(int fd, int option, int bytes) {
    net::check(::setsockopt(fd, SOL_SOCKET, option, &bytes, sizeof bytes), "setsockopt");
}

}  // namespace

// ---- send_all -------------------------------------------------------------

TEST_CASE("send_all sends 1 MB byte for byte through a re-chunking proxy") {
    harness::Wire wire(rechunking());
    INFO(wire);
    const std::string data = harness::random_bytes(1 << 20, 31);
    harness::CodeUnderTest code(wire.mine(), [&] {
        lesson03::send_all(wire.mine(), data);
        ::shutdown(wire.mine(), SHUT_WR);
    });
    const std::string got = wire.peer().recv_until_eof(5s);
    code.join(1s, "send_all returning after the last byte");
    const std::string diff = harness::first_difference(data, got);
    INFO(diff);
    REQUIRE(diff.empty());
}

TEST_CASE("send_all keeps going after EINTR and short writes (a signal every 300 us, a slow reader)") {
    harness::Wire wire;
    INFO(wire.peer());
    set_buffer(wire.mine(), SO_SNDBUF, 8192);  // a small buffer: send blocks, and is interrupted
    const std::string data = harness::random_bytes(1 << 20, 32);
    std::atomic<std::size_t> signals{0};
    harness::CodeUnderTest code(wire.mine(), [&] {
        const harness::InterruptStorm storm(::pthread_self());
        lesson03::send_all(wire.mine(), data);
        signals = storm.sent();
        ::shutdown(wire.mine(), SHUT_WR);
    });
    code.await_interrupts(10);  // a late reader: send_all waits meanwhile, and is interrupted
    const std::string got = wire.peer().recv_until_eof(5s);
    code.join(1s, "send_all returning after the last byte");
    const std::string diff = harness::first_difference(data, got);
    INFO(diff);
    INFO("SIGUSR1 sent to send_all's thread while it ran: " << signals.load());
    REQUIRE(diff.empty());
}

TEST_CASE("send_all of nothing sends nothing") {
    harness::Wire wire;
    INFO(wire.peer());
    harness::CodeUnderTest code(wire.mine(), [&] {
        lesson03::send_all(wire.mine(), "");
        ::shutdown(wire.mine(), SHUT_WR);
    });
    wire.peer().expect_eof(1s);
    code.join(1s, "send_all of zero bytes");
}

TEST_CASE("send_all to a peer that reset the connection throws std::system_error (and no SIGPIPE kills us)") {
    harness::Wire wire;
    wire.peer().close_with_reset();
    const std::string block(64 * 1024, 'x');
    harness::CodeUnderTest code(wire.mine(), [&] {
        for (int i = 0; i < 64; ++i) {  // the first send may still be accepted before the reset is seen
            lesson03::send_all(wire.mine(), block);
        }
    });
    try {
        code.join(1s, "send_all to a connection the peer reset");
        FAIL("send_all kept sending 4 MB to a connection that was reset");
    } catch (const std::system_error& error) {
        INFO("what(): " << error.what());
        CHECK((error.code().value() == EPIPE || error.code().value() == ECONNRESET));
    }
}

// ---- recv_exact -----------------------------------------------------------

TEST_CASE("recv_exact assembles 1 MB from whatever pieces a re-chunking proxy makes") {
    harness::Wire wire(rechunking());
    INFO(wire);
    INFO(wire.peer());
    const std::string data = harness::random_bytes(1 << 20, 33);
    std::string got(data.size(), '\0');
    harness::CodeUnderTest code(wire.mine(), [&] {
        // Messages of assorted sizes, back to back: each must be filled exactly.
        std::mt19937 sizes(33);
        for (std::size_t at = 0; at < got.size();) {
            const std::size_t size = std::min<std::size_t>(1 + sizes() % 20000, got.size() - at);
            lesson03::recv_exact(wire.mine(), std::span<char>(got).subspan(at, size));
            at += size;
        }
    });
    wire.peer().send(data, 5s);
    code.join(2s, "recv_exact waiting for all of the 1 MB the test sent");
    const std::string diff = harness::first_difference(data, got);
    INFO(diff);
    REQUIRE(diff.empty());
}

TEST_CASE("recv_exact keeps going after EINTR (a signal every 300 us while it waits)") {
    harness::Wire wire;
    INFO(wire.peer());
    const std::string data = harness::random_bytes(200'000, 34);
    std::string got(data.size(), '\0');
    harness::CodeUnderTest code(wire.mine(), [&] {
        const harness::InterruptStorm storm(::pthread_self());
        lesson03::recv_exact(wire.mine(), got);
    });
    wire.peer().send(std::string_view(data).substr(0, 1000));
    code.await_interrupts(10);  // recv_exact waits mid-message meanwhile: signals hit the blocked recv
    wire.peer().send(std::string_view(data).substr(1000));
    code.join(2s, "recv_exact waiting for the 200,000 bytes the test sent");
    const std::string diff = harness::first_difference(data, got);
    INFO(diff);
    REQUIRE(diff.empty());
}

TEST_CASE("recv_exact throws PeerClosed within 1 s when the peer closes mid-message") {
    harness::Wire wire;
    INFO(wire.peer());
    std::string got(100, '\0');
    harness::CodeUnderTest code(wire.mine(), [&] { lesson03::recv_exact(wire.mine(), got); });
    wire.peer().send("only 10 b.");
    wire.peer().close();
    try {
        code.join(1s, "recv_exact, after the peer closed having sent 10 of 100 bytes");
        FAIL("recv_exact returned though only 10 of the 100 bytes it needed arrived");
    } catch (const lesson03::PeerClosed& closed) {
        INFO("what(): " << closed.what());
        CHECK(std::string(closed.what()).find("10 of 100") != std::string::npos);
    }
}

TEST_CASE("recv_exact of zero bytes returns at once") {
    harness::Wire wire;
    harness::CodeUnderTest code(wire.mine(), [&] { lesson03::recv_exact(wire.mine(), std::span<char>()); });
    code.join(1s, "recv_exact of an empty span (nothing was sent)");
}

// ---- LineReader -----------------------------------------------------------

TEST_CASE("read_line returns lines that arrived together one by one, without waiting for more") {
    harness::Wire wire;
    INFO(wire.peer());
    lesson03::LineReader reader(wire.mine(), 100);
    std::vector<std::string> lines;
    wire.peer().send("one\ntwo\n\nthree\r\nfou");  // one send: four lines and a start
    {
        harness::CodeUnderTest code(wire.mine(), [&] {
            for (int i = 0; i < 4; ++i) {
                lines.push_back(reader.read_line().value());
            }
        });
        code.join(1s, "read_line returning the 4 lines that arrived in one piece (the connection stays open)");
    }
    INFO("read_line returned " << show(lines));
    REQUIRE(lines == std::vector<std::string>{"one", "two", "", "three\r"});
    CHECK(reader.buffered() == "fou");

    std::optional<std::string> fourth;
    std::optional<std::string> end{"not called"};
    harness::CodeUnderTest code(wire.mine(), [&] {
        fourth = reader.read_line();
        end = reader.read_line();
    });
    wire.peer().send("r\n");
    wire.peer().close();
    code.join(1s, "read_line after the rest of a line, then the peer's close");
    CHECK(fourth == "four");
    CHECK(end == std::nullopt);
}

TEST_CASE("1 MB of lines through a re-chunking proxy come out exactly as sent") {
    harness::Wire wire(rechunking());
    INFO(wire);
    const std::string text = random_lines(1 << 20, 300, 35);
    std::string joined;
    harness::CodeUnderTest code(wire.mine(), [&] {
        lesson03::LineReader reader(wire.mine(), 300);
        while (const std::optional<std::string> line = reader.read_line()) {
            joined += *line;
            joined += '\n';
        }
    });
    wire.peer().send(text, 5s);
    wire.peer().close();
    code.join(2s, "read_line reading 1 MB of lines, then the end");
    const std::string diff = harness::first_difference(text, joined);
    INFO(diff);
    REQUIRE(diff.empty());
}

TEST_CASE("read_line keeps going after EINTR (a signal every 300 us while it waits)") {
    harness::Wire wire;
    INFO(wire.peer());
    std::vector<std::string> lines;
    harness::CodeUnderTest code(wire.mine(), [&] {
        const harness::InterruptStorm storm(::pthread_self());
        lesson03::LineReader reader(wire.mine());
        while (const std::optional<std::string> line = reader.read_line()) {
            lines.push_back(*line);
        }
    });
    wire.peer().send("first\nsec");
    code.await_interrupts(10);  // read_line waits mid-line meanwhile: signals hit the blocked recv
    wire.peer().send("ond\n");
    wire.peer().close();
    code.join(1s, "read_line reading two lines sent with a pause, then the end");
    INFO("read_line returned " << show(lines));
    REQUIRE(lines == std::vector<std::string>{"first", "second"});
}

TEST_CASE("read_line throws PeerClosed within 1 s when the peer closes mid-line") {
    harness::Wire wire;
    INFO(wire.peer());
    harness::CodeUnderTest code(wire.mine(), [&] {
        lesson03::LineReader reader(wire.mine());
        (void)reader.read_line();
    });
    wire.peer().send("no newline");
    wire.peer().close();
    REQUIRE_THROWS_AS(code.join(1s, "read_line, after the peer closed in the middle of a line"), lesson03::PeerClosed);
}

TEST_CASE("read_line accepts a line of exactly max_line bytes and rejects one byte more") {
    harness::Wire wire;
    INFO(wire.peer());
    lesson03::LineReader reader(wire.mine(), 16);
    std::optional<std::string> longest;
    wire.peer().send(std::string(16, 'a') + "\n" + std::string(17, 'b') + "\n");
    {
        harness::CodeUnderTest code(wire.mine(), [&] { longest = reader.read_line(); });
        code.join(1s, "read_line of a 16-byte line, limit 16");
    }
    REQUIRE(longest == std::string(16, 'a'));
    harness::CodeUnderTest code(wire.mine(), [&] { (void)reader.read_line(); });
    REQUIRE_THROWS_AS(code.join(1s, "read_line of a 17-byte line, limit 16"), lesson03::LineTooLong);
}

TEST_CASE("read_line rejects an over-long line at once, without waiting for a newline that never comes") {
    harness::Wire wire;
    INFO(wire.peer());
    lesson03::LineReader reader(wire.mine(), 1024);
    // 64 KiB and no newline, all of it waiting in the reader's socket before
    // read_line starts: one large recv could take far more than the bound.
    wire.peer().send(std::string(64 * 1024, 'x'));
    harness::wait_until_acknowledged(wire.peer().fd(), "64 KiB reaching the reader's socket");
    harness::CodeUnderTest code(wire.mine(), [&] { (void)reader.read_line(); });
    REQUIRE_THROWS_AS(code.join(1s, "read_line, 64 KiB into a line with a limit of 1 KiB"), lesson03::LineTooLong);
    INFO("the header's bound: buffered() never holds more than max_line + 4096 bytes");
    CHECK(reader.buffered().size() <= 1024 + 4096);
}

// ---- the re-chunking proxy itself (tests/support/tcp_proxy.hpp) -----------
