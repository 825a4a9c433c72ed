#pragma once
// net::Task<T> — a C++20 coroutine that runs on net::EventLoop (chapter 12
// teaches it; lessons 14–16 run on it). A Task is lazy: calling a coroutine
// that returns one only allocates its frame; nothing runs until a caller
// `co_await`s it (then the caller waits for its result or its exception) or
// hands it to net::spawn (then nobody waits, and an escaped exception is
// reported instead of lost). Destroying a Task destroys its frame, and with it
// every local, wherever the coroutine was suspended: that is how a task is
// cancelled, so whatever a frame registers with the loop, its destructor must
// unregister (chapter 12, "a frame destroyed while its I/O is registered").

#include <atomic>
#include <coroutine>
#include <cstddef>
#include <exception>
#include <functional>
#include <memory>
#include <optional>
#include <utility>

namespace net {

template <typename T = void>
class Task;

namespace detail {

// Every Task frame alive now: the tests prove that a cancelled task is freed.
inline std::atomic<std::size_t> task_frames{0};

struct PromiseBase {
    PromiseBase() noexcept { task_frames.fetch_add(1, std::memory_order_relaxed); }
    PromiseBase(const PromiseBase&) = delete;
    PromiseBase& operator=(const PromiseBase&) = delete;
    ~PromiseBase() { task_frames.fetch_sub(1, std::memory_order_relaxed); }

    // Lazy: the body starts when someone awaits the task (or spawns it).
    std::suspend_always initial_suspend() noexcept { return {}; }

    // At the end, jump straight to whoever awaited us (symmetric transfer: no
    // stack growth however long a chain of tasks is). The frame stays
    // suspended here until its Task destroys it.
    struct ResumeAwaiter {
        bool await_ready() noexcept { return false; }
        template <typename Promise>
        std::coroutine_handle<> await_suspend(std::coroutine_handle<Promise> self) noexcept {
            return self.promise().continuation;
        }
        void await_resume() noexcept {}
    };
    ResumeAwaiter final_suspend() noexcept { return {}; }

    // An exception that leaves the body waits here for the awaiter.
    void unhandled_exception() noexcept { error = std::current_exception(); }

    std::coroutine_handle<> continuation = std::noop_coroutine();
    std::exception_ptr error;
};

template <typename T>
struct Promise : PromiseBase {
    template <typename U>
    void return_value(U&& value) {
        result.emplace(std::forward<U>(value));
    }
    T take() {
        if (error) {
            std::rethrow_exception(error);
        }
        return std::move(*result);
    }
    std::optional<T> result;
};

template <>
struct Promise<void> : PromiseBase {
    void return_void() noexcept {}
    void take() const {
        if (error) {
            std::rethrow_exception(error);
        }
    }
};

}  // namespace detail

// How many Task frames exist right now (created, not yet destroyed).
[[nodiscard]] inline std::size_t live_task_frames() noexcept {
    return detail::task_frames.load(std::memory_order_relaxed);
}

template <typename T>
class [[nodiscard]] Task {
public:
    struct promise_type : detail::Promise<T> {
        Task get_return_object() noexcept { return Task(std::coroutine_handle<promise_type>::from_promise(*this)); }
    };
    using Handle = std::coroutine_handle<promise_type>;

    Task() noexcept = default;
    Task(Task&& other) noexcept : frame_(std::exchange(other.frame_, {})) {}
    Task& operator=(Task&& other) noexcept {
        if (this != &other) {
            reset();
            frame_ = std::exchange(other.frame_, {});
        }
        return *this;
    }
    Task(const Task&) = delete;
    Task& operator=(const Task&) = delete;
    ~Task() { reset(); }

    // Destroys the frame (cancels the task if it has not finished).
    void reset() noexcept {
        if (frame_) {
            std::exchange(frame_, {}).destroy();
        }
    }
    [[nodiscard]] bool done() const noexcept { return !frame_ || frame_.done(); }

    // `co_await task`: starts it, suspends the awaiter until it ends, then
    // gives its result or re-throws its exception.
    struct Awaiter {
        Handle frame;
        bool await_ready() const noexcept { return !frame || frame.done(); }
        std::coroutine_handle<> await_suspend(std::coroutine_handle<> awaiting) noexcept {
            frame.promise().continuation = awaiting;
            return frame;  // run the task now, on this thread, without growing the stack
        }
        T await_resume() { return frame.promise().take(); }
    };
    Awaiter operator co_await() && noexcept { return Awaiter{frame_}; }
    Awaiter operator co_await() & noexcept { return Awaiter{frame_}; }

private:
    explicit Task(Handle frame) noexcept : frame_(frame) {}
    Handle frame_;
};

// What net::spawn calls with an exception that escaped a spawned task. The
// default prints it to stderr ("task failed: ...").
using TaskErrorHandler = std::function<void(std::exception_ptr)>;
void report_task_error(std::exception_ptr error);

// A spawned task, as its spawner sees it: cancel() destroys its frame where it
// is suspended (its locals' destructors run: sockets unwatched and closed).
class Spawned {
public:
    Spawned() = default;
    // True once the task has ended (returned, thrown, or been cancelled).
    [[nodiscard]] bool done() const noexcept { return !state_ || !state_->frame; }
    // Call it from outside the task (another task, a timer), never from inside it.
    void cancel() noexcept {
        if (state_ && state_->frame) {
            std::exchange(state_->frame, {}).destroy();
        }
    }

    struct State {
        std::coroutine_handle<> frame;  // the detached runner's frame; empty once it is gone
    };
    explicit Spawned(std::shared_ptr<State> state) : state_(std::move(state)) {}

private:
    std::shared_ptr<State> state_;
};

// Starts `task` now and lets it run on its own: nobody awaits it, so an
// exception that escapes it goes to `on_error` (by default printed) instead of
// disappearing. The frame frees itself when the task ends.
Spawned spawn(Task<void> task, TaskErrorHandler on_error = report_task_error);

}  // namespace net
