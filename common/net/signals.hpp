#pragma once
// Ctrl-C for servers: stop at the next blocking call instead of dying mid-write.

namespace net {

// Installs handlers for SIGINT and SIGTERM that only record the signal. They are
// installed *without* SA_RESTART, so a blocked accept()/recv() returns -1 with
// errno == EINTR and the program can check stop_requested() and leave its loop
// cleanly. Chapter 04 builds this by hand; earlier lessons just use it.
//
// One gap remains: a signal that lands after the loop checked stop_requested()
// but before the call blocks is only noticed at the next signal or client (a
// second Ctrl-C works). Closing it takes a self-pipe or signalfd watched with
// poll, which chapter 09 introduces.
void stop_on_signals();

// True once SIGINT or SIGTERM has arrived after stop_on_signals().
[[nodiscard]] bool stop_requested() noexcept;

}  // namespace net
