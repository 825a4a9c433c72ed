#pragma once
// Exercise 03 — byte streams: TCP has no messages.
//
// TCP delivers your bytes, in order, and nothing else: not where one send
// ended, not how many sends there were. One recv may return half a message or
// three messages glued together; one send may take only part of what you
// offered. Chapter 03 (book/src/03-byte-streams.md) shows both happening.
// Here you write the three helpers every later lesson stands on.
// Edit streams.cpp, then run ./workbook check 03.
//
// All three work on a connected, *blocking* TCP socket they do not own (they
// never close it). Each must survive signals: a blocking call interrupted by a
// signal handler fails with errno == EINTR, or returns a short count when some
// bytes had moved already. Neither is an error: just carry on.
// Any other failure throws std::system_error naming the call (net::check /
// net::throw_errno: "send", "recv").

#include <cstddef>
#include <optional>
#include <span>
#include <stdexcept>
#include <string>
#include <string_view>

namespace lesson03 {

// The peer closed the connection (recv returned 0) in the middle of something:
// before all the bytes recv_exact needed, or in the middle of a line.
class PeerClosed : public std::runtime_error {
public:
    using std::runtime_error::runtime_error;
};

// A line longer than the LineReader's limit (see below).
class LineTooLong : public std::runtime_error {
public:
    using std::runtime_error::runtime_error;
};

// Sends every byte of `bytes` on `fd`, however many send calls that takes.
//
// send returns how many bytes it took, which may be fewer than you offered:
// on this blocking socket it waits for room in the send buffer, but a signal
// (or a send timeout, SO_SNDTIMEO) can end that wait after part of the bytes
// went in. Send the rest, starting where the last call stopped. Pass
// MSG_NOSIGNAL, so that a peer that has gone away is an EPIPE error (thrown)
// rather than a SIGPIPE that kills the process.
// Sending zero bytes does nothing and succeeds.
void send_all(int fd, std::string_view bytes);

// Receives exactly into.size() bytes from `fd` into `into`.
//
// recv returns whatever has arrived, from 1 byte up to what you asked for:
// call it again for the rest, each time into the part not yet filled. If recv
// returns 0 (the peer closed) before the span is full, throw PeerClosed saying
// how many of how many bytes arrived; never wait for bytes that cannot come.
// An empty span returns at once without calling recv.
void recv_exact(int fd, std::span<char> into);

// Reads '\n'-terminated lines from a socket.
//
//     lesson03::LineReader lines(fd, 1024);
//     while (std::optional<std::string> line = lines.read_line()) {
//         handle(*line);                // without its '\n'
//     }                                 // nullopt: the peer closed cleanly
//
// A recv may bring part of a line, or several lines and part of the next, so
// the reader keeps what it received but has not returned yet in `buffer_`;
// the next read_line starts from there before it calls recv again.
class LineReader {
public:
    // Reads from `fd` (not owned: the caller closes it). A line may hold up to
    // `max_line` bytes, not counting its '\n'.
    explicit LineReader(int fd, std::size_t max_line = 8192) : fd_(fd), max_line_(max_line) {}

    // The next line, without its '\n' (any '\r' before it stays: it is part of
    // the line as far as this reader is concerned). An empty line is "".
    //
    // - Returns std::nullopt when the peer closes the connection at a line
    //   boundary (nothing received and not yet returned).
    // - Throws PeerClosed when the peer closes in the middle of a line.
    // - Throws LineTooLong as soon as more than max_line bytes have arrived
    //   without a '\n' among them: never wait for the end of a line that is
    //   already too long. Memory stays bounded whatever the peer sends:
    //   buffered() never holds more than max_line + 4096 bytes (look for the
    //   '\n' and check the length before each recv, and ask recv for at most
    //   4 KiB). The reader is not usable after that; close the connection.
    // - Calls recv only when `buffer_` holds no complete line: lines that
    //   arrived together are returned one by one without waiting for more.
    std::optional<std::string> read_line();

    // Bytes received but not returned yet (the start of the next line, or
    // more lines): what a protocol switching to another reader would take over.
    [[nodiscard]] std::string_view buffered() const noexcept { return buffer_; }

private:
    int fd_;
    std::size_t max_line_;
    std::string buffer_;  // received, not yet returned by read_line
};

}  // namespace lesson03
