// The self-pipe trick (D. J. Bernstein's name for it): a signal handler may
// call only async-signal-safe functions, and write() is one of them.
#include "self-pipe.hpp"

#include <atomic>
#include <cerrno>
#include <csignal>
#include <fcntl.h>
#include <stdexcept>
#include <unistd.h>

#include "net/error.hpp"

namespace chat {

namespace {

// The handler cannot reach the object: it finds the write end here.
std::atomic<int> signal_pipe{-1};

extern "C" void on_signal(int) {
    const int saved = errno;  // write() may change errno under the code it interrupted
    const char byte = 's';
    // Non-blocking: if the pipe is full a wake-up is already pending; drop it.
    [[maybe_unused]] const ssize_t ignored = ::write(signal_pipe.load(), &byte, 1);
    errno = saved;
}

}  // namespace

SelfPipe::SelfPipe() {
    int ends[2];
    net::check(::pipe2(ends, O_NONBLOCK | O_CLOEXEC), "pipe2");
    read_.reset(ends[0]);
    write_.reset(ends[1]);
    int expected = -1;
    if (!signal_pipe.compare_exchange_strong(expected, write_.get())) {
        throw std::logic_error("one SelfPipe per process");
    }
    struct sigaction action{};
    action.sa_handler = on_signal;
    sigemptyset(&action.sa_mask);
    action.sa_flags = 0;  // no SA_RESTART: poll() is never restarted anyway, see signal(7)
    net::check(::sigaction(SIGINT, &action, nullptr), "sigaction SIGINT");
    net::check(::sigaction(SIGTERM, &action, nullptr), "sigaction SIGTERM");
}

// The handlers stay: a second Ctrl-C while the program closes its clients
// must not kill it half-way. They write to -1 from now on (EBADF, harmless).
SelfPipe::~SelfPipe() { signal_pipe.store(-1); }

bool SelfPipe::drain() const {
    bool signalled = false;
    char bytes[64];
    for (;;) {
        const ssize_t n = ::read(read_.get(), bytes, sizeof bytes);
        if (n > 0) {
            signalled = true;
            continue;
        }
        if (n < 0 && errno == EINTR) {
            continue;
        }
        if (n < 0 && errno != EAGAIN) {
            net::throw_errno("read self-pipe");
        }
        return signalled;  // EAGAIN: empty now
    }
}

}  // namespace chat
