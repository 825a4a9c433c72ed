#include "net/event_loop.hpp"

#include <sys/eventfd.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <climits>
#include <stdexcept>

#include <fmt/format.h>

#include "net/error.hpp"
#include "net/signals.hpp"

namespace net {

namespace {

constexpr std::size_t max_events_per_turn = 256;

// The wake-up eventfd is registered with this tag instead of a Watch pointer.
constexpr std::uint64_t wake_tag = 0;

}  // namespace

EventLoop::EventLoop()
    : epoll_{check(::epoll_create1(EPOLL_CLOEXEC), "epoll_create1")},
      wake_{check(::eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC), "eventfd")},
      ready_(max_events_per_turn) {
    epoll_event event{};
    event.events = EPOLLIN;
    event.data.u64 = wake_tag;
    check(::epoll_ctl(epoll_.get(), EPOLL_CTL_ADD, wake_.get(), &event), "epoll_ctl ADD eventfd");
}

EventLoop::~EventLoop() = default;

void EventLoop::watch(int fd, std::uint32_t events, Handler handler) {
    const auto index = static_cast<std::size_t>(fd);
    if (index >= by_fd_.size()) {
        by_fd_.resize(std::max(index + 1, by_fd_.size() * 2));
    }
    if (by_fd_[index]) {
        throw std::logic_error(fmt::format("EventLoop::watch: fd {} is already watched", fd));
    }
    auto entry = std::make_unique<Watch>(Watch{fd, std::move(handler)});
    epoll_event event{};
    event.events = events;
    event.data.ptr = entry.get();  // never equal to wake_tag: a live object's address
    check(::epoll_ctl(epoll_.get(), EPOLL_CTL_ADD, fd, &event), "epoll_ctl ADD");
    by_fd_[index] = std::move(entry);
    ++watched_;
}

void EventLoop::change(int fd, std::uint32_t events) {
    if (!watching(fd)) {
        throw std::logic_error(fmt::format("EventLoop::change: fd {} is not watched", fd));
    }
    epoll_event event{};
    event.events = events;
    event.data.ptr = by_fd_[static_cast<std::size_t>(fd)].get();
    check(::epoll_ctl(epoll_.get(), EPOLL_CTL_MOD, fd, &event), "epoll_ctl MOD");
}

void EventLoop::unwatch(int fd) {
    if (!watching(fd)) {
        return;
    }
    auto& entry = by_fd_[static_cast<std::size_t>(fd)];
    // ENOENT/EBADF only if the caller closed fd first; the entry goes either way.
    ::epoll_ctl(epoll_.get(), EPOLL_CTL_DEL, fd, nullptr);
    entry->live = false;
    retired_.push_back(std::move(entry));
    --watched_;
}

bool EventLoop::watching(int fd) const noexcept {
    return fd >= 0 && static_cast<std::size_t>(fd) < by_fd_.size() && by_fd_[static_cast<std::size_t>(fd)] != nullptr;
}

EventLoop::TimerId EventLoop::after(std::chrono::milliseconds delay, std::function<void()> fire) {
    const TimerId id = next_timer_++;
    deadlines_.push(Timer{Clock::now() + delay, id});
    timer_handlers_.emplace(id, std::move(fire));
    return id;
}

void EventLoop::cancel(TimerId id) noexcept {
    timer_handlers_.erase(id);
    // The heap keeps the deadline until it comes up; if cancelled ones pile up
    // (an idle timer re-armed on every message), rebuild the heap without them.
    if (deadlines_.size() > 64 && deadlines_.size() > 2 * timer_handlers_.size()) {
        drop_cancelled_timers();
    }
}

void EventLoop::drop_cancelled_timers() {
    std::vector<Timer> live;
    live.reserve(timer_handlers_.size());
    while (!deadlines_.empty()) {
        if (timer_handlers_.contains(deadlines_.top().id)) {
            live.push_back(deadlines_.top());
        }
        deadlines_.pop();
    }
    deadlines_ = decltype(deadlines_)(std::greater<>{}, std::move(live));
}

void EventLoop::defer(std::function<void()> fn) { deferred_.push_back(std::move(fn)); }

void EventLoop::stop() noexcept {
    stopping_ = true;
    const std::uint64_t one = 1;
    // Wakes epoll_wait if it sleeps on another thread; a full counter is already a wake-up.
    [[maybe_unused]] const auto n = ::write(wake_.get(), &one, sizeof one);
}

