// Tests for exercise 17 — the verifying connect and reading and writing
// through TLS (exercises/17-tls/tls.hpp). Every certificate is made here, at
// test time, by a throwaway CA (support/tls_peer.hpp); the server is a
// scripted TLS peer on 127.0.0.1 and every wait has a deadline.
#include <doctest/doctest.h>

#include <array>
#include <chrono>
#include <csignal>
#include <string>

#include <fmt/core.h>
#include <nlohmann/json.hpp>
#include <openssl/ssl.h>

#include "harness.hpp"
#include "tls.hpp"
#include "tls_peer.hpp"
#include "waits.hpp"

using namespace std::chrono_literals;
using harness::LeafSpec;
using harness::TestPki;
using harness::TlsServer;
using harness::TlsSession;
using tls::Clock;

namespace {

// OpenSSL writes with write(2), not send(MSG_NOSIGNAL): to a peer that has
// gone that raises SIGPIPE, which ends the process (chapter 04). A program
// that uses TLS ignores the signal, as this one does, and gets EPIPE instead.
const bool sigpipe_ignored = [] { return std::signal(SIGPIPE, SIG_IGN) != SIG_ERR; }();

tls::ClientOptions trusting(const TestPki& pki) { return {.ca_file = pki.ca_file(), .timeout = 3000ms}; }

tls::Connection connect(std::string_view host, std::uint16_t port, const tls::ClientOptions& options) {
    const tls::Context context = tls::make_client_context(options);
    REQUIRE(context);
    return tls::connect(context.get(), host, port, options);
}

// The Error a refused connect throws ("(connected)" when it was not refused).
std::string refusal(std::string_view host, std::uint16_t port, const tls::ClientOptions& options) {
    try {
        static_cast<void>(connect(host, port, options));
    } catch (const tls::Error& error) {
        return error.what();
    }
    return "(connected)";
}

// Everything until close_notify (read_some returned 0).
std::string read_to_end(tls::Connection& connection, std::chrono::milliseconds budget = 2000ms) {
    const Clock::time_point deadline = Clock::now() + budget;
    std::string all;
    std::array<char, 4096> buffer;
    while (const std::size_t got = connection.read_some(buffer, deadline)) {
        REQUIRE(got <= buffer.size());
        all.append(buffer.data(), got);
    }
    return all;
}

void contains(const std::string& text, std::string_view part) {
    INFO("the error: ", text);
    CHECK(text.find(part) != std::string::npos);
}

}  // namespace

TEST_CASE("make_client_context: TLS 1.2 at least, the CA file loaded, the peer verified unless told not to") {
    TestPki pki;
    const tls::Context context = tls::make_client_context({.ca_file = pki.ca_file()});
    REQUIRE(context);
    INFO("SSL_CTX_get_min_proto_version is 0 when nothing was set: any version, TLS 1.0 included");
    CHECK(SSL_CTX_get_min_proto_version(context.get()) >= TLS1_2_VERSION);
    CHECK((SSL_CTX_get_verify_mode(context.get()) & SSL_VERIFY_PEER) != 0);

    const tls::Context believing = tls::make_client_context({.ca_file = pki.ca_file(), .verify = false});
    REQUIRE(believing);
    CHECK(SSL_CTX_get_verify_mode(believing.get()) == SSL_VERIFY_NONE);

    const std::string missing = pki.folder() + "/no-such-ca.pem";
    try {
        static_cast<void>(tls::make_client_context({.ca_file = missing}));
        FAIL("a CA file that does not exist was accepted");
    } catch (const tls::Error& error) {
        contains(error.what(), missing);
    }
    CHECK(tls::make_client_context({}));  // the system's store
}

