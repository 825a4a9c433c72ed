// Solution 11 — the listener's edge-triggered handler (contract: edge_triggered.hpp).
#include "edge_triggered.hpp"

#include <cerrno>
#include <sys/socket.h>
#include <unistd.h>

#include "net/error.hpp"
#include "net/tcp.hpp"

namespace lesson11 {

AcceptCounts accept_all(int listener, ReserveFd& reserve, const std::function<void(net::Fd)>& on_client) {
    AcceptCounts counts;
    if (!reserve.held()) {
        reserve.restore();  // lost to a race earlier: take a descriptor back while one is free
    }
    for (;;) {  // until EAGAIN: a client left in the queue gets no second report
        const int fd = ::accept4(listener, nullptr, nullptr, SOCK_NONBLOCK | SOCK_CLOEXEC);
        if (fd >= 0) {
            on_client(net::Fd{fd});
            ++counts.accepted;
            continue;
        }
        const int err = errno;
        if (err == EAGAIN || err == EWOULDBLOCK) {
            return counts;
        }
        if (err == EINTR || net::is_per_client_accept_error(err)) {
            continue;
        }
        if (err != EMFILE && err != ENFILE) {
            net::throw_errno("accept4", err);
        }
        if (!reserve.held()) {
            return counts;  // nothing to free: the next edge tries again
        }
        // Take the client off the queue and tell it now, instead of letting it hang.
        reserve.release();
        const int shed = ::accept4(listener, nullptr, nullptr, SOCK_CLOEXEC);
        const int shed_error = errno;  // before restore()'s open() can change it
        if (shed >= 0) {
            ::close(shed);  // before restore(): this is the descriptor it takes back
            ++counts.shed;
        }
        reserve.restore();
        if (shed < 0 && shed_error != EINTR && !net::is_per_client_accept_error(shed_error)) {
            // EAGAIN: nobody was queued (accept4 takes a descriptor before it
            // looks at the queue, so at the limit it says EMFILE even then).
            // EMFILE again: another thread took the slot. Either way, stop.
            return counts;
        }
    }
}

}  // namespace lesson11
