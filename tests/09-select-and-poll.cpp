// Tests for exercise 09 — a poll() chat server (exercises/09-select-and-poll/chat.hpp).
// take_lines is checked on its own; serve is played against by real loopback
// clients (fixtures.hpp), every wait with a deadline.
#include <doctest/doctest.h>

#include <cstddef>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include <fmt/core.h>

#include "09-select-and-poll/fixtures.hpp"
#include "chat.hpp"
#include "harness.hpp"
#include "printers.hpp"
#include "tcp_proxy.hpp"
#include "waits.hpp"

using namespace std::chrono_literals;
using fixtures::Chatter;
using fixtures::ChatServer;
using fixtures::join_room;
using lesson09::max_line;
using lesson09::take_lines;

using Strings = std::vector<std::string>;

// ---- take_lines ------------------------------------------------------------

TEST_CASE("take_lines: several lines in one recv, and the unfinished rest kept for the next") {
    std::string pending;
    const lesson09::Lines lines = take_lines(pending, "one\ntwo\r\nthree\nfou");
    CHECK(lines.complete == Strings{"one", "two", "three"});
    CHECK_FALSE(lines.too_long);
    CHECK(pending == "fou");
    const lesson09::Lines next = take_lines(pending, "r\n\n");
    CHECK(next.complete == Strings{"four", ""});
    CHECK(pending.empty());
}

TEST_CASE("take_lines: a line cut at every byte comes out whole, once") {
    const std::string stream = "hello there\r\nsecond\n";
    std::string pending;
    Strings seen;
    for (const char byte : stream) {
        const lesson09::Lines lines = take_lines(pending, std::string(1, byte));
        CHECK_FALSE(lines.too_long);
        seen.insert(seen.end(), lines.complete.begin(), lines.complete.end());
    }
    CHECK(seen == Strings{"hello there", "second"});
    CHECK(pending.empty());
}

TEST_CASE("take_lines: max_line bytes is fine, one more is too long, finished or not") {
    std::string pending;
    const std::string longest(max_line, 'y');
    CHECK(take_lines(pending, longest + "\r\n").complete == Strings{longest});

    pending.clear();
    const lesson09::Lines over = take_lines(pending, "fine\n" + longest + "z\n");
    CHECK(over.too_long);
    CHECK(over.complete == Strings{"fine"});  // the lines before it were fine

    pending.clear();
    CHECK_FALSE(take_lines(pending, longest).too_long);  // the '\n' may still come
    CHECK(take_lines(pending, "z").too_long);             // no need to wait for it
}

// ---- serve -------------------------------------------------------------------

TEST_CASE("serve: nicks, joins and leaves announced, lines go to everyone else, never back") {
    ChatServer server;
    Chatter alice(server.port(), "alice");
    alice.send("\nalice\r\n");  // an empty line is not a nick
    Chatter bob(server.port(), "bob");
    alice.say("before bob joined");  // bob has no nick yet: he is not told
    bob.say("bob");
    INFO(alice.client());
    INFO(bob.client());
    CHECK(alice.line() == "* bob joined");
    alice.say("hello bob");
    CHECK(bob.line() == "alice: hello bob");
    bob.send("\nhi alice\n");
    CHECK(alice.line() == "bob: hi alice");  // not her own "hello bob" back, no empty line
    bob.client().close();
    CHECK(alice.line() == "* bob left");
    CHECK(server.stop() == 2);
    CHECK(alice.rest_until_closed().empty());  // stopping closes every client
}

TEST_CASE("serve: 50 clients × 20 lines, each gets all 49×20 others' lines, in order per sender") {
    ChatServer server;
    constexpr std::size_t clients = 50;
    constexpr std::size_t lines_each = 20;
    auto room = join_room(server.port(), clients);
    // Half send their 20 lines in one go (several lines in one recv), half line by line.
    for (std::size_t i = 0; i < clients / 2; ++i) {
        std::string all;
        for (std::size_t n = 0; n < lines_each; ++n) {
            all += fmt::format("line {} from {}\n", n, room[i]->nick());
        }
        room[i]->send(all);
    }
    for (std::size_t n = 0; n < lines_each; ++n) {
        for (std::size_t i = clients / 2; i < clients; ++i) {
            room[i]->say(fmt::format("line {} from {}", n, room[i]->nick()));
        }
    }
    for (std::size_t reader = 0; reader < clients; ++reader) {
        Chatter& chatter = *room[reader];
        INFO("reading as ", chatter.nick());
        std::map<std::string, std::size_t> next_from;  // per sender, the line number expected next
        for (std::size_t got = 0; got < (clients - 1) * lines_each; ++got) {
            const std::string line = chatter.line(5000ms);
            const auto colon = line.find(": ");
            REQUIRE_MESSAGE(colon != std::string::npos, "not a chat line: ", line);
            const std::string sender = line.substr(0, colon);
            REQUIRE_MESSAGE(sender != chatter.nick(), "a line came back to its sender: ", line);
            const std::size_t expected = next_from[sender]++;
            REQUIRE(line == fmt::format("{}: line {} from {}", sender, expected, sender));
        }
        CHECK(next_from.size() == clients - 1);
    }
    CHECK(server.stop() == clients);
}

