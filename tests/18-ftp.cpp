// Tests for exercise 18 — the FTP client (exercises/18-ftp/ftp.hpp). The
// reply reader is fed replies cut at every byte; then the whole client
// (client.cpp, on the learner's reader and transfer) talks to a scripted FTP
// server (support/ftp_peer.hpp) over loopback, every wait with a deadline.
#include <doctest/doctest.h>

#include <chrono>
#include <cstdint>
#include <random>
#include <string>
#include <vector>

#include <fmt/core.h>

#include "ftp.hpp"
#include "ftp_peer.hpp"
#include "harness.hpp"
#include "pieces.hpp"

using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;
using harness::FtpExchange;
using harness::FtpPeer;
using Data = harness::FtpExchange::Data;

namespace {

// Feeds `bytes` cut at `cut` (and at every byte with every_byte); returns the
// reply and how many bytes the reader took.
struct Read {
    ftp::Reply reply;
    std::size_t used = 0;
};

Read read_pieces(std::string_view bytes, const std::vector<std::size_t>& cuts) {
    ftp::ReplyReader reader;
    Read read;
    for (const std::string_view piece : harness::pieces(bytes, cuts)) {
        const std::size_t used = reader.feed(piece);
        REQUIRE(used <= piece.size());
        read.used += used;
        if (used < piece.size()) {
            REQUIRE(reader.done());  // only a complete reply leaves bytes behind
            break;
        }
    }
    REQUIRE(reader.done());
    read.reply = reader.take();
    return read;
}

using harness::every_byte;

std::string reader_error(std::string_view bytes, ftp::Limits limits = {}) {
    ftp::ReplyReader reader(limits);
    try {
        reader.feed(bytes);
    } catch (const ftp::Error& error) {
        return error.what();
    }
    return "(no error)";
}

ftp::Options quick(std::chrono::milliseconds timeout = 2000ms) { return ftp::Options{.timeout = timeout}; }

const std::string features =
    "211-Features supported:\r\n"
    " EPRT\r\n"
    " 211 is not the end: it does not start the line\r\n"
    "211-nor is this\r\n"
    "214 nor a line with another code\r\n"
    "211 End FEAT.\r\n";

const FtpExchange epsv{"EPSV", "229 Entering Extended Passive Mode (|||%PORT%|)\r\n"};

}  // namespace

// ---- the reply reader, bytes in memory -------------------------------------------

TEST_CASE("reader: a one-line reply, cut anywhere, ends at its line end") {
    const std::string reply = "220 ProFTPD Server ready.\r\n";
    const std::string next = "331 Password required\r\n";
    for (std::size_t cut = 0; cut <= reply.size() + next.size(); ++cut) {
        CAPTURE(cut);
        const Read read = read_pieces(reply + next, {cut});
        CHECK(read.used == reply.size());  // the next reply is not taken
        CHECK(read.reply.code == 220);
        CHECK(read.reply.kind() == 2);
        REQUIRE(read.reply.lines.size() == 1);
        CHECK(read.reply.lines[0] == "220 ProFTPD Server ready.");
    }
}

TEST_CASE("reader: a multi-line reply ends only at a line of its own code and a space") {
    for (std::size_t cut = 0; cut <= features.size(); ++cut) {
        CAPTURE(cut);
        const Read read = read_pieces(features + "257 \"/\"\r\n", {cut});
        CHECK(read.used == features.size());
        CHECK(read.reply.code == 211);
        CHECK(read.reply.lines.size() == 6);
    }
    const Read bytewise = read_pieces(features, every_byte(features));
    REQUIRE(bytewise.reply.lines.size() == 6);
    CHECK(bytewise.reply.lines[2] == " 211 is not the end: it does not start the line");
    CHECK(bytewise.reply.lines[5] == "211 End FEAT.");
    CHECK(bytewise.reply.text() == "211-Features supported:\n EPRT\n 211 is not the end: it does not start the line\n"
                                   "211-nor is this\n214 nor a line with another code\n211 End FEAT.");
}

