// The poll() loop: one thread waits for every socket at once, then serves
// whichever are ready, and never blocks on any one client in between.
#include <cerrno>
#include <cstring>
#include <poll.h>
#include <sys/socket.h>
#include <vector>

#include "loops.hpp"
#include "net/error.hpp"
#include "net/log.hpp"
#include "net/tcp.hpp"

namespace chat {

net::Fd accept_waiting(int listener, net::Address& peer, const Narration& say) {
    peer.length = sizeof peer.storage;
    const int fd = ::accept4(listener, peer.get(), &peer.length, SOCK_CLOEXEC);
    if (fd < 0) {
        const int err = errno;
        if (err == EINTR || net::is_per_client_accept_error(err)) {
            // Gone before we took it (or a signal): the loop goes round again.
            net::log::warn("accept: {}: skipping that client", std::strerror(err));
            return net::Fd{};
        }
        net::throw_errno("accept", err);
    }
    say.step("accept() = fd {} from {}", fd, net::to_string(peer));
    return net::Fd{fd};
}

void run_poll_loop(int listener, const SelfPipe& wake, Service& service, const Narration& say) {
    std::vector<pollfd> watched;
    for (;;) {
        // 1. What to wait for, rebuilt every turn: clients come and go.
        //    Slot 0 is the self-pipe, slot 1 the listener, then the clients.
        watched.clear();
        watched.push_back({wake.read_fd(), POLLIN, 0});
        watched.push_back({listener, POLLIN, 0});
        for (const int fd : service.sockets()) {
            watched.push_back({fd, POLLIN, 0});
        }

        // 2. Sleep until at least one is ready. No timeout: nothing to do otherwise.
        const int ready = ::poll(watched.data(), watched.size(), -1);
        if (ready < 0) {
            if (errno == EINTR) {
                continue;  // a signal: its byte is in the pipe, the next poll() sees it
            }
            net::throw_errno("poll");
        }
        say.step("poll({} fds) = {} ready", watched.size(), ready);

        // 3. Ctrl-C: the handler wrote a byte, whenever it ran.
        if ((watched[0].revents & POLLIN) != 0 && wake.drain()) {
            net::log::info("stopping: signal received");
            return;
        }

        // 4. Clients first, by what poll() reported. POLLHUP and POLLERR are
        //    reported even unasked; recv() then says what happened (0 or an error).
        for (std::size_t i = 2; i < watched.size(); ++i) {
            if ((watched[i].revents & (POLLIN | POLLHUP | POLLERR)) != 0) {
                service.readable(watched[i].fd);
            }
        }

        // 5. A client waiting in the accept queue: accept() will not block.
        if ((watched[1].revents & POLLIN) != 0) {
            net::Address peer;
            if (net::Fd client = accept_waiting(listener, peer, say)) {
                service.add(std::move(client), peer);
            }
        }
    }
}

}  // namespace chat
