#pragma once
// net::EventLoop — one thread, one epoll instance, a timer heap.
//
// Chapter 10 builds this loop (level-triggered readiness, timers, stopping on
// Ctrl-C) and chapter 11 registers sockets edge-triggered on it; chapter 12 runs
// coroutines on it, and lessons 14–16 serve HTTP and WebSocket from it. Read it
// beside chapter 10: every part of it is in the chapter.

#include <sys/epoll.h>

#include <atomic>
#include <chrono>
#include <csignal>
#include <cstdint>
#include <functional>
#include <memory>
#include <queue>
#include <unordered_map>
#include <utility>
#include <vector>

#include "net/fd.hpp"

namespace net {

class EventLoop {
public:
    using Clock = std::chrono::steady_clock;
    // Called with the ready events (EPOLLIN, EPOLLOUT, EPOLLERR, EPOLLHUP, EPOLLRDHUP).
    using Handler = std::function<void(std::uint32_t events)>;
    using TimerId = std::uint64_t;

    EventLoop();  // epoll_create1 and the eventfd that wakes the loop from other threads
    EventLoop(const EventLoop&) = delete;
    EventLoop& operator=(const EventLoop&) = delete;
    ~EventLoop();

    // Starts watching `fd` for `events` (EPOLLIN, EPOLLOUT, and EPOLLET for
    // edge-triggered, chapter 11) and calls `handler` when some are ready. The
    // loop never owns or closes `fd`: unwatch it before you close it (closing
    // first leaves a registration the kernel drops only with the last dup).
    void watch(int fd, std::uint32_t events, Handler handler);
    // Replaces the events `fd` is watched for (EPOLL_CTL_MOD), e.g. to add
    // EPOLLOUT while an output buffer holds bytes and drop it once it is empty.
    void change(int fd, std::uint32_t events);
    // Stops watching `fd`. Safe from inside any handler, including fd's own:
    // the handler object lives until the current turn ends, and an event already
    // collected for `fd` in this turn is not delivered.
    void unwatch(int fd);
    [[nodiscard]] bool watching(int fd) const noexcept;

    // Calls `fire` once, `delay` from now, on the loop's thread (a min-heap of
    // deadlines: the nearest one sets epoll_wait's timeout).
    TimerId after(std::chrono::milliseconds delay, std::function<void()> fire);
    // Forgets a timer that has not fired yet; cancelling a fired or unknown one is harmless.
    void cancel(TimerId id) noexcept;
    // Calls `fn` on the loop's thread after the handlers of the current turn,
    // before the loop waits again (how chapter 12 resumes a coroutine later).
    void defer(std::function<void()> fn);

    // Runs turns until stop() or Ctrl-C (net::stop_on_signals). SIGINT and
    // SIGTERM are blocked except while epoll_pwait sleeps, so a Ctrl-C can
    // never land between "checked stop_requested()" and "went to sleep".
    void run();
    // One turn: waits up to `max_wait` (less when a timer is due sooner; 0 polls)
    // and runs what is ready. Returns how many handlers, timers and deferred calls ran.
    std::size_t run_once(std::chrono::milliseconds max_wait);
    // Makes run() return after the current turn. Safe from any thread.
    void stop() noexcept;

    [[nodiscard]] int epoll_fd() const noexcept { return epoll_.get(); }
    // How many times epoll_wait has returned: chapter 11 counts wake-ups to show
    // the thundering herd.
    [[nodiscard]] std::uint64_t wakeups() const noexcept { return wakeups_; }
    [[nodiscard]] std::size_t watched() const noexcept { return watched_; }
    [[nodiscard]] std::size_t timers() const noexcept { return timer_handlers_.size(); }

private:
    struct Watch {
        int fd;
        Handler handler;
        bool live = true;
    };
    struct Timer {
        Clock::time_point deadline;
        TimerId id;
        bool operator>(const Timer& other) const noexcept {
            return deadline != other.deadline ? deadline > other.deadline : id > other.id;
        }
    };

    std::size_t wait_and_dispatch(int timeout_ms, const sigset_t* sigmask);
    int timeout_until_next_timer(std::chrono::milliseconds max_wait);
    std::size_t run_due_timers();
    std::size_t run_deferred();
    void drop_cancelled_timers();

    Fd epoll_;
    Fd wake_;                                    // eventfd: stop() from another thread
    std::vector<std::unique_ptr<Watch>> by_fd_;  // index = fd
    std::vector<std::unique_ptr<Watch>> retired_;  // unwatched this turn, freed after it
    std::size_t watched_ = 0;
    std::vector<epoll_event> ready_;

    std::priority_queue<Timer, std::vector<Timer>, std::greater<>> deadlines_;
    std::unordered_map<TimerId, std::function<void()>> timer_handlers_;
    TimerId next_timer_ = 1;

    std::vector<std::function<void()>> deferred_;
    std::atomic<bool> stopping_ = false;
    std::uint64_t wakeups_ = 0;
};

}  // namespace net