TEST_CASE("connect: the right CA and name: the handshake completes and data flows both ways") {
    TestPki pki;
    TlsServer server({.leaf = pki.issue({})}, [](TlsSession& session) {
        const std::string got = session.recv_exact(5);
        session.send("echo:" + got);
        session.close_notify();
    });
    const int fds_before = harness::open_fd_count();
    {
        tls::Connection connection = connect("localhost", server.port(), trusting(pki));
        const tls::Handshake handshake = connection.handshake();
        CHECK(handshake.verified == "ok");
        CHECK((handshake.version == "TLSv1.3" || handshake.version == "TLSv1.2"));
        REQUIRE(!handshake.chain.empty());
        contains(handshake.chain.front(), "CN=localhost");
        connection.write_all("hello", Clock::now() + 2s);
        CHECK(read_to_end(connection) == "echo:hello");
    }
    server.join();
    CHECK(server.handshake_error().empty());
    CHECK(harness::open_fd_count() == fds_before);
}

TEST_CASE("connect: SNI names the host, and is never sent for an IP address") {
    TestPki pki;
    {
        TlsServer server({.leaf = pki.issue({})});
        tls::Connection connection = connect("localhost", server.port(), trusting(pki));
        connection.close();
        server.join();
        INFO("without SNI a server with several sites cannot tell which certificate to show");
        CHECK(server.sni() == std::optional<std::string>("localhost"));
    }
    {
        TlsServer server({.leaf = pki.issue({.ips = {"127.0.0.1"}})});
        tls::Connection connection = connect("127.0.0.1", server.port(), trusting(pki));
        connection.close();
        server.join();
        INFO("RFC 6066 §3: literal IPv4 and IPv6 addresses are not permitted in HostName");
        CHECK(server.sni() == std::nullopt);
    }
}

TEST_CASE("connect: an IP address is checked against the certificate's IP entries") {
    TestPki pki;
    {
        TlsServer server({.leaf = pki.issue({.dns = {"localhost"}, .ips = {"127.0.0.1"}})});
        tls::Connection connection = connect("127.0.0.1", server.port(), trusting(pki));
        CHECK(connection.handshake().verified == "ok");
        connection.close();
        server.join();
    }
    {
        TlsServer server({.leaf = pki.issue({.dns = {"localhost"}})});  // no IP entry
        const std::string error = refusal("127.0.0.1", server.port(), trusting(pki));
        contains(error, "IP address mismatch");
        server.join();
    }
}

TEST_CASE("connect: a certificate the trusted CA made for another name is refused") {
    TestPki pki;
    TlsServer server({.leaf = pki.issue({.common_name = "impostor.example", .dns = {"impostor.example"}})});
    const std::string error = refusal("localhost", server.port(), trusting(pki));
    INFO("a trusted CA signs certificates for every site: the signature alone proves nothing about WHICH site");
    contains(error, "hostname mismatch");
    server.join();
    CHECK(!server.handshake_error().empty());  // the client broke the handshake off
}

TEST_CASE("connect: an expired certificate is refused") {
    TestPki pki;
    TlsServer server({.leaf = pki.issue({.valid_from_days = -30, .valid_until_days = -1})});
    contains(refusal("localhost", server.port(), trusting(pki)), "certificate has expired");
    server.join();
}

TEST_CASE("connect: a certificate from an unknown CA, or signed by itself, is refused") {
    TestPki pki;
    TestPki stranger("Somebody else's CA");
    const int fds_before = harness::open_fd_count();
    {
        TlsServer server({.leaf = stranger.issue({})});
        contains(refusal("localhost", server.port(), trusting(pki)), "unable to get local issuer certificate");
        server.join();
    }
    {
        TlsServer server({.leaf = pki.issue({.self_signed = true})});
        contains(refusal("localhost", server.port(), trusting(pki)), "self");
        server.join();
    }
    {
        TlsServer server({.leaf = pki.issue({})});
        INFO("the system's store does not know the test's CA");
        contains(refusal("localhost", server.port(), {.timeout = 3000ms}), "unable to get local issuer certificate");
        server.join();
    }
    INFO("a refused connection still closes its socket");
    CHECK(harness::open_fd_count() == fds_before);
}

