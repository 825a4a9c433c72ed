#pragma once
// The test harness: every blocking step has a deadline, and a test that would
// hang fails instead, naming the step it was waiting at.

#include <chrono>
#include <cstdint>
#include <exception>
#include <functional>
#include <future>
#include <optional>
#include <ostream>
#include <stdexcept>
#include <string>
#include <string_view>
#include <sys/types.h>
#include <thread>
#include <utility>
#include <vector>

#include "net/fd.hpp"

namespace harness {

using std::chrono::milliseconds;
inline constexpr milliseconds default_timeout{2000};

// Thrown when a step runs out of time; what() reads
// "timed out after 2000 ms: <step>".
class Timeout : public std::runtime_error {
public:
    Timeout(std::string_view step, milliseconds waited);
};

// Names what the test is doing right now, for the watchdog's report and for
// Timeout messages. Nested steps restore the outer name when they end.
class Step {
public:
    explicit Step(std::string name);
    ~Step();
    Step(const Step&) = delete;
    Step& operator=(const Step&) = delete;

private:
    std::string previous_;
};
[[nodiscard]] std::string current_step();

// When a LoopbackServer's function throws, the test's own waits stop at once
// and re-throw that exception (a stub's "not started", say) instead of
// running into their timeouts. A new LoopbackServer clears the record.
void record_server_failure(std::exception_ptr error);
void clear_server_failure();
// Re-throws a recorded failure. With a `grace` period it first waits that long
// for code under test that is still running to record one: a server that
// throws closes its sockets while the exception unwinds, so the test may see
// the reset a moment before the reason for it.
void rethrow_server_failure(milliseconds grace = milliseconds(0));
// Runs `body` as code under test on the calling thread: counted as running
// while it runs, and what it throws is recorded (then re-thrown).
void run_recording_failure(const std::function<void()>& body);

// Ends the process with a report when something cannot be unblocked; a hung
// thread cannot be joined, so this is the only honest way out.
[[noreturn]] void fatal_timeout(std::string_view what);

// A point in time to give up at.
class Deadline {
public:
    explicit Deadline(milliseconds budget) : end_(std::chrono::steady_clock::now() + budget), budget_(budget) {}
    [[nodiscard]] milliseconds remaining() const;
    [[nodiscard]] bool expired() const { return remaining().count() <= 0; }
    [[nodiscard]] milliseconds budget() const { return budget_; }

private:
    std::chrono::steady_clock::time_point end_;
    milliseconds budget_;
};

// Waits until fd is readable (or writable); throws Timeout naming `step` otherwise.
void wait_readable(int fd, const Deadline& deadline, std::string_view step);
void wait_writable(int fd, const Deadline& deadline, std::string_view step);

// Accepts one connection within the deadline.
[[nodiscard]] net::Fd accept_within(int listener, milliseconds timeout = default_timeout);

// "hello\n" → hello\n with C escapes for control and non-ASCII bytes; a run
// of 8 or more equal bytes is shown once with its count ("[\x00 x 4084]");
// the text is cut after about `limit` characters, with the total shown.
[[nodiscard]] std::string escape(std::string_view bytes, std::size_t limit = 160);

// FNV-1a, a 64-bit hash to name a large payload in a failure report.
[[nodiscard]] std::uint64_t fnv1a(std::string_view bytes);

// "" when equal; otherwise both sizes and hashes, and the first differing
// bytes (escaped) — what a 1 MB comparison should say when it fails.
[[nodiscard]] std::string first_difference(std::string_view expected, std::string_view actual);

// Entries in /proc/self/fd: compare before and after to find leaked descriptors.
[[nodiscard]] int open_fd_count();

// The seed a test should use: WORKBOOK_SEED from the environment when it is
// set (to replay a failing run), else `fallback`, else a fresh random one.
[[nodiscard]] std::uint64_t test_seed(std::optional<std::uint64_t> fallback = std::nullopt);

// Reproducible pseudo-random bytes (the same seed gives the same bytes).
[[nodiscard]] std::string random_bytes(std::size_t count, std::uint64_t seed);

// What a test sent and received on one connection, for failure reports.
class Transcript {
public:
    void sent(std::string_view bytes);
    void received(std::string_view bytes);
    void note(std::string_view event);  // "<EOF>", "<RST>", "shutdown(SHUT_WR)"
    [[nodiscard]] std::string str() const;

private:
    struct Entry {
        char direction;  // '>' sent by the test, '<' received by it, '!' an event
        std::string bytes;
    };
    std::vector<Entry> entries_;
};

// A TCP client whose every call has a deadline and is written to a transcript.
class Client {
public:
    explicit Client(net::Fd fd, std::string peer_name = "server");
    [[nodiscard]] static Client connect(std::uint16_t port, std::string_view host = "127.0.0.1",
                                        milliseconds timeout = default_timeout);