TEST_CASE("reader: bare LF line ends, and two replies in one piece are taken one at a time") {
    const std::string both = "150 Opening BINARY mode data connection.\n226 Transfer complete.\r\n";
    ftp::ReplyReader reader;
    const std::size_t used = reader.feed(both);
    CHECK(used == both.find('\n') + 1);
    REQUIRE(reader.done());
    const ftp::Reply first = reader.take();
    CHECK(first.code == 150);
    CHECK(first.lines.at(0) == "150 Opening BINARY mode data connection.");
    CHECK_FALSE(reader.done());  // take() starts afresh
    CHECK(reader.feed(std::string_view(both).substr(used)) == both.size() - used);
    REQUIRE(reader.done());
    CHECK(reader.take().code == 226);
    CHECK(read_pieces("230-Welcome\n230 in\n", {}).reply.lines.size() == 2);
}

TEST_CASE("reader: malformed lines and oversized replies are a clear ftp::Error") {
    for (const std::string line : {"hello\r\n", "22 short code\r\n", "2200 four digits\r\n", "620 first digit 6\r\n",
                                   "0xx zero\r\n", "22a letters\r\n", "-220 hyphen first\r\n", "\r\n"}) {
        CAPTURE(line);
        CHECK(reader_error(line).find("(no error)") == std::string::npos);
    }
    // A line that never ends must not grow without a bound.
    CHECK(reader_error("220 " + std::string(10'000, 'a')).find("limit") != std::string::npos);
    ftp::ReplyReader small(ftp::Limits{.max_line_bytes = 64});
    CHECK_THROWS_AS(small.feed("220-" + std::string(100, 'x') + "\r\n"), ftp::Error);
    // Nor a multi-line reply that never ends.
    std::string endless = "214-Help follows\r\n";
    for (int i = 0; i < 20; ++i) {
        endless += " more help\r\n";
    }
    CHECK_THROWS_AS(ftp::ReplyReader(ftp::Limits{.max_lines = 10}).feed(endless), ftp::Error);
    CHECK(read_pieces(endless + "214 End\r\n", {}).reply.lines.size() == 22);  // under the default limit
}

TEST_CASE("reader: random bytes and random splits never crash, hang or throw anything but ftp::Error") {
    const std::uint64_t seed = harness::test_seed(18);
    CAPTURE(seed);
    std::mt19937_64 random(seed);
    const std::vector<std::string> valid = {features, "220 ready\r\n", "150 go\r\n226 done\r\n", "230-a\n230 b\n"};
    for (int round = 0; round < 3000; ++round) {
        std::string bytes = valid[random() % valid.size()];
        for (int i = static_cast<int>(random() % 4); i > 0 && !bytes.empty(); --i) {
            const std::size_t at = random() % bytes.size();
            switch (random() % 3) {
            case 0: bytes[at] = static_cast<char>(random()); break;
            case 1: bytes.erase(at, 1 + random() % 8); break;
            default: bytes.insert(at, harness::random_bytes(1 + random() % 12, random())); break;
            }
        }
        if (round % 10 == 0) {
            bytes = harness::random_bytes(random() % 200, random());
        }
        ftp::ReplyReader reader(ftp::Limits{.max_line_bytes = 64, .max_lines = 8});
        try {
            std::size_t from = 0;
            while (from < bytes.size()) {
                const std::string_view piece = std::string_view(bytes).substr(from, 1 + random() % 16);
                const std::size_t used = reader.feed(piece);
                REQUIRE(used <= piece.size());
                if (used < piece.size()) {
                    REQUIRE(reader.done());
                }
                from += used;
                if (reader.done()) {
                    const ftp::Reply reply = reader.take();
                    CHECK(reply.code >= 100);
                    CHECK(reply.code <= 599);
                    CHECK(reply.lines.size() <= 8);
                }
            }
        } catch (const ftp::Error&) {
            // a clear refusal is the right answer to most of these
        }
    }
}

// ---- the client, against a scripted server --------------------------------------------

TEST_CASE("client: greeting, login and PWD with every reply cut at every byte") {
    FtpPeer peer({.greeting = "220-Welcome\r\n220-to the scripted server\r\n220 ready.\r\n",
                  .script = {{"USER ada", "331 Password required for ada.\r\n"},
                             {"PASS secret", "230 User ada logged in.\r\n"},
                             {"PWD", "257 \"/pub/a \"\"quoted\"\" dir\" is the current directory.\r\n"}},
                  .every_byte = true});
    {
        ftp::Client client("127.0.0.1", peer.port(), quick());
        CHECK(client.welcome().code == 220);
        CHECK(client.welcome().lines.size() == 3);
        client.login("ada", "secret");
        CHECK(client.pwd() == "/pub/a \"quoted\" dir");
    }
    peer.join();
    CHECK(peer.commands() == std::vector<std::string>{"USER ada", "PASS secret", "PWD"});
}

TEST_CASE("client: a multi-line reply is read whole, so the next command gets its own reply") {
    FtpPeer peer({.script = {{"FEAT", features}, {"PWD", "257 \"/\"\r\n"}, {"CWD pub", "250 OK.\r\n"}}});
    {
        ftp::Client client("127.0.0.1", peer.port(), quick());
        const ftp::Reply feat = client.command("FEAT");
        CHECK(feat.code == 211);
        CHECK(feat.lines.size() == 6);
        CHECK(client.pwd() == "/");
        client.cwd("pub");
    }
    peer.join();
    CHECK(peer.commands() == std::vector<std::string>{"FEAT", "PWD", "CWD pub"});
}

TEST_CASE("client: retrieve in binary mode sends TYPE I and returns the bytes unchanged") {
    // CR LF, a lone LF, a lone CR, NUL: the bytes TYPE A would change.
    const std::string file = std::string("\x89PNG\r\n\x1a\n\0\r", 10) + harness::random_bytes(100'000, 18);
    FtpPeer peer({.script = {{"TYPE I", "200 Type set to I.\r\n"},
                             epsv,
                             {"RETR image.png", "150 Opening BINARY mode data connection.\r\n", Data::send, file,
                              "226 Transfer complete.\r\n"}}});
    std::string got;
    {
        ftp::Client client("127.0.0.1", peer.port(), quick());
        got = client.retrieve("image.png");
    }
    peer.join();
    CHECK(peer.commands() == std::vector<std::string>{"TYPE I", "EPSV", "RETR image.png"});
    CHECK(harness::first_difference(file, got) == "");
}

TEST_CASE("client: TYPE A converts CRLF to LF on the way in and LF to CRLF on the way out") {
    FtpPeer peer({.script = {{"TYPE A", "200 Type set to A.\r\n"},
                             epsv,
                             {"RETR notes.txt", "150 Opening ASCII mode data connection.\r\n", Data::send,
                              "one\r\ntwo\r\n\r\nthree", "226 Transfer complete.\r\n"},
                             epsv,
                             {"STOR up.txt", "150 Ok to send data.\r\n", Data::receive, "", "226 Transfer complete.\r\n"}}});
    {
        ftp::Client client("127.0.0.1", peer.port(), quick());
        CHECK(client.retrieve("notes.txt", ftp::Type::ascii) == "one\ntwo\n\nthree");
        client.store("up.txt", "a\nb\r\n\nc", ftp::Type::ascii);  // TYPE A is not sent again
    }
    peer.join();
    REQUIRE(peer.uploads().size() == 1);
    CHECK(peer.uploads()[0] == "a\r\nb\r\n\r\nc");
}

TEST_CASE("client: store sends every byte of a binary file and closes the data connection before the 226") {
    const std::string file = harness::random_bytes(1 << 20, 1818);
    FtpPeer peer({.script = {{"TYPE I", "200 Type set to I.\r\n"},
                             epsv,
                             {"STOR big.bin", "150 Ok to send data.\r\n", Data::receive, "", "226 Transfer complete.\r\n"},
                             epsv,
                             {"STOR /etc/passwd", "553 Could not create file.\r\n"}}});
    {
        ftp::Client client("127.0.0.1", peer.port(), quick());
        client.store("big.bin", file);
        try {
            client.store("/etc/passwd", "root");
            FAIL("a 553 should be an error");
        } catch (const ftp::ReplyError& error) {
            CHECK(error.reply().code == 553);
        }
    }
    peer.join();
    REQUIRE(peer.uploads().size() == 1);
    CHECK(harness::first_difference(file, peer.uploads()[0]) == "");
}

TEST_CASE("client: a missing file's 550 is an error at once, and the data connection is never read") {
    // The server says 550 and sends nothing on the data connection: a client
    // that reads it before the reply waits out its whole timeout.
    FtpPeer peer({.script = {{"TYPE I", "200 Type set to I.\r\n"},
                             epsv,
                             {"RETR nope.txt", "550 nope.txt: No such file or directory.\r\n"},
                             {"PWD", "257 \"/\"\r\n"}}});
    {
        ftp::Client client("127.0.0.1", peer.port(), quick(1500ms));
        const Clock::time_point start = Clock::now();
        try {
            static_cast<void>(client.retrieve("nope.txt"));
            FAIL("a 550 should be an error");
        } catch (const ftp::ReplyError& error) {
            CHECK(error.reply().code == 550);
            CHECK(std::string(error.what()).find("No such file") != std::string::npos);
        } catch (const ftp::Error& error) {
            FAIL("not the 550 but: ", error.what());
        }
        CHECK(Clock::now() - start < 1200ms);  // a client that waited for the data connection would take the whole 1.5 s
        CHECK(client.pwd() == "/");  // still in step
    }
    peer.join();
}

TEST_CASE("client: after a transfer the 226 is read, so the next command gets its own reply") {
    FtpPeer peer({.script = {{"TYPE I", "200 Type set to I.\r\n"},
                             epsv,
                             {"RETR a.bin", "150 Opening BINARY mode data connection.\r\n", Data::send, "AAAA",
                              "226 Transfer complete.\r\n"},
                             {"PWD", "257 \"/pub\" is the current directory.\r\n"}}});
    {
        ftp::Client client("127.0.0.1", peer.port(), quick(1000ms));
        CHECK(client.retrieve("a.bin") == "AAAA");
        CHECK(client.pwd() == "/pub");
    }
    peer.join();
}

TEST_CASE("client: a data connection closed early, then 426, is an error, not a short file") {
    FtpPeer peer({.script = {{"TYPE I", "200 Type set to I.\r\n"},
                             epsv,
                             {"RETR big.iso", "150 Opening BINARY mode data connection.\r\n", Data::send,
                              std::string(3000, 'x'), "426 Connection closed; transfer aborted.\r\n"}}});
    {
        ftp::Client client("127.0.0.1", peer.port(), quick(1000ms));
        try {
            static_cast<void>(client.retrieve("big.iso"));
            FAIL("a 426 should be an error");
        } catch (const ftp::ReplyError& error) {
            CHECK(error.reply().code == 426);
        }
    }
    peer.join();
}

TEST_CASE("client: 421 in the middle of a session is an error that names it") {
    FtpPeer peer({.script = {{"USER anonymous", "331 Anonymous login ok.\r\n"},
                             {"PASS anonymous@", "230 Logged in.\r\n"},
                             {"TYPE I", "421 Timeout (no operation for 900 seconds).\r\n"}}});
    {
        ftp::Client client("127.0.0.1", peer.port(), quick(1000ms));
        client.login();
        try {
            static_cast<void>(client.retrieve("x"));
            FAIL("a 421 should be an error");
        } catch (const ftp::ReplyError& error) {
            CHECK(error.reply().code == 421);
            CHECK(std::string(error.what()).find("Timeout") != std::string::npos);
        }
    }
    peer.join();
}

TEST_CASE("client: a server that never answers RETR, or never closes the data connection, costs the timeout") {
    for (const bool opens_data : {false, true}) {
        CAPTURE(opens_data);
        FtpExchange retr = opens_data ? FtpExchange{"RETR stuck", "150 Here it comes.\r\n", Data::hold, "a little"}
                                      : FtpExchange{"RETR stuck", ""};
        FtpPeer peer({.script = {{"TYPE I", "200 Type set to I.\r\n"}, epsv, retr}});
        const Clock::time_point start = Clock::now();
        {
            ftp::Client client("127.0.0.1", peer.port(), quick(300ms));
            CHECK_THROWS_AS(static_cast<void>(client.retrieve("stuck")), ftp::Error);
        }
        const auto took = Clock::now() - start;
        CHECK(took >= 250ms);
        CHECK(took < 1500ms);
        peer.join();
    }
}

TEST_CASE("client: EPSV refused, PASV from then on, to the control connection's peer whatever PASV says") {
    CHECK(ftp::parse_epsv({229, {"229 Entering Extended Passive Mode (|||40211|)"}}) == 40211);
    CHECK(ftp::parse_epsv({229, {"229 ok (!!!6446!)"}}) == 6446);
    const ftp::Endpoint pasv = ftp::parse_pasv({227, {"227 Entering Passive Mode (192,168,1,20,157,19)."}});
    CHECK(pasv.host == "192.168.1.20");
    CHECK(pasv.port == 157 * 256 + 19);
    for (const ftp::Reply& bad : {ftp::Reply{227, {"227 (1,2,3,4,5)"}}, ftp::Reply{227, {"227 (1,2,3,4,5,256)"}},
                                 ftp::Reply{500, {"500 no"}}}) {
        CHECK_THROWS_AS(static_cast<void>(ftp::parse_pasv(bad)), ftp::ReplyError);
    }
    CHECK_THROWS_AS(static_cast<void>(ftp::parse_epsv({229, {"229 (|||0|)"}})), ftp::ReplyError);

    // The server announces a private address (it sits behind NAT): the
    // client connects to the address it already talks to instead.
    const std::string pasv_reply = "227 Entering Passive Mode (10,0,0,5,%P1,P2%).\r\n";
    FtpPeer peer({.script = {{"TYPE A", "200 Type set to A.\r\n"},
                             {"EPSV", "500 EPSV not understood.\r\n"},
                             {"PASV", pasv_reply},
                             {"NLST", "150 Here comes the list.\r\n", Data::send, "a.txt\r\nb.bin\r\n", "226 Done.\r\n"},
                             {"PASV", pasv_reply},
                             {"LIST pub", "125 Data connection already open.\r\n", Data::send,
                              "-rw-r--r-- 1 ftp ftp 5 Jan 01 00:00 a.txt\r\n", "250 Done.\r\n"}}});
    {
        ftp::Client client("127.0.0.1", peer.port(), quick());
        CHECK(client.nlst() == std::vector<std::string>{"a.txt", "b.bin"});
        CHECK(client.list("pub") == "-rw-r--r-- 1 ftp ftp 5 Jan 01 00:00 a.txt\n");
    }
    peer.join();
}

TEST_CASE("client: SIZE in TYPE I, then REST resumes a download where it stopped") {
    FtpPeer peer({.script = {{"TYPE I", "200 Type set to I.\r\n"},
                             {"SIZE movie.bin", "213 10\r\n"},
                             epsv,
                             {"REST 6", "350 Restarting at 6. Send STORE or RETRIEVE.\r\n"},
                             {"RETR movie.bin", "150 Opening BINARY mode data connection.\r\n", Data::send, "6789",
                              "226 Transfer complete.\r\n"}}});
    {
        ftp::Client client("127.0.0.1", peer.port(), quick());
        CHECK(client.size("movie.bin") == 10);
        CHECK(client.retrieve("movie.bin", ftp::Type::binary, 6) == "6789");
    }
    peer.join();
}
