// The select() loop: the same loop as poll-loop.cpp on fd_set bitmaps.
// An fd_set is a fixed array of FD_SETSIZE (1024) bits; FD_SET(fd) with a
// larger fd writes past its end (glibc's _FORTIFY_SOURCE aborts, without it
// memory is silently corrupted). So every descriptor is checked first.
#include <algorithm>
#include <cerrno>
#include <string>
#include <sys/select.h>
#include <sys/socket.h>
#include <system_error>
#include <vector>

#include <fmt/core.h>

#include "loops.hpp"
#include "net/error.hpp"
#include "net/log.hpp"
#include "net/stream.hpp"

namespace chat {

namespace {

[[nodiscard]] bool fits_in_fd_set(int fd) noexcept { return fd >= 0 && fd < FD_SETSIZE; }

// A client select() cannot watch: tell it why, close it, keep serving the others.
void refuse(net::Fd client, const net::Address& peer) {
    net::log::error("fd {} (client {}) is not below FD_SETSIZE ({}): select() cannot watch it; "
                    "closing that client (poll() has no such limit: run without --select)",
                    client.get(), net::to_string(peer), FD_SETSIZE);
    try {
        net::send_all(client.get(), "ERR server full\n");
    } catch (const std::system_error&) {
        // It is being closed anyway.
    }
}

}  // namespace

void run_select_loop(int listener, const SelfPipe& wake, Service& service, const Narration& say) {
    for (const int fd : {listener, wake.read_fd()}) {
        if (!fits_in_fd_set(fd)) {
            throw std::runtime_error(fmt::format(
                "fd {} is not below FD_SETSIZE ({}): select() cannot watch it (run without --select)", fd,
                FD_SETSIZE));
        }
    }
    for (;;) {
        // 1. select() overwrites the sets with its answer: fill them every turn.
        fd_set readable;
        FD_ZERO(&readable);
        FD_SET(wake.read_fd(), &readable);
        FD_SET(listener, &readable);
        int highest = std::max(wake.read_fd(), listener);
        const std::vector<int> clients = service.sockets();
        for (const int fd : clients) {
            FD_SET(fd, &readable);  // every client was checked when it was accepted
            highest = std::max(highest, fd);
        }

        // 2. Its first argument is the highest descriptor + 1, not a count.
        const int ready = ::select(highest + 1, &readable, nullptr, nullptr, nullptr);
        if (ready < 0) {
            if (errno == EINTR) {
                continue;
            }
            net::throw_errno("select");
        }
        say.step("select(nfds {}) = {} ready", highest + 1, ready);

        if (FD_ISSET(wake.read_fd(), &readable) && wake.drain()) {
            net::log::info("stopping: signal received");
            return;
        }
        // A peer that hung up or reset is "readable": recv() returns 0 or fails.
        for (const int fd : clients) {
            if (FD_ISSET(fd, &readable)) {
                service.readable(fd);
            }
        }
        if (FD_ISSET(listener, &readable)) {
            net::Address peer;
            net::Fd client = accept_waiting(listener, peer, say);
            if (!client) {
                continue;
            }
            if (!fits_in_fd_set(client.get())) {
                refuse(std::move(client), peer);
                continue;
            }
            service.add(std::move(client), peer);
        }
    }
}

}  // namespace chat
