#pragma once
// TLS for the tests of lesson 17: a throwaway PKI made at test time (nothing
// private is checked in) and a scripted TLS server on loopback.
//
//     harness::TestPki pki;                                  // a CA in a temporary folder
//     harness::TlsServer server({.leaf = pki.issue({})}, [](harness::TlsSession& session) {
//         session.send("hello");
//         session.close_notify();
//     });
//     tls::ClientOptions options{.ca_file = pki.ca_file()};
//     ... connect to "localhost", server.port() ...
//     server.join();
//     CHECK(server.sni() == "localhost");

#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "harness.hpp"

using SSL = struct ssl_st;

namespace harness {

// A certificate and its key, as PEM files.
struct TlsLeaf {
    std::string cert_file;
    std::string key_file;
};

struct LeafSpec {
    std::string common_name = "localhost";
    std::vector<std::string> dns = {"localhost"};  // subjectAltName DNS names
    std::vector<std::string> ips = {};             // subjectAltName IP addresses
    long valid_from_days = -1;                     // notBefore, from now
    long valid_until_days = 30;                    // notAfter, from now (negative: expired)
    bool self_signed = false;                      // signed by its own key, not the CA
};

// A certificate authority of its own, in a temporary folder removed with it.
class TestPki {
public:
    explicit TestPki(std::string_view ca_name = "Workbook test CA");
    ~TestPki();
    TestPki(const TestPki&) = delete;
    TestPki& operator=(const TestPki&) = delete;

    [[nodiscard]] const std::string& ca_file() const noexcept { return ca_file_; }
    [[nodiscard]] const std::string& folder() const noexcept { return folder_; }
    // A new key and a certificate for it (issued by this CA unless self_signed).
    [[nodiscard]] TlsLeaf issue(const LeafSpec& spec);

private:
    struct Keys;
    std::string folder_;
    std::string ca_file_;
    std::unique_ptr<Keys> keys_;
    int issued_ = 0;
};

// The server's side of one TLS connection: blocking calls, each with a deadline.
class TlsSession {
public:
    TlsSession(SSL* ssl, int fd) : ssl_(ssl), fd_(fd) {}
    void send(std::string_view bytes, milliseconds timeout = default_timeout);
    // What one SSL_read returns; "" when the client sent close_notify or closed.
    [[nodiscard]] std::string recv_some(milliseconds timeout = default_timeout);
    // Until `marker` has arrived (the request's empty line, say); returns all.
    [[nodiscard]] std::string recv_until(std::string_view marker, milliseconds timeout = default_timeout);
    [[nodiscard]] std::string recv_exact(std::size_t count, milliseconds timeout = default_timeout);
    void close_notify();
    // The TCP connection ends with no close_notify: what a cut looks like.
    void cut();
    [[nodiscard]] int fd() const noexcept { return fd_; }

private:
    SSL* ssl_;
    int fd_;
};

struct TlsServerOptions {
    TlsLeaf leaf = {};
    // 0: OpenSSL's defaults. TLS1_VERSION for max: a server stuck in 2006
    // (the security level is then lowered to 0 so that OpenSSL 3 allows it).
    int min_version = 0;
    int max_version = 0;
    // false: accept the TCP connection and never speak TLS (hold it until the
    // client closes): a server that hangs in the handshake.
    bool handshake = true;
    // Instead of TLS: these bytes are sent as the client's ClientHello
    // arrives (a plain HTTP server on the port, say), then the connection closes.
    std::optional<std::string> plain_reply = std::nullopt;
};

// Accepts one connection on 127.0.0.1 (port from the kernel), does the server
// handshake, then runs `script` with the session. A handshake the client
// breaks off is not a failure of the server: handshake_error() says why.
class TlsServer {
public:
    TlsServer(TlsServerOptions options, std::function<void(TlsSession&)> script = {});
    ~TlsServer();
    TlsServer(const TlsServer&) = delete;
    TlsServer& operator=(const TlsServer&) = delete;

    [[nodiscard]] std::uint16_t port() const noexcept { return server_->port(); }
    [[nodiscard]] pid_t thread_id() const { return server_->thread_id(); }
    void join(milliseconds timeout = default_timeout) { server_->join(timeout); }
    // The SNI name the ClientHello carried, if any.
    [[nodiscard]] std::optional<std::string> sni() const;
    [[nodiscard]] std::string handshake_error() const;

private:
    void run(int listener);

    struct Context;
    TlsServerOptions options_;
    std::function<void(TlsSession&)> script_;
    std::unique_ptr<Context> context_;
    mutable std::mutex mutex_;
    std::optional<std::string> sni_;
    std::string handshake_error_;
    std::unique_ptr<LoopbackServer> server_;  // last: its thread uses the members above
};

}  // namespace harness