void EventLoop::run() {
    // Block the stop signals while we check for them; epoll_pwait unblocks them
    // only while it sleeps, so a Ctrl-C either arrives before the check (seen)
    // or interrupts the sleep (EINTR) — never in between.
    sigset_t stop_signals;
    sigemptyset(&stop_signals);
    sigaddset(&stop_signals, SIGINT);
    sigaddset(&stop_signals, SIGTERM);
    sigset_t previous;
    if (const int err = ::pthread_sigmask(SIG_BLOCK, &stop_signals, &previous); err != 0) {
        throw_errno("pthread_sigmask", err);
    }
    sigset_t while_sleeping = previous;
    sigdelset(&while_sleeping, SIGINT);
    sigdelset(&while_sleeping, SIGTERM);
    stopping_ = false;
    try {
        while (!stopping_ && !stop_requested()) {
            wait_and_dispatch(timeout_until_next_timer(std::chrono::milliseconds{-1}), &while_sleeping);
        }
    } catch (...) {
        ::pthread_sigmask(SIG_SETMASK, &previous, nullptr);
        throw;
    }
    ::pthread_sigmask(SIG_SETMASK, &previous, nullptr);
}

std::size_t EventLoop::run_once(std::chrono::milliseconds max_wait) {
    return wait_and_dispatch(timeout_until_next_timer(max_wait), nullptr);
}

int EventLoop::timeout_until_next_timer(std::chrono::milliseconds max_wait) {
    if (!deferred_.empty()) {
        return 0;
    }
    while (!deadlines_.empty() && !timer_handlers_.contains(deadlines_.top().id)) {
        deadlines_.pop();  // cancelled
    }
    if (deadlines_.empty()) {
        return max_wait.count() < 0 ? -1 : static_cast<int>(std::min<long long>(max_wait.count(), INT_MAX));
    }
    // Round up: waking a millisecond early would find nothing due and spin.
    const auto until = std::chrono::ceil<std::chrono::milliseconds>(deadlines_.top().deadline - Clock::now());
    auto wait = std::max<long long>(until.count(), 0);
    if (max_wait.count() >= 0) {
        wait = std::min<long long>(wait, max_wait.count());
    }
    return static_cast<int>(std::min<long long>(wait, INT_MAX));
}

std::size_t EventLoop::wait_and_dispatch(int timeout_ms, const sigset_t* sigmask) {
    const int n = ::epoll_pwait(epoll_.get(), ready_.data(), static_cast<int>(ready_.size()), timeout_ms, sigmask);
    if (n < 0 && errno != EINTR) {
        throw_errno("epoll_wait");
    }
    ++wakeups_;
    std::size_t ran = 0;
    for (int i = 0; i < n; ++i) {
        const epoll_event& event = ready_[static_cast<std::size_t>(i)];
        if (event.data.u64 == wake_tag) {
            std::uint64_t count = 0;
            [[maybe_unused]] const auto r = ::read(wake_.get(), &count, sizeof count);
            continue;
        }
        auto* entry = static_cast<Watch*>(event.data.ptr);
        if (!entry->live) {
            continue;  // unwatched by an earlier handler of this turn
        }
        entry->handler(event.events);
        ++ran;
    }
    ran += run_due_timers();
    ran += run_deferred();
    retired_.clear();
    return ran;
}

std::size_t EventLoop::run_due_timers() {
    std::size_t ran = 0;
    const auto now = Clock::now();
    while (!deadlines_.empty() && deadlines_.top().deadline <= now) {
        const TimerId id = deadlines_.top().id;
        deadlines_.pop();
        auto found = timer_handlers_.find(id);
        if (found == timer_handlers_.end()) {
            continue;  // cancelled
        }
        auto fire = std::move(found->second);
        timer_handlers_.erase(found);
        fire();
        ++ran;
    }
    return ran;
}

std::size_t EventLoop::run_deferred() {
    std::size_t ran = 0;
    // Calls deferred while running are kept for the next turn, so a coroutine
    // that keeps deferring itself cannot starve the sockets.
    std::vector<std::function<void()>> batch;
    batch.swap(deferred_);
    for (auto& fn : batch) {
        fn();
        ++ran;
    }
    return ran;
}

}  // namespace net
