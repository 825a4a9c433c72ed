#pragma once
// Exercise 17 — HTTPS: the verifying connect, and reading and writing
// through TLS on a non-blocking socket.
//
// Chapter 17 (book/src/17-tls.md) starts with a client that turns
// verification off and happily talks to an impostor. TLS gives you three
// things on top of chapter 03's byte stream — secrecy, integrity and the
// server's identity — and the third only if YOU ask OpenSSL to check it.
//
// You write two files:
//
//   connect.cpp  make_client_context() and connect(): the context (TLS 1.2
//                or newer, the CAs to trust, SSL_VERIFY_PEER), then per
//                connection SNI, the name to check, and a handshake that
//                waits with poll() when OpenSSL wants to read or write;
//   io.cpp       Connection::read_some() and Connection::write_all(): the
//                same waiting around SSL_read and SSL_write, and the end of
//                the stream told apart: close_notify (0) or a cut (Truncated).
//
// connection.cpp (the Connection's plumbing, close_notify, the handshake's
// description) and https.cpp (lesson 13's HTTP/1.1 over a Connection) are
// given, complete. Then run ./workbook check 17.
//
// OpenSSL's rule for a non-blocking socket: when SSL_connect, SSL_read or
// SSL_write returns <= 0, SSL_get_error() says why.
//   SSL_ERROR_WANT_READ   it needs bytes from the peer first: poll for POLLIN,
//                         then call the SAME function again. SSL_write can say
//                         this too (a TLS 1.3 key update), and SSL_read can say
//                         it after reading a whole record that carried no data
//                         (a TLS 1.3 session ticket): it is never an error;
//   SSL_ERROR_WANT_WRITE  the socket's send buffer is full: poll for POLLOUT,
//                         call again (for SSL_write: with the same bytes);
//   SSL_ERROR_ZERO_RETURN the peer sent close_notify: a clean end;
//   SSL_ERROR_SYSCALL / SSL_ERROR_SSL  a failure. A TCP end without
//                         close_notify shows up as SSL_ERROR_SSL whose reason
//                         is SSL_R_UNEXPECTED_EOF_WHILE_READING (OpenSSL 3) or
//                         as SSL_ERROR_SYSCALL with errno 0 (1.1.1).
// Before each call, ERR_clear_error(): the error queue is per thread, and an
// old entry makes SSL_get_error() lie.
//
// OpenSSL writes to the socket with write(2), not send(MSG_NOSIGNAL): to a
// peer that has gone, that raises SIGPIPE, which ends the process (chapter
// 04). A program that uses TLS ignores SIGPIPE at the start of main() and
// gets EPIPE, an error like any other, instead.

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <span>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include <openssl/ssl.h>

#include "http.hpp"  // lesson 13's client: http::Response, http::ResponseParser, http::Url
#include "net/fd.hpp"