    // Sends every byte (looping over short writes).
    void send(std::string_view bytes, milliseconds timeout = default_timeout);
    // Exactly n bytes; Timeout, or std::runtime_error if the peer closes first.
    [[nodiscard]] std::string recv_exact(std::size_t n, milliseconds timeout = default_timeout);
    // Whatever one recv returns after waiting for data; "" means EOF.
    [[nodiscard]] std::string recv_some(milliseconds timeout = default_timeout);
    // Everything until the peer closes (at most `limit` bytes).
    [[nodiscard]] std::string recv_until_eof(milliseconds timeout = default_timeout, std::size_t limit = 64 << 20);
    // Fails unless the peer closes without sending anything more.
    void expect_eof(milliseconds timeout = default_timeout);
    // shutdown(SHUT_WR): "I am done sending", the read side stays open.
    void shutdown_write();
    // Close with SO_LINGER {1, 0}: the peer sees a reset (RST), not a FIN.
    void close_with_reset();
    void close();

    [[nodiscard]] int fd() const noexcept { return fd_.get(); }
    [[nodiscard]] const Transcript& transcript() const noexcept { return transcript_; }

private:
    // Reports a failed send/recv: the server's own failure if it has one,
    // else std::system_error for `error`, noted in the transcript.
    [[noreturn]] void fail_call(std::string_view call, int error);

    net::Fd fd_;
    std::string peer_;
    Transcript transcript_;
};

// doctest's INFO(client) prints the transcript when a check fails.
std::ostream& operator<<(std::ostream& out, const Client& client);

// Runs a server function on its own thread with a listener on 127.0.0.1 (or
// ::1) and a kernel-chosen port. join() waits with a deadline and re-throws
// whatever the server function threw.
//
//     harness::LoopbackServer server([](int listener) {
//         lesson02::serve_client(harness::accept_within(listener));
//     });
//     auto client = harness::Client::connect(server.port());
class LoopbackServer {
public:
    explicit LoopbackServer(std::function<void(int listener)> body, std::string_view host = "127.0.0.1");
    ~LoopbackServer();
    LoopbackServer(const LoopbackServer&) = delete;
    LoopbackServer& operator=(const LoopbackServer&) = delete;

    [[nodiscard]] std::uint16_t port() const noexcept { return port_; }
    [[nodiscard]] int listener() const noexcept { return listener_.get(); }
    // The server thread's kernel id, for wait_until_blocked (waits.hpp);
    // waits for the thread to start.
    [[nodiscard]] pid_t thread_id() const;
    // Waits for the server function to return and re-throws its exception.
    void join(milliseconds timeout = default_timeout);

private:
    net::Fd listener_;
    std::uint16_t port_ = 0;
    std::shared_future<pid_t> thread_id_;
    std::future<void> done_;
    std::thread thread_;
    bool joined_ = false;
};

// Runs `fn` on a thread and waits at most `timeout` for it. On time out it
// calls `unblock` (close the peer's socket, say) and throws Timeout naming
// `step`; if even that does not free the thread, the process ends with a report.
template <typename F>
auto within(milliseconds timeout, std::string_view step, F&& fn, const std::function<void()>& unblock = {})
    -> decltype(fn()) {
    using Result = decltype(fn());
    std::packaged_task<Result()> task(std::forward<F>(fn));
    std::future<Result> result = task.get_future();
    std::thread worker(std::move(task));
    if (result.wait_for(timeout) != std::future_status::ready) {
        if (unblock) {
            unblock();
        }
        if (result.wait_for(std::chrono::seconds(3)) != std::future_status::ready) {
            worker.detach();
            fatal_timeout(step);
        }
        worker.join();
        throw Timeout(step, timeout);
    }
    worker.join();
    return result.get();
}

}  // namespace harness