TEST_CASE("serve: a client that resets mid-line leaves the others untouched") {
    ChatServer server;
    auto room = join_room(server.port(), 3);
    room[1]->send("half a li");
    room[1]->client().close_with_reset();
    CHECK(room[0]->line() == "* c1 left");
    CHECK(room[2]->line() == "* c1 left");
    room[0]->say("still here");
    CHECK(room[2]->line() == "c0: still here");
    room[2]->say("me too");
    CHECK(room[0]->line() == "c2: me too");
    CHECK(server.stop() == 3);
}

TEST_CASE("serve: a line over max_line gets ERR line too long and a close; nothing else is affected") {
    ChatServer server;
    auto room = join_room(server.port(), 3);
    room[0]->send("an unfinished li");  // c0's own pending bytes must survive
    room[1]->send("short line\n" + std::string(max_line + 1, 'x') + "\n");
    CHECK(room[2]->line() == "c1: short line");
    CHECK(room[2]->line() == "* c1 left");
    CHECK(room[1]->rest_until_closed() == "ERR line too long\n");
    // No '\n' at all: refused as soon as it is longer than max_line.
    Chatter dave(server.port(), "dave");
    dave.send(std::string(max_line + 50, 'x'));
    CHECK(dave.rest_until_closed() == "ERR line too long\n");
    room[0]->send("ne\n");
    CHECK(room[2]->line() == "c0: an unfinished line");
    CHECK(room[0]->line() == "c1: short line");
    CHECK(room[0]->line() == "* c1 left");
    server.stop();
}

TEST_CASE("serve: lines split at every byte, and coalesced, through a re-chunking proxy") {
    ChatServer server;
    auto room = join_room(server.port(), 2);
    harness::TcpProxy bytewise(server.port(), {.min_piece = 1, .max_piece = 1, .coalesce_percent = 0});
    harness::TcpProxy lumpy(server.port());
    INFO(bytewise);
    INFO(lumpy);
    Chatter slow(bytewise.port(), "slow");
    slow.say("slow");
    CHECK(room[0]->line() == "* slow joined");
    CHECK(room[1]->line() == "* slow joined");
    Chatter lumps(lumpy.port(), "lumps");
    lumps.say("lumps");
    CHECK(room[0]->line() == "* lumps joined");
    CHECK(room[1]->line() == "* lumps joined");
    CHECK(slow.line() == "* lumps joined");
    slow.send("one byte at a time\nand a second line\n");
    lumps.send("three\nlines\nat once\n");
    Strings seen;
    for (int i = 0; i < 5; ++i) {
        seen.push_back(room[1]->line());
    }
    Strings from_slow;
    Strings from_lumps;
    for (const std::string& line : seen) {
        (line.starts_with("slow: ") ? from_slow : from_lumps).push_back(line);
    }
    CHECK(from_slow == Strings{"slow: one byte at a time", "slow: and a second line"});
    CHECK(from_lumps == Strings{"lumps: three", "lumps: lines", "lumps: at once"});
    CHECK(slow.line() == "lumps: three");
    CHECK(slow.line() == "lumps: lines");
    CHECK(slow.line() == "lumps: at once");
    room[0]->say("back to you");
    CHECK(slow.line() == "c0: back to you");
    server.stop();
}

TEST_CASE("serve: a new client on a reused descriptor starts with no nick and no pending bytes") {
    ChatServer server;
    auto room = join_room(server.port(), 1);
    // The test shares the server's descriptor table: carol's socket is made
    // now, and bob's number stays taken after his reset, so that the only
    // number free when the server accepts carol is the one bob had there.
    net::Fd carol_socket = fixtures::unconnected_socket();
    Chatter bob(server.port(), "bob");
    bob.send("bob\nhalf a li");
    CHECK(room[0]->line() == "* bob joined");
    // Looked up once accepted: the look opens descriptors of its own.
    const int reused = harness::wait_for_peer_socket(bob.client().fd(), "the server accepted bob");
    fixtures::reset_keeping_number(bob.client().fd());
    CHECK(room[0]->line() == "* bob left");
    fixtures::wait_until_closed(reused, "the server closes bob's socket");
    Chatter carol(fixtures::connect(std::move(carol_socket), server.port()), "carol");
    carol.say("carol");
    CHECK(room[0]->line() == "* carol joined");
    const int server_side = harness::wait_for_peer_socket(carol.client().fd(), "the server accepted carol");
    INFO("bob had fd ", reused, ", carol got ", server_side, " (test: carol ", carol.client().fd(), ")");
    REQUIRE_MESSAGE(server_side == reused, "the kernel gives the lowest free number; the test expected bob's");
    carol.say("hi");
    CHECK(room[0]->line() == "carol: hi");
    server.stop();
}

TEST_CASE("serve: works with descriptor numbers above 1023 (poll has no FD_SETSIZE)") {
    fixtures::FdBallast ballast(1100);
    if (!ballast.reason().empty()) {
        MESSAGE("skipped: ", ballast.reason());
        return;
    }
    ChatServer server;
    auto room = join_room(server.port(), 3);
    const int server_side = harness::wait_for_peer_socket(room[2]->client().fd(), "the server's socket for c2");
    CHECK(server_side >= 1100);
    room[2]->say("from way up high");
    CHECK(room[0]->line() == "c2: from way up high");
    CHECK(room[1]->line() == "c2: from way up high");
    server.stop();
}
