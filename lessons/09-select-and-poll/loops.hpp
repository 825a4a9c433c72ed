#pragma once
// The two ways to wait for many sockets at once on one thread.

#include "narration.hpp"
#include "self-pipe.hpp"
#include "service.hpp"

namespace chat {

// poll(): an array of {fd, events}, any descriptor number. Returns after a
// signal wrote to `wake` (Ctrl-C).
void run_poll_loop(int listener, const SelfPipe& wake, Service& service, const Narration& say);

// select(): the same loop on fd_set bitmaps, which hold only descriptors
// below FD_SETSIZE (1024). A client whose descriptor number is higher is told
// "ERR server full" and closed: FD_SET on it would write past the bitmap.
void run_select_loop(int listener, const SelfPipe& wake, Service& service, const Narration& say);

// accept() one client the loop saw waiting; invalid if it was lost meanwhile.
[[nodiscard]] net::Fd accept_waiting(int listener, net::Address& peer, const Narration& say);

}  // namespace chat
