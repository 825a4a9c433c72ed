#include "harness.hpp"

#include <atomic>
#include <cerrno>
#include <stdexcept>
#include <charconv>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <dirent.h>
#include <mutex>
#include <netinet/in.h>
#include <poll.h>
#include <random>
#include <sys/socket.h>
#include <thread>
#include <unistd.h>

#include <fmt/core.h>

#include "net/error.hpp"
#include "net/tcp.hpp"
#include "net/address.hpp"

#include "events.hpp"

namespace harness {

namespace {

std::mutex step_mutex;
std::string step_name = "(no step named)";

std::mutex failure_mutex;
std::exception_ptr server_failure;
std::atomic<int> code_running{0};

}  // namespace

Timeout::Timeout(std::string_view step, milliseconds waited)
    : std::runtime_error(fmt::format("timed out after {} ms: {}", waited.count(), step)) {}

Step::Step(std::string name) {
    const std::lock_guard lock(step_mutex);
    previous_ = std::exchange(step_name, std::move(name));
}

Step::~Step() {
    const std::lock_guard lock(step_mutex);
    step_name = std::move(previous_);
}

std::string current_step() {
    const std::lock_guard lock(step_mutex);
    return step_name;
}

void record_server_failure(std::exception_ptr error) {
    const std::lock_guard lock(failure_mutex);
    server_failure = std::move(error);
}

void clear_server_failure() {
    const std::lock_guard lock(failure_mutex);
    server_failure = nullptr;
}

void rethrow_server_failure(milliseconds grace) {
    const auto give_up = std::chrono::steady_clock::now() + grace;
    for (;;) {
        std::exception_ptr error;
        {
            const std::lock_guard lock(failure_mutex);
            error = server_failure;
        }
        if (error) {
            std::rethrow_exception(error);
        }
        if (code_running.load() == 0 || std::chrono::steady_clock::now() >= give_up) {
            return;
        }
        std::this_thread::sleep_for(std::chrono::milliseconds(2));  // polls the record
    }
}

void run_recording_failure(const std::function<void()>& body) {
    struct Running {
        Running() { code_running.fetch_add(1); }
        ~Running() { code_running.fetch_sub(1); }
    } running;
    try {
        body();
    } catch (...) {
        record_server_failure(std::current_exception());
        throw;
    }
}

void fatal_timeout(std::string_view what) {
    events::could_not_unblock(what, current_step());
    std::fflush(stdout);  // doctest's report so far, before the process ends
    fmt::print(stderr, "\nTIMEOUT: {} did not finish and could not be unblocked (it was waiting at: {}); "
                       "ending the test run\n",
               what, current_step());
    std::fflush(stderr);
    std::_Exit(124);
}

milliseconds Deadline::remaining() const {
    return std::chrono::duration_cast<milliseconds>(end_ - std::chrono::steady_clock::now());
}

namespace {

void wait_for(int fd, short events, const Deadline& deadline, std::string_view step) {
    pollfd waiting{fd, events, 0};
    for (;;) {
        rethrow_server_failure();
        const auto left = deadline.remaining();
        if (left.count() <= 0) {
            throw Timeout(step, deadline.budget());
        }
        // Short slices, so that a server that failed meanwhile is noticed.
        const int ready = ::poll(&waiting, 1, static_cast<int>(std::min<std::int64_t>(left.count(), 20)));
        if (ready > 0) {
            return;
        }
        if (ready < 0 && errno != EINTR) {
            net::throw_errno("poll");
        }
    }
}

}  // namespace

void wait_readable(int fd, const Deadline& deadline, std::string_view step) {
    wait_for(fd, POLLIN, deadline, step);
}

void wait_writable(int fd, const Deadline& deadline, std::string_view step) {
    wait_for(fd, POLLOUT, deadline, step);
}

net::Fd accept_within(int listener, milliseconds timeout) {
    wait_readable(listener, Deadline(timeout), "accept: waiting for a client to connect");
    return net::Fd{net::check(::accept4(listener, nullptr, nullptr, SOCK_CLOEXEC), "accept")};
}

namespace {

std::string escape_byte(unsigned char c) {
    switch (c) {
    case '\n': return "\\n";
    case '\r': return "\\r";
    case '\t': return "\\t";
    case '\\': return "\\\\";
    case '"': return "\\\"";
    default:
        if (c < 0x20 || c >= 0x7f) {
            return fmt::format("\\x{:02x}", c);
        }
        return std::string(1, static_cast<char>(c));
    }
}

}  // namespace

std::string escape(std::string_view bytes, std::size_t limit) {
    std::string out;
    std::size_t i = 0;
    while (i < bytes.size() && out.size() < limit) {
        std::size_t run = 1;
        while (i + run < bytes.size() && bytes[i + run] == bytes[i]) {
            ++run;
        }
        const auto c = static_cast<unsigned char>(bytes[i]);
        if (run >= 8) {
            // A long run of one byte (a zeroed buffer, say) is shown once with its count.
            out += fmt::format("[{} x {}]", escape_byte(c), run);
            i += run;
        } else {
            out += escape_byte(c);
            ++i;
        }
    }
    if (i < bytes.size()) {
        out += fmt::format("... ({} bytes in all)", bytes.size());
    }
    return out;
}

std::uint64_t fnv1a(std::string_view bytes) {
    std::uint64_t hash = 0xcbf29ce484222325;
    for (const char byte : bytes) {
        hash = (hash ^ static_cast<unsigned char>(byte)) * 0x100000001b3;
    }
    return hash;
}

std::string first_difference(std::string_view expected, std::string_view actual) {
    if (expected == actual) {
        return {};
    }
    std::size_t at = 0;
    while (at < expected.size() && at < actual.size() && expected[at] == actual[at]) {
        ++at;
    }
    return fmt::format("expected {} bytes (FNV-1a {:016x}), got {} bytes (FNV-1a {:016x});\n"
                       "first difference at byte {}: expected \"{}\", got \"{}\"",
                       expected.size(), fnv1a(expected), actual.size(), fnv1a(actual), at,
                       escape(expected.substr(at, 24)), escape(actual.substr(at, 24)));
}

int open_fd_count() {
    DIR* dir = ::opendir("/proc/self/fd");
    if (dir == nullptr) {
        net::throw_errno("opendir /proc/self/fd");
    }
    int count = 0;
    while (const dirent* entry = ::readdir(dir)) {
        if (entry->d_name[0] != '.') {
            ++count;
        }
    }
    ::closedir(dir);
    return count - 1;  // the directory stream's own descriptor
}

std::uint64_t test_seed(std::optional<std::uint64_t> fallback) {
    if (const char* text = std::getenv("WORKBOOK_SEED"); text != nullptr && *text != '\0') {
        std::uint64_t seed = 0;
        const char* end = text + std::strlen(text);
        const auto [stop, error] = std::from_chars(text, end, seed);
        if (error != std::errc{} || stop != end) {
            throw std::invalid_argument(fmt::format("WORKBOOK_SEED must be a decimal number, not \"{}\"", text));
        }
        return seed;
    }
    if (fallback) {
        return *fallback;
    }
    std::random_device entropy;
    return (std::uint64_t{entropy()} << 32) | entropy();
}

std::string random_bytes(std::size_t count, std::uint64_t seed) {
    std::mt19937_64 generator(seed);
    std::string bytes(count, '\0');
    for (char& byte : bytes) {
        byte = static_cast<char>(generator() & 0xff);
    }
    return bytes;
}

LoopbackServer::LoopbackServer(std::function<void(int listener)> body, std::string_view host)
    : listener_(net::listen_tcp(host, 0)), port_(net::local_port(listener_.get())) {
    clear_server_failure();
    std::promise<pid_t> started;
    thread_id_ = started.get_future().share();
    std::packaged_task<void()> task([body = std::move(body), listener = listener_.get(),
                                     started = std::move(started)]() mutable {
        started.set_value(static_cast<pid_t>(::gettid()));
        run_recording_failure([&] { body(listener); });
    });
    done_ = task.get_future();
    thread_ = std::thread(std::move(task));
}

pid_t LoopbackServer::thread_id() const {
    if (thread_id_.wait_for(default_timeout) != std::future_status::ready) {
        throw Timeout("waiting for the server thread to start", default_timeout);
    }
    return thread_id_.get();
}

void LoopbackServer::join(milliseconds timeout) {
    if (joined_) {
        return;
    }
    if (done_.wait_for(timeout) != std::future_status::ready) {
        // Wake a server blocked in accept(); Linux returns EINVAL from it then.
        ::shutdown(listener_.get(), SHUT_RDWR);
        if (done_.wait_for(std::chrono::seconds(3)) != std::future_status::ready) {
            thread_.detach();
            fatal_timeout("the server function");
        }
        thread_.join();
        joined_ = true;
        throw Timeout("waiting for the server function to return", timeout);
    }
    thread_.join();
    joined_ = true;
    done_.get();
}

LoopbackServer::~LoopbackServer() {
    // Whatever this server threw belongs to this test, not to the next one.
    struct ClearFailure {
        ~ClearFailure() { clear_server_failure(); }
    } clear_on_exit;
    if (!joined_) {
        // The test is over (it failed, most likely): wake a server still
        // waiting in accept() instead of letting it run into its timeout.
        ::shutdown(listener_.get(), SHUT_RDWR);
        try {
            join();
        } catch (...) {
            // The test body already failed or chose not to join; the
            // exception it would report was already reported or is moot.
        }
    }
}

}  // namespace harness
