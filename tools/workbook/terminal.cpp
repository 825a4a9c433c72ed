#include "terminal.hpp"

#include <sys/signalfd.h>
#include <unistd.h>

#include "net/error.hpp"

namespace workbook {

RawKeys::RawKeys() {
    if (::isatty(STDIN_FILENO) != 1 || ::tcgetattr(STDIN_FILENO, &saved_) != 0) {
        return;
    }
    termios raw = saved_;
    // ISIG stays on: Ctrl-C still raises SIGINT, which SignalInbox turns into
    // an orderly exit (and which stops a running check's child processes).
    raw.c_lflag &= ~static_cast<tcflag_t>(ICANON | ECHO);
    raw.c_cc[VMIN] = 1;
    raw.c_cc[VTIME] = 0;
    net::check(::tcsetattr(STDIN_FILENO, TCSANOW, &raw), "tcsetattr");
    active_ = true;
}

RawKeys::~RawKeys() {
    if (active_) {
        ::tcsetattr(STDIN_FILENO, TCSANOW, &saved_);
    }
}

SignalInbox::SignalInbox() {
    sigset_t signals;
    sigemptyset(&signals);
    sigaddset(&signals, SIGINT);
    sigaddset(&signals, SIGTERM);
    sigaddset(&signals, SIGHUP);
    const int rc = ::pthread_sigmask(SIG_BLOCK, &signals, &previous_);
    if (rc != 0) {
        net::throw_errno("pthread_sigmask", rc);
    }
    const int fd = ::signalfd(-1, &signals, SFD_CLOEXEC | SFD_NONBLOCK);
    if (fd < 0) {
        const int err = errno;
        ::pthread_sigmask(SIG_SETMASK, &previous_, nullptr);
        net::throw_errno("signalfd", err);
    }
    fd_.reset(fd);
}

SignalInbox::~SignalInbox() {
    // A Ctrl-C we already acted on is still pending: consume it, or unblocking
    // below would deliver it and kill us on the way out.
    signalfd_siginfo info{};
    while (::read(fd_.get(), &info, sizeof info) == static_cast<ssize_t>(sizeof info)) {
    }
    fd_.reset();
    ::pthread_sigmask(SIG_SETMASK, &previous_, nullptr);
}

}  // namespace workbook
