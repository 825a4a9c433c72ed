#pragma once
// Exercise 06 — UDP: datagrams, truncation, timeouts and retries.
//
// Chapter 06 (book/src/06-udp.md) runs the programs in lessons/06-udp/. Here
// you write the three pieces every UDP program needs. Edit udp.cpp, then run
// ./workbook check 06.
//
// The wire: a request is one datagram "<id> <payload>", where <id> is the
// request's id in decimal ("7 hello"); a reply is one datagram
// "<id> <answer>" from the server ("7 hello" again, from an echo server).
// The id is how a client tells the reply to THIS request from a late or
// duplicated reply to an earlier one.

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

// net::Address: a sockaddr_storage (room for IPv4 or IPv6) and its length.
// sendto(fd, ..., address.get(), address.length); recvfrom(fd, ...,
// address.get(), &address.length) after setting length = sizeof storage;
// net::to_string(address) gives "127.0.0.1:5000".
#include "net/address.hpp"

namespace lesson06 {

// One datagram, as receive_datagram saw it.
struct Datagram {
    std::string bytes;     // what fit in the buffer: at most `capacity` bytes
    std::size_t size = 0;  // the datagram's real length (more than bytes.size() if it was cut)
    net::Address from;     // who sent it: where a reply must go

    [[nodiscard]] bool truncated() const noexcept { return size > bytes.size(); }
};

// Receives one datagram on the UDP socket `fd` into a buffer of `capacity`
// bytes, and says who sent it (recvfrom).
//
// A datagram is read whole or not at all. If it is larger than the buffer,
// the kernel copies what fits and throws the rest away, and recvfrom returns
// the number of bytes copied as if nothing were wrong. Pass MSG_TRUNC in
// recvfrom's flags: Linux then returns the datagram's real length instead
// (recv(2); this input flag is Linux's, elsewhere recvmsg's msg_flags only
// say that a datagram was cut), which is how you notice. Return what fit in
// `bytes` and the real length in `size`.
//
// A datagram of 0 bytes is a datagram like any other: UDP has no connection,
// so there is no end of file. Blocks until a datagram arrives; a caught
// signal (EINTR) is not an error, wait again. A failed recvfrom throws
// std::system_error naming recvfrom.
Datagram receive_datagram(int fd, std::size_t capacity);

// What echo_one did with one datagram.
struct Echo {
    net::Address peer;     // who sent it
    std::size_t size = 0;  // its real length
    bool echoed = false;   // false: it was too large for the buffer and was not echoed
};

// The server's half: receives one datagram on `fd` (a UDP socket bound to the
// server's address) with a buffer of `max_size` bytes, and sends the same
// bytes back to whoever sent it.
//
// One UDP socket serves every client: there is no accept() and no connection,
// so the only record of where the reply goes is the address recvfrom gave
// you with this datagram. Reply with sendto() to exactly that address.
//
// A datagram larger than `max_size` arrives cut. Echoing the piece would pass
// it off as the whole datagram, so send nothing back: return echoed = false
// and its real size. Failed system calls throw std::system_error.
Echo echo_one(int fd, std::size_t max_size);

// How patient request_with_retry is. Attempt 1 waits `first_timeout` for the
// reply; each later attempt waits twice as long as the one before
// (exponential backoff): 4 attempts from 250 ms wait 250 + 500 + 1000 + 2000 ms.
struct Retry {
    std::chrono::milliseconds first_timeout{250};
    int attempts = 4;
};

// The client's half: sends the request "<id> <payload>" from the UDP socket
// `fd` to `server`, and returns the <answer> of the server's reply
// "<id> <answer>" (without the "<id> ").
//
// Datagrams get lost, duplicated and reordered, and nothing tells you. So:
// send the request and wait at most the attempt's timeout for the reply. If
// none came, send the same request again (same id) and wait twice as long.
// Each attempt's timeout is a deadline: datagrams you ignore meanwhile do not
// extend it. To wait for a datagram with a timeout, poll() the socket for
// POLLIN with the milliseconds left (wait_readable in
// lessons/06-udp/udp-client.cpp, shown in the chapter). poll() fails with
// EINTR on any caught signal, SA_RESTART or not (signal(7)): poll again for
// what is left of the deadline. After
// `retry.attempts` attempts without a reply, throw std::system_error with
// ETIMEDOUT (std::errc::timed_out) whose what() names the server's address,
// e.g. "no reply from 127.0.0.1:5000 after 4 attempts".
//
// Only a datagram from `server` that starts with "<id> " is the reply; ignore
// anything else and keep waiting. A reply to an earlier request (late, or a
// duplicate still queued on this socket) carries another id. A datagram from
// another address is not from the server at all. Tip: connect(fd, server) on
// a UDP socket sends nothing, but the kernel then drops datagrams from other
// addresses for you and reports an ICMP "port unreachable" as ECONNREFUSED on
// a later send or recv. ECONNREFUSED means nothing listens there: throw
// std::system_error with that code at once, without waiting out the retries.
//
// Read replies into a buffer that fits any UDP datagram (65,536 bytes): an
// answer must come back whole. `fd` is a UDP socket the caller created; it
// may use it for more requests. Bad arguments (attempts < 1, a first_timeout
// of 0 or less) throw std::invalid_argument; a failed system call throws
// std::system_error naming it (a request too large for one datagram: EMSGSIZE).
std::string request_with_retry(int fd, const net::Address& server, std::uint32_t id, std::string_view payload,
                               const Retry& retry = {});

}  // namespace lesson06
