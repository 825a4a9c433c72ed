// Exercise 12 — the awaiters and the echo handler. stream.hpp says what each
// function must do; chapter 12 shows the loop they run on.
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
    net::todo("Stream: make the socket non-blocking and watch it once, edge-triggered");
}

Stream::~Stream() = default;

void Stream::on_events(std::uint32_t events) {
    (void)events;
    net::todo("Stream::on_events: let the waiting reader and writer attempt() again, resume the finished ones");
}

Stream::ReadAwaiter::~ReadAwaiter() = default;

bool Stream::ReadAwaiter::await_ready() {
    net::todo("ReadAwaiter::await_ready: try the recv first");
}

void Stream::ReadAwaiter::await_suspend(std::coroutine_handle<> waiting) {
    (void)waiting;
    net::todo("ReadAwaiter::await_suspend: become the stream's waiting reader");
}

std::size_t Stream::ReadAwaiter::await_resume() {
    net::todo("ReadAwaiter::await_resume: the byte count, or the recv's error");
}

bool Stream::ReadAwaiter::attempt() {
    net::todo("ReadAwaiter::attempt: one recv; EAGAIN means keep waiting");
}

Stream::WriteAwaiter::~WriteAwaiter() = default;

bool Stream::WriteAwaiter::await_ready() {
    net::todo("WriteAwaiter::await_ready: try the send first");
}

void Stream::WriteAwaiter::await_suspend(std::coroutine_handle<> waiting) {
    (void)waiting;
    net::todo("WriteAwaiter::await_suspend: become the stream's waiting writer");
}

std::size_t Stream::WriteAwaiter::await_resume() {
    net::todo("WriteAwaiter::await_resume: the byte count, or the send's error");
}

bool Stream::WriteAwaiter::attempt() {
    net::todo("WriteAwaiter::attempt: one send with MSG_NOSIGNAL; EAGAIN means keep waiting");
}

net::Task<void> Stream::write_all(std::string_view bytes) {
    (void)bytes;
    net::todo("Stream::write_all: write_some until every byte is sent");
    co_return;
}

net::Task<void> handle_echo(Stream& stream) {
    (void)stream;
    net::todo("handle_echo: read, write it all back, until EOF");
    co_return;
}

}  // namespace lesson12