TEST_CASE("connect: with verification off, an impostor is believed (chapter 17's failure)") {
    TestPki pki;
    TlsServer server({.leaf = pki.issue({.common_name = "impostor.example", .dns = {"impostor.example"},
                                         .self_signed = true})},
                     [](TlsSession& session) {
                         session.send("I am your bank");
                         session.close_notify();
                     });
    tls::ClientOptions options = trusting(pki);
    options.verify = false;
    tls::Connection connection = connect("localhost", server.port(), options);
    CHECK(read_to_end(connection) == "I am your bank");
    contains(connection.handshake().verified, "self");
    server.join();
}

TEST_CASE("connect: a server that speaks only TLS 1.0 is refused") {
    TestPki pki;
    TlsServer server({.leaf = pki.issue({}), .min_version = TLS1_VERSION, .max_version = TLS1_VERSION});
    const std::string error = refusal("localhost", server.port(), trusting(pki));
    INFO("TLS 1.0 and 1.1 are deprecated by RFC 8996");
    CHECK((error.find("protocol version") != std::string::npos ||
           error.find("unsupported protocol") != std::string::npos));
    CHECK(error.find("TLS") != std::string::npos);
    server.join();
}

TEST_CASE("connect: a server that never answers the handshake times out at the deadline") {
    TlsServer server({.handshake = false});
    tls::ClientOptions options{.timeout = 300ms};
    const Clock::time_point start = Clock::now();
    const std::string error = refusal("localhost", server.port(), options);
    const auto took = Clock::now() - start;
    contains(error, "timed out");
    CHECK(took >= 290ms);
    CHECK(took < 1500ms);
    server.join();
}

TEST_CASE("connect: a plain HTTP server, or one that hangs up mid-handshake, gets a clear error") {
    {
        TlsServer server({.plain_reply = "HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\n\r\n"});
        const std::string error = refusal("localhost", server.port(), {.timeout = 2000ms});
        INFO("an http:// port answered in plain text: OpenSSL reads 'HT' as a record type");
        contains(error, "TLS handshake with localhost failed: ");
        CHECK(error.size() > std::string_view("TLS handshake with localhost failed: ").size());
        server.join();
    }
    {
        TlsServer server({.plain_reply = ""});
        const std::string error = refusal("localhost", server.port(), {.timeout = 2000ms});
        contains(error, "TLS handshake with localhost failed: ");
        server.join();
    }
}

TEST_CASE("read_some: waits while OpenSSL wants to read; SSL_ERROR_WANT_READ is not an error") {
    TestPki pki;
    const pid_t reader = harness::thread_id();
    TlsServer server({.leaf = pki.issue({}), .min_version = TLS1_3_VERSION}, [reader](TlsSession& session) {
        // Only once the client sits in poll() with nothing to read: its SSL_read
        // has said SSL_ERROR_WANT_READ at least once by then.
        harness::wait_until_blocked(reader, "the client waits for data in read_some", {.in = harness::input_calls()});
        session.send("late");
        session.close_notify();
    });
    tls::Connection connection = connect("localhost", server.port(), trusting(pki));
    CHECK(read_to_end(connection) == "late");
    server.join();
}

TEST_CASE("read_some: close_notify ends the stream with 0") {
    TestPki pki;
    TlsServer server({.leaf = pki.issue({})}, [](TlsSession& session) {
        session.send("bye");
        session.close_notify();
    });
    tls::Connection connection = connect("localhost", server.port(), trusting(pki));
    CHECK(read_to_end(connection) == "bye");
    server.join();
}

TEST_CASE("read_some: a TCP close without close_notify is Truncated, not the end of the data") {
    TestPki pki;
    TlsServer server({.leaf = pki.issue({})}, [](TlsSession& session) {
        session.send("the first half of a bank stat");
        session.cut();
    });
    tls::Connection connection = connect("localhost", server.port(), trusting(pki));
    std::string got;
    std::array<char, 4096> buffer;
    const Clock::time_point deadline = Clock::now() + 2s;
    try {
        while (const std::size_t n = connection.read_some(buffer, deadline)) {
            got.append(buffer.data(), n);
        }
        FAIL("read_some returned 0 (a clean end) for a stream cut without close_notify; got: ", got);
    } catch (const tls::Truncated& truncated) {
        CHECK(got == "the first half of a bank stat");
    }
    server.join();
}

