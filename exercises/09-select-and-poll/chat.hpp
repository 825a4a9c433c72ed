#pragma once
// Exercise 09 — one thread, many clients: a poll() chat server.
//
// Chapter 09 (book/src/09-select-and-poll.md) runs lessons/09-select-and-poll/
// chat-server and shows why a server that serves one client at a time cannot
// host a chat. Here you write its heart: the per-client state and the
// broadcast, on one poll() loop. Edit chat.cpp, then run ./workbook check 09.
//
// The protocol, one line at a time ('\n' ends a line; a '\r' just before it
// is dropped, so telnet works too):
//
//   - A client's first non-empty line is its nick. Every other member (a
//     client that has a nick) is then told "* NICK joined\n".
//   - Every later non-empty line TEXT goes to every other member as
//     "NICK: TEXT\n", never back to the sender. Lines from one sender reach
//     everyone in the order they were sent.
//   - Empty lines are ignored (before and after the nick).
//   - A client that leaves (EOF, a reset, any error on its socket) is closed;
//     if it had a nick, every other member is told "* NICK left\n".
//   - A line longer than max_line bytes (not counting '\n' or '\r') is
//     refused: the client is sent "ERR line too long\n" and closed (and its
//     leave announced as above). Nobody else notices anything.
//   - Clients without a nick receive nothing; they are not in the room yet.

#include <atomic>
#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

namespace lesson09 {

// The longest line the server takes, in bytes, without its '\n' (or '\r\n').
inline constexpr std::size_t max_line = 1024;

// What take_lines found in the bytes received so far.
struct Lines {
    std::vector<std::string> complete;  // every complete line, in order, without "\n" or "\r\n"
    bool too_long = false;              // a line over max_line was met: drop this client
};

// TCP delivers bytes, not lines: one recv() may hold half a line, or three
// lines and the start of a fourth. take_lines appends `received` to
// `pending` (the client's unfinished line from earlier recv() calls), moves
// every complete line out of it, and leaves the unfinished rest in `pending`.
//
// A line longer than max_line — complete, or still unfinished but already
// longer — sets too_long. The lines before it are still returned (they were
// fine); what is left in `pending` then does not matter: the client goes.
// Without that limit one client that never sends '\n' makes the server
// buffer without end.
[[nodiscard]] Lines take_lines(std::string& pending, std::string_view received);

// The chat server's loop: one thread, one poll() over the listening socket
// and every client, until `stop` is true. Returns how many clients it accepted.
//
// - Each turn: if `stop` is set, return. Otherwise poll() the listener
//   (POLLIN: a client is waiting in the accept queue) and every client
//   (POLLIN) with no timeout. poll() returning -1 with EINTR is not an error:
//   go round again (the test stops the loop by setting `stop` and then
//   signalling this thread, as Ctrl-C does).
// - The listener readable: accept() the client (close-on-exec). A client that
//   was lost while it waited (net::is_per_client_accept_error) is skipped;
//   any other accept failure throws std::system_error naming accept.
// - A client with any of POLLIN, POLLHUP, POLLERR in revents: recv() once
//   (never in a loop: the next recv could block the whole server), give the
//   bytes to take_lines with that client's own pending bytes, and act on
//   every complete line. recv() returning 0 (EOF) or failing (ECONNRESET...)
//   means the client left. EINTR: just try it at the next turn.
// - Send with MSG_NOSIGNAL (net::send_all does): a member who has gone must
//   not kill the process with SIGPIPE. A send that fails means that member
//   left: close it and announce it, and carry on with everyone else.
// - One client's trouble never ends the loop and never touches another
//   client's state. In particular a new client may get the descriptor
//   number of one that just left: it starts with no nick and no pending bytes.
// - Descriptor numbers above 1023 work (poll has no FD_SETSIZE limit).
// - On return every client socket is closed; the listener is the caller's.
//
// Sends block (a member who never reads will, once its buffers fill, stall
// everyone: chapter 09 shows it, lesson 10 fixes it). Keep it that way here.
std::size_t serve(int listener, const std::atomic<bool>& stop);

}  // namespace lesson09
