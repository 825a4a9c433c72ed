#include "net/signals.hpp"

#include <csignal>

#include "net/error.hpp"

namespace net {

namespace {

volatile std::sig_atomic_t stop_signal = 0;

extern "C" void record_stop_signal(int signo) { stop_signal = signo; }

}  // namespace

void stop_on_signals() {
    struct sigaction action {};
    action.sa_handler = record_stop_signal;
    sigemptyset(&action.sa_mask);
    action.sa_flags = 0;  // no SA_RESTART: blocking calls return EINTR
    check(::sigaction(SIGINT, &action, nullptr), "sigaction SIGINT");
    check(::sigaction(SIGTERM, &action, nullptr), "sigaction SIGTERM");
}

bool stop_requested() noexcept { return stop_signal != 0; }

}  // namespace net