TEST_CASE("read_some: a silent server times out at the deadline") {
    TestPki pki;
    TlsServer server({.leaf = pki.issue({})}, [](TlsSession& session) {
        static_cast<void>(session.recv_some(3000ms));  // silent until the client gives up
    });
    tls::Connection connection = connect("localhost", server.port(), trusting(pki));
    std::array<char, 64> buffer;
    const Clock::time_point start = Clock::now();
    try {
        static_cast<void>(connection.read_some(buffer, start + 300ms));
        FAIL("read_some returned from a silent server");
    } catch (const tls::Error& error) {
        contains(error.what(), "timed out");
    }
    CHECK(Clock::now() - start < 1500ms);
    connection = tls::Connection();
    server.join();
}

TEST_CASE("write_all: 8 MiB to a server that reads late arrive whole (SSL_ERROR_WANT_WRITE, then the same bytes)") {
    TestPki pki;
    const std::string payload = harness::random_bytes(8 << 20, harness::test_seed(17));
    const pid_t writer = harness::thread_id();
    std::string received;
    TlsServer server({.leaf = pki.issue({})}, [&](TlsSession& session) {
        harness::wait_until_blocked(writer, "the client waits in poll for room to write",
                                    {.in = harness::input_calls()});
        received = session.recv_exact(payload.size(), 5000ms);
        session.send("done");
        session.close_notify();
    });
    tls::Connection connection = connect("localhost", server.port(), trusting(pki));
    connection.write_all(payload, Clock::now() + 5s);
    CHECK(read_to_end(connection, 5000ms) == "done");
    server.join(5000ms);
    CHECK(harness::first_difference(payload, received) == "");
}

TEST_CASE("get: HTTPS on lesson 13's parser: Host, a chunked body, close_notify") {
    // parse_https_url (given): port 443 unless the URL names one; http:// is refused.
    CHECK(tls::parse_https_url("https://api.github.com/events").port == 443);
    CHECK(tls::parse_https_url("https://api.github.com/events").target == "/events");
    CHECK(tls::parse_https_url("HTTPS://localhost:8443").port == 8443);
    CHECK(tls::parse_https_url("https://[::1]/x").host == "::1");
    CHECK(tls::parse_https_url("https://[::1]:9443/x").port == 9443);
    CHECK_THROWS_AS(static_cast<void>(tls::parse_https_url("http://example.com/")), tls::Error);
    CHECK_THROWS_AS(static_cast<void>(tls::parse_https_url("https://example.com:99999/")), tls::Error);

    TestPki pki;
    std::string request;
    TlsServer server({.leaf = pki.issue({})}, [&request](TlsSession& session) {
        request = session.recv_until("\r\n\r\n");
        session.send("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nContent-Type: application/json\r\n\r\n"
                     "7\r\n{\"a\": 1\r\n1\r\n}\r\n0\r\n\r\n");
        static_cast<void>(session.recv_some());  // the client's close_notify
    });
    const http::Response response =
        tls::get(fmt::format("https://localhost:{}/events?page=2", server.port()), trusting(pki), 3000ms);
    server.join();
    CHECK(response.status == 200);
    CHECK(response.body == "{\"a\": 1}");
    CHECK(response.json()["a"] == 1);
    CHECK(request.starts_with("GET /events?page=2 HTTP/1.1\r\n"));
    contains(request, fmt::format("\r\nHost: localhost:{}\r\n", server.port()));
}

TEST_CASE("get: a body that runs until close, cut without close_notify, is an error, never a short success") {
    TestPki pki;
    TlsServer server({.leaf = pki.issue({})}, [](TlsSession& session) {
        static_cast<void>(session.recv_until("\r\n\r\n"));
        session.send("HTTP/1.1 200 OK\r\nConnection: close\r\n\r\n{\"balance\": 10");
        session.cut();
    });
    CHECK_THROWS_AS(static_cast<void>(tls::get(fmt::format("https://localhost:{}/", server.port()), trusting(pki))),
                    tls::Truncated);
    server.join();
}
