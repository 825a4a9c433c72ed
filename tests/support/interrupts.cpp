#include "interrupts.hpp"

#include <csignal>
#include <mutex>

#include "net/error.hpp"

namespace harness {

namespace {

std::atomic<std::size_t> delivered{0};

extern "C" void count_interrupt(int) { delivered.fetch_add(1, std::memory_order_relaxed); }

void install_handler_once() {
    static std::once_flag installed;
    std::call_once(installed, [] {
        struct sigaction action {};
        action.sa_handler = count_interrupt;
        sigemptyset(&action.sa_mask);
        action.sa_flags = 0;  // no SA_RESTART: interrupted calls fail with EINTR
        net::check(::sigaction(SIGUSR1, &action, nullptr), "sigaction SIGUSR1");
    });
}

}  // namespace

std::size_t interrupts_delivered() noexcept { return delivered.load(); }

InterruptStorm::InterruptStorm(pthread_t target, std::chrono::microseconds period) : target_(target) {
    install_handler_once();
    thread_ = std::thread([this, period] {
        while (!stop_.load()) {
            if (::pthread_kill(target_, SIGUSR1) != 0) {
                return;  // the target thread is gone
            }
            sent_.fetch_add(1);
            std::this_thread::sleep_for(period);
        }
    });
}

InterruptStorm::~InterruptStorm() {
    stop_.store(true);
    thread_.join();
}

}  // namespace harness
