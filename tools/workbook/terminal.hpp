#pragma once
// What watch needs from the terminal: single keys without Enter, and Ctrl-C
// as an event its poll() loop sees, so the terminal is always restored.

#include <csignal>
#include <termios.h>

#include "net/fd.hpp"

namespace workbook {

// Turns off line buffering and echo on standard input while it lives (when
// that is a terminal); the saved settings come back on every way out.
class RawKeys {
public:
    RawKeys();
    ~RawKeys();
    RawKeys(const RawKeys&) = delete;
    RawKeys& operator=(const RawKeys&) = delete;

private:
    termios saved_{};
    bool active_ = false;
};

// Blocks SIGINT, SIGTERM and SIGHUP and delivers them on a signalfd instead.
// Child processes are started with the usual signal mask (see process.cpp).
class SignalInbox {
public:
    SignalInbox();
    ~SignalInbox();
    SignalInbox(const SignalInbox&) = delete;
    SignalInbox& operator=(const SignalInbox&) = delete;

    [[nodiscard]] int fd() const noexcept { return fd_.get(); }

private:
    sigset_t previous_{};
    net::Fd fd_;
};

}  // namespace workbook
