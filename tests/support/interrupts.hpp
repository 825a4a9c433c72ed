#pragma once
// Injects EINTR (and the short reads and writes that come with it) into real
// system calls, the way a signal does in production.

#include <atomic>
#include <chrono>
#include <csignal>
#include <cstddef>
#include <pthread.h>
#include <sys/types.h>
#include <thread>

namespace harness {

// While alive, sends SIGUSR1 to `target` every `period`. The handler does
// nothing and is installed without SA_RESTART, so a blocking recv/send/accept
// in that thread returns -1 with errno == EINTR, or a short count when some
// bytes had already moved. Code that treats EINTR as fatal, or a short count
// as complete, breaks under it.
//
// `target` must be the calling thread (the storm reads its state in
// /proc/self/task/<tid> to tell which signals landed on a blocked call):
//
//     harness::LoopbackServer server([](int listener) {
//         harness::InterruptStorm storm(::pthread_self());   // interrupt this thread
//         lesson03::send_all(...);
//     });
class InterruptStorm {
public:
    explicit InterruptStorm(pthread_t target, std::chrono::microseconds period = std::chrono::microseconds(300));
    ~InterruptStorm();
    InterruptStorm(const InterruptStorm&) = delete;
    InterruptStorm& operator=(const InterruptStorm&) = delete;

    // Signals sent so far, whatever the target was doing.
    [[nodiscard]] std::size_t sent() const noexcept { return sent_.load(); }
    // Signals sent while the target was asleep in a system call other than
    // futex (looked at just before each one is sent): each of those
    // interrupted a blocked call, unless something else woke it in the
    // microseconds between the look and the signal.
    [[nodiscard]] std::size_t landed() const noexcept { return landed_.load(); }

private:
    pthread_t target_;
    pid_t target_tid_;
    std::atomic<bool> stop_{false};
    std::atomic<std::size_t> sent_{0};
    std::atomic<std::size_t> landed_{0};
    std::thread thread_;
};

// Signals of every InterruptStorm in this process that landed on a blocked
// system call (see InterruptStorm::landed).
[[nodiscard]] std::size_t interrupts_landed() noexcept;

// SIGUSR1 deliveries the handler has seen in this process.
[[nodiscard]] std::size_t interrupts_delivered() noexcept;

// The tests' Ctrl-C for a server running on a thread: SIGUSR2, whose handler
// only counts and is installed (once, by install_stop_signal) without
// SA_RESTART, so a blocked accept/recv in the signalled thread returns EINTR
// and the server gets to look at its stop flag.
inline constexpr int stop_signal = SIGUSR2;
void install_stop_signal();
[[nodiscard]] std::size_t stop_signals_delivered() noexcept;

}  // namespace harness
