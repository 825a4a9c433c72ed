#pragma once
// Exercise 10 — one client of a non-blocking echo server on an epoll loop.
//
// The loop (net::EventLoop, common/net/event_loop.hpp) tells you when the
// socket is readable or writable; a Connection decides what to do about it
// and what to be told next. Nothing here may block: the socket is
// non-blocking, so a recv or send that would wait fails with EAGAIN instead,
// and that is not an error, it is "come back when epoll says so".
//
// The echo service: every byte a client sends is sent back, in order.
//
// Chapter: book/src/10-event-loop.md. Check it with: ./workbook check 10
#include <sys/epoll.h>

#include <cstddef>
#include <cstdint>
#include <string>

#include "net/fd.hpp"

namespace lesson10 {

// What a handler tells the loop afterwards.
enum class Status {
    open,    // keep the connection; ask interest() what to watch for now
    closed,  // the client is gone (or broke the connection): unwatch and close it
};

class Connection {
public:
    // Takes a connected, NON-BLOCKING socket. `output_limit`: the most bytes
    // the connection may hold for a client that does not read its replies.
    explicit Connection(net::Fd socket, std::size_t output_limit = default_output_limit);

    // How much one on_readable() may read in one go.
    static constexpr std::size_t read_chunk = 64 * 1024;
    static constexpr std::size_t default_output_limit = 1024 * 1024;

    // epoll said EPOLLIN (or EPOLLHUP/EPOLLERR: a recv then says what happened).
    // Calls ::recv ONCE (level-triggered: if more is waiting, epoll reports
    // the socket again) for at most read_chunk bytes:
    //   - bytes: they are the echo's reply; append them to the output buffer
    //     and try to send it (as on_writable does), so a quick client gets its
    //     answer in the same turn of the loop;
    //   - 0: the client closed its side: it sends nothing more, but may still
    //     be reading (a half-close: nc -N). Output empty: return closed. Else
    //     remember it and return open: on_writable says closed once the
    //     replies are out, and interest() stops asking for EPOLLIN (a socket
    //     at EOF is readable for ever: level-triggered, it would spin);
    //   - EAGAIN/EWOULDBLOCK or EINTR: nothing to read after all: return open;
    //   - any other error (ECONNRESET...): return closed.
    Status on_readable();

    // epoll said EPOLLOUT. Sends from the front of the output buffer with
    // ::send(..., MSG_NOSIGNAL) until the buffer is empty or send fails with
    // EAGAIN (the kernel's send buffer is full: keep the rest for later).
    // A send may take fewer bytes than offered: keep exactly the unsent tail,
    // in order. EINTR: try again. Any other error (EPIPE, ECONNRESET): closed.
    // After the client's EOF (see on_readable), closed once the buffer is empty.
    Status on_writable();

    // The events the loop should watch this socket for now:
    //   - EPOLLOUT while the output buffer holds bytes, and never when it is
    //     empty (level-triggered EPOLLOUT on an empty buffer fires on every
    //     turn: a loop that spins at 100% CPU doing nothing);
    //   - EPOLLIN while the output buffer holds FEWER than output_limit
    //     bytes. At the limit, stop reading (backpressure): a client that
    //     sends and never reads must not make the server buffer without end.
    //     Once on_writable has sent enough to drop below the limit, reading
    //     resumes. Never after the client's EOF: there is nothing more to read.
    [[nodiscard]] std::uint32_t interest() const;

    // Bytes waiting in the output buffer.
    [[nodiscard]] std::size_t buffered() const noexcept { return output_.size(); }
    [[nodiscard]] int fd() const noexcept { return socket_.get(); }

private:
    net::Fd socket_;
    std::size_t output_limit_;
    std::string output_;
    bool peer_closed_ = false;  // recv said 0: send what is owed, then close
};

}  // namespace lesson10
