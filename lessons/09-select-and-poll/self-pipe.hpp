#pragma once
// Ctrl-C for a poll() loop: the self-pipe trick.
//
// Lessons 02–07 stop on a flag set by a signal handler, checked before each
// blocking call. A signal that lands after the check but before the call
// blocks is missed until the next one. Here the handler also writes a byte
// into a pipe that poll() watches with everything else: a signal that came at
// any moment, before the call or during it, makes poll() return.

#include "net/fd.hpp"

namespace chat {

class SelfPipe {
public:
    // Creates the pipe (both ends non-blocking, close-on-exec) and installs
    // the SIGINT and SIGTERM handlers that write to it. One per process.
    SelfPipe();
    ~SelfPipe();
    SelfPipe(const SelfPipe&) = delete;
    SelfPipe& operator=(const SelfPipe&) = delete;

    // The end to watch for POLLIN (or in select's read set).
    [[nodiscard]] int read_fd() const noexcept { return read_.get(); }

    // Empties the pipe; true if a signal had written to it.
    bool drain() const;

private:
    net::Fd read_;
    net::Fd write_;
};

}  // namespace chat
