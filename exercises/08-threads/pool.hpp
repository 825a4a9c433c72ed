#pragma once
// Exercise 08, part 2 — a bounded worker pool: many clients at once, a fixed
// number of threads, and a clean stop.
//
// Chapter 08 shows why: a server that serves one client at a time makes the
// twentieth wait for the nineteen before it, and a thread per client lets
// 10,000 clients start 10,000 threads. Here a fixed set of worker threads
// takes clients from a bounded queue that the accepting thread fills.
// lessons/08-threads/pool-model.hpp is the narrated version. Edit pool.cpp,
// then run ./workbook check 08.

#include <atomic>
#include <chrono>
#include <cstddef>
#include <functional>
#include <string_view>

#include "net/fd.hpp"

namespace lesson08 {

// Serves one client to the end. It runs on a worker thread; when it returns,
// the client's socket is closed. It may throw: that is the client's failure,
// never the worker's.
using Handler = std::function<void(int client)>;

struct PoolOptions {
    std::size_t workers = 8;  // worker threads, started once, at the beginning
    std::size_t queue = 64;   // accepted clients waiting for a free worker, at most
    // How long a stop waits for the clients in flight before it cuts them off.
    std::chrono::milliseconds grace{2000};
};

// What a client is told when the queue is full, just before it is closed.
inline constexpr std::string_view busy_reply = "ERR busy\n";

// Accepts clients on `listener` (borrowed, not owned) and serves each with
// `handler` on one of `options.workers` threads, until `stop` is true.
// Returns how many clients the handler served without throwing.
//
// - The threads: exactly options.workers workers, started before the first
//   accept(), plus the calling thread, which accepts. Never a thread per
//   client: the number of threads does not grow with the number of clients.
// - The queue: the accepting thread pushes each client onto a queue that
//   workers pop from (a std::mutex, a std::condition_variable and a
//   std::deque<net::Fd> do it). A worker that finds the queue empty sleeps
//   on the condition variable; it does not spin.
// - Full: when options.queue clients already wait, the new client is sent
//   busy_reply ("ERR busy\n", with MSG_NOSIGNAL, errors ignored) and closed
//   at once, by the accepting thread. The server never stops accepting and
//   never lets a client hang without an answer. (The other honest choice,
//   making accept() wait for room, leaves clients in the kernel's queue
//   with no word; this pool answers.)
// - One client's failure (the handler throws any std::exception) is caught
//   by the worker, which goes on to the next client. A worker never dies.
// - accept(): EINTR when `stop` is false and the per-client errors
//   (net::is_per_client_accept_error) are not fatal: accept again.
// - Stop: `stop` is checked before each accept(); whoever sets it signals the
//   accepting thread (handler without SA_RESTART, like Ctrl-C), so a
//   blocked accept() returns EINTR. Then: accept no more; let the workers
//   finish every client already accepted (in a handler or still queued);
//   after options.grace, cut the rest off: shutdown(SHUT_RDWR) the sockets
//   of clients in a handler (their recv returns 0, so their handler ends)
//   and close the queued ones unserved. Join every worker before returning:
//   when serve_pool returns, no thread of it is left and no handler runs.
// - Any other accept() failure stops the workers the same way, then throws
//   std::system_error naming accept.
std::size_t serve_pool(int listener, const Handler& handler, const PoolOptions& options,
                       const std::atomic<bool>& stop);

}  // namespace lesson08
