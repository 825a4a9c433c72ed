#include "interrupts.hpp"

#include <csignal>
#include <mutex>

#include <stdexcept>
#include <sys/syscall.h>

#include "net/error.hpp"
#include "waits.hpp"

namespace harness {

namespace {

std::atomic<std::size_t> delivered{0};
std::atomic<std::size_t> stops_delivered{0};
std::atomic<std::size_t> landed_anywhere{0};

extern "C" void count_interrupt(int) { delivered.fetch_add(1, std::memory_order_relaxed); }
extern "C" void count_stop(int) { stops_delivered.fetch_add(1, std::memory_order_relaxed); }

// A handler that only counts, without SA_RESTART: interrupted calls fail with EINTR.
void install_counting_handler(int signo, void (*handler)(int), const char* call) {
    struct sigaction action {};
    action.sa_handler = handler;
    sigemptyset(&action.sa_mask);
    action.sa_flags = 0;
    net::check(::sigaction(signo, &action, nullptr), call);
}

void install_handler_once() {
    static std::once_flag installed;
    std::call_once(installed, [] { install_counting_handler(SIGUSR1, count_interrupt, "sigaction SIGUSR1"); });
}

}  // namespace

std::size_t interrupts_delivered() noexcept { return delivered.load(); }

std::size_t interrupts_landed() noexcept { return landed_anywhere.load(); }

void install_stop_signal() {
    static std::once_flag installed;
    std::call_once(installed, [] { install_counting_handler(stop_signal, count_stop, "sigaction SIGUSR2"); });
}

std::size_t stop_signals_delivered() noexcept { return stops_delivered.load(); }

InterruptStorm::InterruptStorm(pthread_t target, std::chrono::microseconds period)
    : target_(target), target_tid_(thread_id()) {
    if (::pthread_equal(target, ::pthread_self()) == 0) {
        throw std::logic_error("InterruptStorm must be created on the thread it interrupts");
    }
    install_handler_once();
    thread_ = std::thread([this, period] {
        while (!stop_.load()) {
            bool blocked = false;
            try {
                const ThreadState state = thread_state(target_tid_);
                blocked = state.asleep && state.syscall != SYS_futex;
            } catch (const std::exception&) {
                return;  // the target thread is gone
            }
            if (::pthread_kill(target_, SIGUSR1) != 0) {
                return;
            }
            sent_.fetch_add(1);
            if (blocked) {
                landed_.fetch_add(1);
                landed_anywhere.fetch_add(1);
            }
            std::this_thread::sleep_for(period);  // the storm's rate, not a synchronisation
        }
    });
}

InterruptStorm::~InterruptStorm() {
    stop_.store(true);
    thread_.join();
}

}  // namespace harness
