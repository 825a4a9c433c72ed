#pragma once
// Exercise 12 — reading and writing a socket with co_await, and asyncio's
// echo handler in C++.
//
//     async def handle_echo(reader, writer):          net::Task<void> handle_echo(Stream& stream) {
//         while data := await reader.read(65536):         char data[65536];
//             writer.write(data)                          while (std::size_t n = co_await stream.read(data)) {
//             await writer.drain()                            co_await stream.write_all({data, n});
//                                                         }
//                                                     }
//
// A Stream is one connected, non-blocking socket watched by net::EventLoop.
// It is registered ONCE, edge-triggered, for EPOLLIN | EPOLLOUT | EPOLLRDHUP:
// the kernel then reports only changes (new bytes arrived, room appeared in the
// send buffer), so the awaiters must never wait for an edge without first
// trying the call: bytes already waiting raise no new edge. And an edge may
// come when there is nothing to do after all (it was collected before an
// earlier read took the bytes): a read that then gets EAGAIN keeps waiting.
//
// Chapter: book/src/12-coroutines.md. Check it with: ./workbook check 12
#include <sys/types.h>

#include <coroutine>
#include <cstddef>
#include <cstdint>
#include <span>
#include <string_view>

#include "net/event_loop.hpp"
#include "net/fd.hpp"
#include "net/task.hpp"

namespace lesson12 {

class Stream {
public:
    // Takes a connected socket, makes sure it is non-blocking, and watches it
    // with loop.watch(fd, EPOLLIN | EPOLLOUT | EPOLLRDHUP | EPOLLET, ...) whose
    // handler calls on_events.
    Stream(net::EventLoop& loop, net::Fd socket);
    Stream(const Stream&) = delete;
    Stream& operator=(const Stream&) = delete;
    // Unwatches the socket (then the Fd member closes it). A Stream destroyed
    // and its fd number reused must leave the loop watching nothing of it.
    ~Stream();

    // `std::size_t n = co_await stream.read(buffer);` — at least one byte,
    // as many as one ::recv gives (at most buffer.size()); 0 means the peer
    // closed its side (EOF). A failed recv (ECONNRESET...) throws
    // std::system_error naming "recv". EINTR is retried.
    class ReadAwaiter {
    public:
        ReadAwaiter(Stream& stream, std::span<char> buffer) noexcept : stream_(stream), buffer_(buffer) {}
        ReadAwaiter(const ReadAwaiter&) = delete;
        ReadAwaiter& operator=(const ReadAwaiter&) = delete;
        // If this read is the one the stream would resume, it must forget it:
        // a frame destroyed while it waits (a cancelled task) would otherwise
        // be resumed by the next event: the loop running freed memory.
        ~ReadAwaiter();

        // Tries the recv now (attempt()); true when no wait is needed.
        bool await_ready();
        // Becomes the stream's one waiting reader (a second concurrent read on
        // one stream is a bug: throw std::logic_error).
        void await_suspend(std::coroutine_handle<> waiting);
        // The byte count (0 = EOF), or throws the recv's error.
        std::size_t await_resume();
        // One ::recv: false on EAGAIN/EWOULDBLOCK (keep waiting), true when the
        // read is over (bytes, EOF or an error, remembered for await_resume).
        bool attempt();

    private:
        friend class Stream;
        Stream& stream_;
        std::span<char> buffer_;
        std::coroutine_handle<> waiting_;
        ssize_t result_ = 0;
        int error_ = 0;
    };

    // `std::size_t n = co_await stream.write_some(bytes);` — as many bytes as
    // one ::send(..., MSG_NOSIGNAL) takes (≥ 1 of a non-empty span; the kernel
    // may take fewer than offered). Waits (EPOLLOUT) while the send buffer is
    // full. A failed send (EPIPE, ECONNRESET...) throws std::system_error
    // naming "send". EINTR is retried. Same rules as ReadAwaiter.
    class WriteAwaiter {
    public:
        WriteAwaiter(Stream& stream, std::span<const char> bytes) noexcept : stream_(stream), bytes_(bytes) {}
        WriteAwaiter(const WriteAwaiter&) = delete;
        WriteAwaiter& operator=(const WriteAwaiter&) = delete;
        ~WriteAwaiter();
        bool await_ready();
        void await_suspend(std::coroutine_handle<> waiting);
        std::size_t await_resume();
        bool attempt();

    private:
        friend class Stream;
        Stream& stream_;
        std::span<const char> bytes_;
        std::coroutine_handle<> waiting_;
        ssize_t result_ = 0;
        int error_ = 0;
    };

    [[nodiscard]] ReadAwaiter read(std::span<char> buffer) noexcept { return ReadAwaiter(*this, buffer); }
    [[nodiscard]] WriteAwaiter write_some(std::span<const char> bytes) noexcept { return WriteAwaiter(*this, bytes); }

    // Every byte of `bytes`, however many write_some calls it takes
    // (asyncio's writer.write(data) + await writer.drain()). The caller keeps
    // `bytes` alive until the task ends.
    net::Task<void> write_all(std::string_view bytes);

    [[nodiscard]] int fd() const noexcept { return socket_.get(); }

private:
    // The loop's handler: lets the waiting reader and the waiting writer try
    // again (attempt()) and resumes the ones whose call is over. A resumed
    // task may destroy this Stream before the handler returns.
    void on_events(std::uint32_t events);

    net::EventLoop& loop_;
    net::Fd socket_;
    ReadAwaiter* reader_ = nullptr;   // the task waiting to read, if any
    WriteAwaiter* writer_ = nullptr;  // the task waiting to write, if any
    bool* destroyed_ = nullptr;       // set by ~Stream while on_events runs
};

// asyncio's handle_echo: read what the client sends and write every byte of
// it back, until the client closes its side (EOF); then return (whoever owns
// the Stream closes the socket). Errors of read and write propagate.
net::Task<void> handle_echo(Stream& stream);

}  // namespace lesson12
