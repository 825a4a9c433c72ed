#pragma once
// Exercise 11 — an echo server's two handlers, edge-triggered.
//
// Lesson 10's loop was level-triggered: epoll reports a socket on every turn
// while it is readable, so one recv per report was enough. Here every socket
// is registered once with EPOLLET, for the connection's whole life: epoll
// reports it when something NEW arrives (an edge), and never again for bytes
// or clients that were already waiting. A handler that leaves something
// behind is never told about it again. The rule: drain until EAGAIN.
//
// Two handlers follow that rule here: accept_all (the listener's) and
// Connection::on_ready (each client's). Both also face what 10,000 clients
// bring: running out of file descriptors (EMFILE), and a client that sends
// more than it reads.
//
// Chapter: book/src/11-edge-triggered-and-c10k.md. Check it with: ./workbook check 11
#include <fcntl.h>
#include <sys/epoll.h>

#include <cstddef>
#include <cstdint>
#include <functional>
#include <string>

#include "net/fd.hpp"

namespace lesson11 {

// One descriptor held open on /dev/null, for the moment the process has no
// other: a server out of descriptors (accept4 fails with EMFILE) closes this
// one, accepts the waiting client into the slot it freed, closes the client
// at once (the client sees its connection closed, instead of hanging in the
// queue), and opens the reserve again.
class ReserveFd {
public:
    ReserveFd() { restore(); }
    // Frees the descriptor: one accept4 can now succeed.
    void release() noexcept { fd_.reset(); }
    // Takes a descriptor again; false if none is free (the reserve is then lost).
    bool restore() noexcept {
        if (!fd_) {
            fd_.reset(::open("/dev/null", O_RDONLY | O_CLOEXEC));
        }
        return held();
    }
    [[nodiscard]] bool held() const noexcept { return fd_.valid(); }

private:
    net::Fd fd_;
};

struct AcceptCounts {
    std::size_t accepted = 0;  // handed to on_client
    std::size_t shed = 0;      // accepted only to be closed at once: no descriptor was free
};

// The listener's handler. `listener` is non-blocking and watched with
// EPOLLIN | EPOLLET: one report however many clients are queued, so take them
// all, calling ::accept4(listener, nullptr, nullptr, SOCK_NONBLOCK | SOCK_CLOEXEC)
// until the queue is empty:
//   - a new socket: wrap it in a net::Fd, call on_client with it, count it accepted;
//   - EAGAIN/EWOULDBLOCK: the queue is empty: return the counts;
//   - EINTR, or an error that concerns only that one client
//     (net::is_per_client_accept_error, net/tcp.hpp): go on with the next;
//   - EMFILE or ENFILE (no descriptor left): a queued client stays queued, and
//     with EPOLLET nobody hears of it again until another client arrives. If
//     `reserve` is held: release it and accept4 again. A client: close it at
//     once (it sees its connection closed, or reset if it had sent something),
//     count it shed. Then restore the reserve (after the close: that is the
//     descriptor it takes back) and go on with the next. If that second
//     accept4 failed, save its errno before restore() and return, unless it
//     was EINTR or a per-client error: EAGAIN means nobody was queued
//     (accept4 takes a descriptor BEFORE it looks at the queue, so at the
//     limit it says EMFILE even when nobody is waiting), EMFILE means another
//     thread took the slot. If the reserve is not held, return;
//   - any other error: throw std::system_error naming accept4 (net::throw_errno).
// First thing in every call: if the reserve is not held (lost to another
// thread's race), restore() it while a descriptor may be free. (The reserve
// trick holds for one thread per descriptor table: with several loops in one
// process, their accept4 calls can take each other's freed slot.)
AcceptCounts accept_all(int listener, ReserveFd& reserve, const std::function<void(net::Fd)>& on_client);

// What on_ready tells the loop afterwards.
enum class Status {
    open,    // keep the connection (its registration never changes)
    closed,  // the client is gone or broke the connection: unwatch and close it
};

// One client of the echo service (every byte it sends is sent back, in order).
class Connection {
public:
    // Takes a connected, NON-BLOCKING socket. `output_limit`: the most replies
    // the connection may hold for a client that does not read them.
    explicit Connection(net::Fd socket, std::size_t output_limit = default_output_limit);

    static constexpr std::size_t read_chunk = 16 * 1024;  // the most one recv asks for
    static constexpr std::size_t default_output_limit = 1024 * 1024;
    // What the loop watches the socket for, registered once and never changed:
    // no epoll_ctl per state change, which is what edge-triggered buys.
    static constexpr std::uint32_t events = EPOLLIN | EPOLLOUT | EPOLLET;

    // epoll reported an edge: `ready` holds EPOLLIN, EPOLLOUT, EPOLLHUP,
    // EPOLLERR in any mix. In order:
    //   1. Send from the front of the output with ::send(..., MSG_NOSIGNAL)
    //      until it is empty or send fails with EAGAIN. Keep exactly the unsent
    //      tail. EINTR: try again. Any other error: return closed.
    //   2. Read with ::recv, at most read_chunk bytes per call, appending what
    //      comes to the output and sending it as in 1, until recv fails with
    //      EAGAIN: only an empty queue makes the next arrival news.
    //      0 from recv: the client sends nothing more. It may still be reading
    //      (a half-close: nc -N), so close only once it has its replies: return
    //      closed if the output is empty; else stop reading, return open, and
    //      return closed from the on_ready whose send empties it. EINTR: again.
    //      Any other error: closed.
    //      Backpressure: stop reading while the output holds output_limit
    //      bytes or more, even before EAGAIN. The bytes left in the kernel
    //      will not be reported again (their edge is spent), so remember that
    //      reading stopped early, and read again in a later on_ready (the
    //      EPOLLOUT edge that comes once the client reads) even though its
    //      `ready` holds no EPOLLIN.
    //   3. Return open.
    Status on_ready(std::uint32_t ready);

    [[nodiscard]] std::size_t buffered() const noexcept { return output_.size(); }
    [[nodiscard]] int fd() const noexcept { return socket_.get(); }

private:
    net::Fd socket_;
    std::size_t output_limit_;
    std::string output_;
    bool reading_paused_ = false;  // stopped at the limit with bytes left in the kernel
    bool peer_closed_ = false;     // recv said 0: finish sending, then close
};

}  // namespace lesson11
