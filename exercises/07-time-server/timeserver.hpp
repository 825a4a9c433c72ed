#pragma once
// Exercise 07 — a time server done right: RFC 867 daytime and RFC 868 time,
// over TCP and UDP, with a timeout on every wait, on both sides.
//
// Chapter 07 (book/src/07-time-server.md) runs lessons/07-time-server/
// time-server against nc and rdate, shows a silent client freezing a server
// without timeouts, then the fix. Edit timeserver.cpp, then run
// ./workbook check 07.

#include <array>
#include <atomic>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <span>
#include <string>

#include "net/fd.hpp"

namespace lesson07 {

using Clock = std::chrono::system_clock;

enum class Service {
    daytime,  // RFC 867: the date and time as one line of text
    time,     // RFC 868: the time as a 32-bit number of seconds since 1900
};

enum class Transport { tcp, udp };

// ---- The two formats -------------------------------------------------------

// RFC 867 leaves the format to you; ours is the RFC's own example style, in
// UTC, two-digit day, whole seconds, ending in CRLF:
//   "Monday, February 22, 1982 17:37:43-UTC\r\n"
// (strftime's "%A, %B %d, %Y %H:%M:%S" on gmtime_r's result does it; the
// program never calls setlocale, so the names are English.)
std::string daytime_line(Clock::time_point now);

// RFC 868: the seconds since 1900-01-01 00:00:00 UTC, as a 32-bit unsigned
// number, most significant byte first (network byte order). Unix time counts
// from 1970: add the 70 years between, 2,208,988,800 seconds (17 of those
// years were leap years). Whole seconds; the fraction is dropped.
//
// 32 bits run out on 2036-02-07 06:28:16 UTC: the value wraps around to 0
// then and counts up again (take it modulo 2^32).
std::array<std::uint8_t, 4> time_bytes(Clock::time_point now);

// The inverse, for a client: the time four RFC 868 bytes stand for. A value
// of 2^31 or more is 1968-01-20 to 2036-02-07; a smaller value is taken to
// be after the 2036 wrap, so a client keeps working until 2104. That is
// SNTP's rule (RFC 4330, section 3). Full NTP (RFC 5905) has no fixed rule:
// it resolves the era against the receiver's own clock.
Clock::time_point time_from_bytes(std::span<const std::uint8_t, 4> bytes);

// ---- The server's side -----------------------------------------------------

// Serves one TCP client that accept() returned, then returns (the Fd closes
// the socket):
//
// - daytime (RFC 867): send the line, return. The server closes first.
// - time (RFC 868): send the 4 bytes, then wait for the client to close its
//   side (recv returns 0), throwing away anything it sends, and return. That
//   is the order of RFC 868's dialogue ("U: Close the connection. S: Close
//   the connection."); its prose has the server close at once. Waiting is
//   this book's choice: the TIME_WAIT of chapter 04 then lands on the
//   client, not on the busy server. The tests also take a server that
//   follows the prose (send the 4 bytes and return at once); one that waits
//   must wait as told below.
//
// A client that never closes must not hold the server: stop waiting after
// `timeout` and return (dropping it is not an error). `timeout` is a budget
// for the whole wait, not for each recv: a client that sends a byte every
// 100 ms is dropped after `timeout` too. SO_RCVTIMEO alone restarts its
// clock at every call; poll() with the time that is left does not.
//
// Send with MSG_NOSIGNAL (chapter 04). A client that resets while you wait
// for its close is gone, which is what you were waiting for: return. A send
// that fails throws std::system_error naming send.
void serve_tcp_client(net::Fd client, Service service, std::chrono::milliseconds timeout);

// Answers datagrams on a bound UDP socket until `stop` is true, and returns
// how many it answered. Each datagram that arrives (its content is ignored;
// RFC 868 clients send an empty one) gets one reply datagram, sent back to
// the address recvfrom reported, with the length it reported: the daytime
// line, or the 4 time bytes. Keep that address in a sockaddr_storage, which
// fits any family.
//
// A reply that cannot be sent is that one peer's problem, not the server's:
// when sendto fails (EACCES for a broadcast address, EPERM from a firewall,
// ENOBUFS, an address it cannot send to...), skip that datagram (it does not
// count as answered) and go on serving. Retry sendto on EINTR.
// (To make one reply fail for real, the tests also run this on a Unix-domain
// datagram socket and ask from an unnamed one: recvfrom reports an empty
// address, length 0, and sendto to it fails with ENOTCONN.)
//
// Stopping works as in chapter 04: `stop` is checked before each recvfrom;
// whoever sets it then signals this thread (a handler without SA_RESTART),
// so a blocked recvfrom returns -1 with EINTR: check `stop` again. EINTR
// while `stop` is false means: receive again.
std::size_t serve_udp(int fd, Service service, const std::atomic<bool>& stop);

// ---- The client's side -----------------------------------------------------

// Asks an RFC 868 time server at host:port for the time and returns it.
//
// - tcp: connect, receive exactly 4 bytes (they may arrive in pieces), close.
//   The server may close right after its 4 bytes (RFC 868's prose) or wait
//   for you to close first (its dialogue, and serve_tcp_client): take the
//   time either way. A server that closes before sending all 4 throws
//   std::runtime_error.
// - udp: connect() a UDP socket to the server (then only its datagrams reach
//   you, and a port where nothing listens fails at once with ECONNREFUSED
//   instead of waiting out the timeout), send one empty datagram, receive the
//   reply. A reply that is not exactly 4 bytes throws std::runtime_error.
//
// Never wait for ever: if no answer has come `timeout` after the call began
// (connecting included), throw std::system_error with ETIMEDOUT
// (net::throw_errno("...", ETIMEDOUT)). Other failures throw
// std::system_error naming the call. The socket is closed on every path.
//
// For the TCP connect you may use net::connect_tcp(host, port, timeout) from
// common/net/tcp.hpp: it connects a non-blocking socket (connect() returns
// EINPROGRESS), waits with poll() for POLLOUT for at most `timeout`, reads
// the outcome with getsockopt(SO_ERROR), and returns the socket in blocking
// mode; if the time runs out it throws std::system_error with ETIMEDOUT.
// Take the deadline before connecting, and give the receive what is left.
Clock::time_point ask_time(const std::string& host, std::uint16_t port, Transport transport,
                           std::chrono::milliseconds timeout = std::chrono::seconds(2));

}  // namespace lesson07
