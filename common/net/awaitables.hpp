#pragma once
// Awaitables for net::Task on net::EventLoop: accept, sleep, and a timeout
// around any task (chapter 12 teaches them; lessons 14–16 use them). Reading
// and writing a stream is chapter 12's exercise (exercises/12-coroutines).
//
// Each awaiter lives in the awaiting coroutine's frame. What it registers with
// the loop (a watch, a timer) it unregisters in its destructor, so a frame
// destroyed while it waits (a cancelled task) leaves nothing behind that the
// loop could call back into freed memory.

#include <chrono>
#include <coroutine>
#include <stdexcept>
#include <string>
#include <utility>

#include "net/event_loop.hpp"
#include "net/fd.hpp"
#include "net/task.hpp"
#include "net/tcp.hpp"

namespace net {

// A listening socket made non-blocking and watched by the loop from now until
// it is destroyed (edge-triggered, registered once: an accept is always
// tried first, and only EAGAIN makes the awaiting task wait for the next edge).
class AsyncListener {
public:
    AsyncListener(EventLoop& loop, Fd listening);
    AsyncListener(const AsyncListener&) = delete;
    AsyncListener& operator=(const AsyncListener&) = delete;
    ~AsyncListener();  // unwatches, then the Fd closes the socket

    class AcceptAwaiter {
    public:
        explicit AcceptAwaiter(AsyncListener& listener) noexcept : listener_(listener) {}
        AcceptAwaiter(const AcceptAwaiter&) = delete;
        AcceptAwaiter& operator=(const AcceptAwaiter&) = delete;
        ~AcceptAwaiter();
        bool await_ready() { return attempt(); }
        void await_suspend(std::coroutine_handle<> waiting);
        // The client (a non-blocking, close-on-exec socket) and its address.
        // Throws std::system_error("accept4") for the listener's own errors
        // (EMFILE: out of descriptors); a client that gave up while queued
        // (ECONNABORTED...) is skipped, not reported.
        Accepted await_resume();
        bool attempt();  // one accept4(): true when it is over (a client or an error)

    private:
        friend class AsyncListener;
        AsyncListener& listener_;
        std::coroutine_handle<> waiting_;
        Accepted result_;
    };
    // `net::Accepted client = co_await listener.accept();`
    [[nodiscard]] AcceptAwaiter accept() noexcept { return AcceptAwaiter(*this); }

    [[nodiscard]] int fd() const noexcept { return socket_.get(); }

private:
    EventLoop& loop_;
    Fd socket_;
    AcceptAwaiter* waiting_ = nullptr;  // the one task waiting for a client, if any
};

// `co_await net::sleep(loop, 100ms);` resumes the task from a loop timer.
class SleepAwaiter {
public:
    SleepAwaiter(EventLoop& loop, std::chrono::milliseconds delay) noexcept : loop_(loop), delay_(delay) {}
    SleepAwaiter(const SleepAwaiter&) = delete;
    SleepAwaiter& operator=(const SleepAwaiter&) = delete;
    ~SleepAwaiter() {
        if (timer_ != 0) {
            loop_.cancel(timer_);  // destroyed while asleep: the timer must not resume a freed frame
        }
    }
    bool await_ready() const noexcept { return delay_.count() <= 0; }
    void await_suspend(std::coroutine_handle<> waiting) {
        timer_ = loop_.after(delay_, [this, waiting] {
            timer_ = 0;
            waiting.resume();
        });
    }
    void await_resume() const noexcept {}

private:
    EventLoop& loop_;
    std::chrono::milliseconds delay_;
    EventLoop::TimerId timer_ = 0;
};
[[nodiscard]] inline SleepAwaiter sleep(EventLoop& loop, std::chrono::milliseconds delay) noexcept {
    return SleepAwaiter(loop, delay);
}

// What `co_await net::timeout(...)` throws when the time ran out first.
class TimedOut : public std::runtime_error {
public:
    using std::runtime_error::runtime_error;
};

// `co_await net::timeout(loop, 30s, read_line(stream))` runs the task; if it
// has not ended after `limit`, its frame is destroyed where it waits (its
// awaiters unregister themselves) and TimedOut is thrown into the awaiter,
// like asyncio.wait_for. Otherwise the task's result, or its exception.
template <typename T>
class TimeoutAwaiter {
public:
    TimeoutAwaiter(EventLoop& loop, std::chrono::milliseconds limit, Task<T> task)
        : loop_(loop), limit_(limit), task_(std::move(task)) {}
    TimeoutAwaiter(const TimeoutAwaiter&) = delete;
    TimeoutAwaiter& operator=(const TimeoutAwaiter&) = delete;
    ~TimeoutAwaiter() {
        if (timer_ != 0) {
            loop_.cancel(timer_);
        }
    }

    bool await_ready() const noexcept { return false; }
    std::coroutine_handle<> await_suspend(std::coroutine_handle<> waiting) {
        timer_ = loop_.after(limit_, [this, waiting] {
            timer_ = 0;
            expired_ = true;
            task_.reset();  // cancel: the task's frame and everything it holds go now
            waiting.resume();
        });
        return task_.operator co_await().await_suspend(waiting);  // start the task
    }
    T await_resume() {
        if (expired_) {
            throw TimedOut(std::to_string(limit_.count()) + " ms passed");
        }
        loop_.cancel(std::exchange(timer_, 0));
        return task_.operator co_await().await_resume();
    }

private:
    EventLoop& loop_;
    std::chrono::milliseconds limit_;
    Task<T> task_;
    EventLoop::TimerId timer_ = 0;
    bool expired_ = false;
};
template <typename T>
[[nodiscard]] TimeoutAwaiter<T> timeout(EventLoop& loop, std::chrono::milliseconds limit, Task<T> task) {
    return TimeoutAwaiter<T>(loop, limit, std::move(task));
}

}  // namespace net
