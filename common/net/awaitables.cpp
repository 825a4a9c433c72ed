// Chapter 12: accept as an awaitable, and spawn (net/task.hpp).
#include "net/awaitables.hpp"

#include <sys/epoll.h>
#include <sys/socket.h>

#include <cerrno>
#include <cstdio>
#include <fcntl.h>

#include <fmt/core.h>

#include "net/address.hpp"
#include "net/error.hpp"

namespace net {

AsyncListener::AsyncListener(EventLoop& loop, Fd listening) : loop_(loop), socket_(std::move(listening)) {
    const int flags = check(::fcntl(socket_.get(), F_GETFL), "fcntl F_GETFL");
    check(::fcntl(socket_.get(), F_SETFL, flags | O_NONBLOCK), "fcntl O_NONBLOCK");
    // Edge-triggered and registered once: every accept is tried before waiting,
    // so a client already queued is never missed, and no epoll_ctl per accept.
    loop_.watch(socket_.get(), EPOLLIN | EPOLLET, [this](std::uint32_t) {
        if (waiting_ != nullptr && waiting_->attempt()) {
            std::exchange(waiting_, nullptr)->waiting_.resume();
        }
    });
}

AsyncListener::~AsyncListener() {
    loop_.unwatch(socket_.get());
}

AsyncListener::AcceptAwaiter::~AcceptAwaiter() {
    if (listener_.waiting_ == this) {
        listener_.waiting_ = nullptr;  // destroyed while waiting: the loop must not resume us
    }
}

bool AsyncListener::AcceptAwaiter::attempt() {
    for (;;) {
        sockaddr_storage address{};
        socklen_t length = sizeof address;
        const int fd = ::accept4(listener_.fd(), reinterpret_cast<sockaddr*>(&address), &length,
                                 SOCK_NONBLOCK | SOCK_CLOEXEC);
        if (fd >= 0) {
            result_.connection.reset(fd);
            result_.peer = Address{address, length};
            result_.error = 0;
            return true;
        }
        if (errno == EAGAIN || errno == EWOULDBLOCK) {
            return false;  // nobody queued: wait for the next edge
        }
        if (errno == EINTR || is_per_client_accept_error(errno)) {
            continue;  // that client gave up while queued: take the next one
        }
        result_.error = errno;  // the listener's own trouble (EMFILE...): await_resume throws it
        return true;
    }
}

void AsyncListener::AcceptAwaiter::await_suspend(std::coroutine_handle<> waiting) {
    if (listener_.waiting_ != nullptr) {
        throw std::logic_error("two tasks accept on one listener at once");
    }
    waiting_ = waiting;
    listener_.waiting_ = this;
}

Accepted AsyncListener::AcceptAwaiter::await_resume() {
    if (result_.error != 0) {
        errno = result_.error;
        throw_errno("accept4");
    }
    return std::move(result_);
}

void report_task_error(std::exception_ptr error) {
    try {
        std::rethrow_exception(error);
    } catch (const std::exception& e) {
        fmt::print(stderr, "task failed: {}\n", e.what());
    } catch (...) {
        fmt::print(stderr, "task failed: an exception that is not a std::exception\n");
    }
    std::fflush(stderr);
}

namespace {

// The coroutine that runs a spawned task: it starts at once, owns the task,
// catches what escapes it, and frees its own frame at the end.
struct Runner {
    struct promise_type {
        std::shared_ptr<Spawned::State> state = std::make_shared<Spawned::State>();
        promise_type() = default;
        promise_type(const promise_type&) = delete;
        promise_type& operator=(const promise_type&) = delete;
        ~promise_type() { state->frame = {}; }
        Runner get_return_object() {
            state->frame = std::coroutine_handle<promise_type>::from_promise(*this);
            return Runner{state};
        }
        std::suspend_never initial_suspend() noexcept { return {}; }
        std::suspend_never final_suspend() noexcept { return {}; }
        void return_void() noexcept {}
        void unhandled_exception() noexcept { std::terminate(); }  // only if on_error throws
    };
    std::shared_ptr<Spawned::State> state;
};

Runner run_detached(Task<void> task, TaskErrorHandler on_error) {
    try {
        co_await std::move(task);
    } catch (...) {
        on_error(std::current_exception());
    }
}

}  // namespace

Spawned spawn(Task<void> task, TaskErrorHandler on_error) {
    return Spawned(run_detached(std::move(task), std::move(on_error)).state);
}

}  // namespace net
