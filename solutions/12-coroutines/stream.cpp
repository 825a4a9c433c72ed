// Solution 12 — awaitable reads and writes on one edge-triggered registration,
// and the echo handler.
#include "stream.hpp"

#include <sys/epoll.h>
#include <sys/socket.h>

#include <cerrno>
#include <fcntl.h>
#include <stdexcept>
#include <utility>

#include "net/error.hpp"

namespace lesson12 {

Stream::Stream(net::EventLoop& loop, net::Fd socket) : loop_(loop), socket_(std::move(socket)) {
    const int flags = net::check(::fcntl(socket_.get(), F_GETFL), "fcntl F_GETFL");
    net::check(::fcntl(socket_.get(), F_SETFL, flags | O_NONBLOCK), "fcntl O_NONBLOCK");
    // Once, for both directions: no epoll_ctl per await. Edge-triggered, so an
    // idle direction costs nothing (level-triggered EPOLLOUT would fire on every turn).
    loop_.watch(socket_.get(), EPOLLIN | EPOLLOUT | EPOLLRDHUP | EPOLLET,
                [this](std::uint32_t events) { on_events(events); });
}

Stream::~Stream() {
    if (destroyed_ != nullptr) {
        *destroyed_ = true;
    }
    loop_.unwatch(socket_.get());
}

void Stream::on_events(std::uint32_t events) {
    bool destroyed = false;
    destroyed_ = &destroyed;
    // Any event may be stale (its bytes already read): attempt() calls recv
    // again, and only a finished call resumes the task.
    if ((events & (EPOLLIN | EPOLLRDHUP | EPOLLHUP | EPOLLERR)) != 0 && reader_ != nullptr && reader_->attempt()) {
        std::exchange(reader_, nullptr)->waiting_.resume();
        if (destroyed) {
            return;  // the task ended and took this Stream with it
        }
    }
    if ((events & (EPOLLOUT | EPOLLHUP | EPOLLERR)) != 0 && writer_ != nullptr && writer_->attempt()) {
        std::exchange(writer_, nullptr)->waiting_.resume();
        if (destroyed) {
            return;
        }
    }
    destroyed_ = nullptr;
}

Stream::ReadAwaiter::~ReadAwaiter() {
    if (stream_.reader_ == this) {
        stream_.reader_ = nullptr;
    }
}

bool Stream::ReadAwaiter::await_ready() {
    return attempt();  // bytes already waiting raise no new edge: try first
}

void Stream::ReadAwaiter::await_suspend(std::coroutine_handle<> waiting) {
    if (stream_.reader_ != nullptr) {
        throw std::logic_error("two reads at once on one stream");
    }
    waiting_ = waiting;
    stream_.reader_ = this;
}

std::size_t Stream::ReadAwaiter::await_resume() {
    if (result_ < 0) {
        errno = error_;
        net::throw_errno("recv");
    }
    return static_cast<std::size_t>(result_);
}

bool Stream::ReadAwaiter::attempt() {
    for (;;) {
        result_ = ::recv(stream_.fd(), buffer_.data(), buffer_.size(), 0);
        if (result_ >= 0) {
            return true;
        }
        error_ = errno;
        if (error_ == EINTR) {
            continue;
        }
        return error_ != EAGAIN && error_ != EWOULDBLOCK;  // EAGAIN: not over, keep waiting
    }
}

Stream::WriteAwaiter::~WriteAwaiter() {
    if (stream_.writer_ == this) {
        stream_.writer_ = nullptr;
    }
}

bool Stream::WriteAwaiter::await_ready() {
    return attempt();
}

void Stream::WriteAwaiter::await_suspend(std::coroutine_handle<> waiting) {
    if (stream_.writer_ != nullptr) {
        throw std::logic_error("two writes at once on one stream");
    }
    waiting_ = waiting;
    stream_.writer_ = this;
}

std::size_t Stream::WriteAwaiter::await_resume() {
    if (result_ < 0) {
        errno = error_;
        net::throw_errno("send");
    }
    return static_cast<std::size_t>(result_);
}

bool Stream::WriteAwaiter::attempt() {
    for (;;) {
        result_ = ::send(stream_.fd(), bytes_.data(), bytes_.size(), MSG_NOSIGNAL);
        if (result_ >= 0) {
            return true;
        }
        error_ = errno;
        if (error_ == EINTR) {
            continue;
        }
        return error_ != EAGAIN && error_ != EWOULDBLOCK;
    }
}

net::Task<void> Stream::write_all(std::string_view bytes) {
    while (!bytes.empty()) {
        const std::size_t sent = co_await write_some(bytes);
        bytes.remove_prefix(sent);  // the kernel may take fewer than offered
    }
}

net::Task<void> handle_echo(Stream& stream) {
    char data[64 * 1024];
    while (const std::size_t n = co_await stream.read(data)) {
        co_await stream.write_all({data, n});
    }
}

}  // namespace lesson12