namespace tls {

using Clock = std::chrono::steady_clock;

// Every failure: a refused certificate, a handshake the server broke off, a
// timeout. what() names the reason, in OpenSSL's words where it has them:
// "certificate verify failed: certificate has expired".
class Error : public std::runtime_error {
public:
    using std::runtime_error::runtime_error;
};

// The TCP stream ended without the peer's close_notify. Whatever came before
// it may have been cut short by anyone on the path (a forged FIN), so it is
// not a clean end of the data.
class Truncated : public Error {
public:
    using Error::Error;
};

struct ClientOptions {
    // A PEM file of the CAs to trust. Empty: the system's trust store
    // (SSL_CTX_set_default_verify_paths: /etc/ssl/certs on Debian).
    std::string ca_file = {};
    // false only to show chapter 17's failure: a client that believes anyone.
    bool verify = true;
    // One budget for the TCP connect and the handshake together.
    std::chrono::milliseconds timeout{10000};
    // Narration, like fetch's ("* TLS handshake done: TLSv1.3 ..."). Empty: silent.
    std::function<void(std::string_view)> trace = {};
};

struct ContextDeleter {
    void operator()(SSL_CTX* context) const noexcept { SSL_CTX_free(context); }
};
using Context = std::unique_ptr<SSL_CTX, ContextDeleter>;

// ---- connect.cpp (yours) -----------------------------------------------------

// A client context: TLS 1.2 at least (SSL_CTX_set_min_proto_version), the
// CAs to trust (options.ca_file, or the system's store), and — unless
// options.verify is false — SSL_VERIFY_PEER, so that the handshake itself
// fails on a certificate that does not verify. Error when the CA file cannot
// be loaded (name the file).
[[nodiscard]] Context make_client_context(const ClientOptions& options);

class Connection;

// A TLS connection to host:port as a client of `host`:
//   1. the TCP connection (net::connect_tcp, within options.timeout), made
//      non-blocking so that no OpenSSL call can wait past the deadline;
//   2. SSL_new, SSL_set_fd, then — unless `host` is an IP address literal —
//      SNI (SSL_set_tlsext_host_name: a server with several sites picks the
//      certificate by it; RFC 6066 §3 forbids sending an address there);
//   3. the name the certificate must carry (with options.verify): a DNS name
//      with SSL_set1_host, an IP address with
//      X509_VERIFY_PARAM_set1_ip_asc(SSL_get0_param(ssl), host);
//   4. SSL_connect until it succeeds, waiting with poll() on WANT_READ and
//      WANT_WRITE, all within options.timeout ("timed out" Error otherwise).
// When the handshake fails, the Error says why: SSL_get_verify_result()'s
// text (X509_verify_cert_error_string) when the certificate was refused,
// else OpenSSL's reason (ERR_reason_error_string: "unsupported protocol",
// "tlsv1 alert protocol version", "wrong version number").
[[nodiscard]] Connection connect(SSL_CTX* context, std::string_view host, std::uint16_t port,
                                 const ClientOptions& options);

// ---- connection.cpp (given) and io.cpp (yours) -------------------------------

struct Handshake {
    std::string version;             // "TLSv1.3"
    std::string cipher;              // "TLS_AES_256_GCM_SHA384"
    std::vector<std::string> chain;  // the subjects the server sent, leaf first: "/CN=localhost"
    std::string verified;            // "ok", or the verify result's text (verify off)
};

class Connection {
public:
    Connection() = default;
    // Takes a non-blocking connected socket and an SSL set up on it.
    Connection(net::Fd socket, SSL* ssl) noexcept;
    ~Connection();
    Connection(Connection&& other) noexcept;
    Connection& operator=(Connection&& other) noexcept;

    // io.cpp: at least one byte of the peer's data into `buffer` — or 0 when
    // the peer sent close_notify. Waits (poll) while OpenSSL wants to read or
    // write; Error at `deadline` ("timed out ..."); Truncated when the TCP
    // stream ends without close_notify; Error for anything else.
    [[nodiscard]] std::size_t read_some(std::span<char> buffer, Clock::time_point deadline);
    // io.cpp: every byte of `bytes`, waiting while OpenSSL wants to read or
    // write (when it does, call SSL_write again with the same bytes). Error at
    // `deadline`, or when the peer goes away.
    void write_all(std::string_view bytes, Clock::time_point deadline);

    // Sends close_notify (SSL_shutdown) without waiting for the peer's: for a
    // client that has read what it wanted, that is enough (RFC 8446 §6.1).
    void close() noexcept;

    [[nodiscard]] Handshake handshake() const;
    [[nodiscard]] SSL* native() const noexcept { return ssl_; }
    [[nodiscard]] int fd() const noexcept { return socket_.get(); }

private:
    net::Fd socket_;
    SSL* ssl_ = nullptr;
};

// OpenSSL's reason for the newest entry of this thread's error queue
// ("certificate verify failed"), or `fallback` when the queue is empty; the
// queue is emptied.
[[nodiscard]] std::string openssl_reason(std::string_view fallback);

// Waits (poll) until `fd` is readable (`events` POLLIN) or writable
// (POLLOUT), or throws Error("timed out <doing>") at `deadline`.
void wait_for(int fd, short events, Clock::time_point deadline, std::string_view doing);

// ---- https.cpp (given): lesson 13's HTTP/1.1 over TLS ------------------------

// https://host[:port][/path][?query]  (port 443 by default); Error otherwise.
[[nodiscard]] http::Url parse_https_url(std::string_view text);

// requests.get('https://...'): one GET on a new TLS connection, the response
// read with lesson 13's parser until it is complete (then close_notify), or
// until the server's close_notify for a body that runs until close. A
// truncated body is an Error, never a short success. `total` bounds the
// whole call.
[[nodiscard]] http::Response get(std::string_view url, const ClientOptions& options = {},
                                 std::chrono::milliseconds total = std::chrono::seconds(30));

}  // namespace tls
