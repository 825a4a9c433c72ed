#include "harness.hpp"

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <dirent.h>
#include <mutex>
#include <netinet/in.h>
#include <poll.h>
#include <random>
#include <sys/socket.h>
#include <unistd.h>

#include <fmt/format.h>

#include "net/error.hpp"
#include "net/tcp.hpp"
#include "net/address.hpp"

namespace harness {

namespace {

std::mutex step_mutex;
std::string step_name = "(no step named)";

std::mutex failure_mutex;
std::exception_ptr server_failure;

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

void rethrow_server_failure() {
    std::exception_ptr error;
    {
        const std::lock_guard lock(failure_mutex);
        error = server_failure;
    }
    if (error) {
        std::rethrow_exception(error);
    }
}

void fatal_timeout(std::string_view what) {
    fmt::print(stderr, "\nTIMEOUT: {} did not finish and could not be unblocked; ending the test run\n", what);
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

std::string random_bytes(std::size_t count, std::uint64_t seed) {
    std::mt19937_64 generator(seed);
    std::string bytes(count, '\0');
    for (char& byte : bytes) {
        byte = static_cast<char>(generator() & 0xff);
    }
    return bytes;
}

void Transcript::sent(std::string_view bytes) { entries_.push_back({'>', std::string(bytes)}); }
void Transcript::received(std::string_view bytes) { entries_.push_back({'<', std::string(bytes)}); }
void Transcript::note(std::string_view event) { entries_.push_back({'!', std::string(event)}); }

std::string Transcript::str() const {
    if (entries_.empty()) {
        return "  (nothing sent or received)\n";
    }
    std::string out;
    for (const Entry& entry : entries_) {
        switch (entry.direction) {
        case '>': out += fmt::format("  test sent     \"{}\" ({} bytes)\n", escape(entry.bytes), entry.bytes.size()); break;
        case '<': out += fmt::format("  test received \"{}\" ({} bytes)\n", escape(entry.bytes), entry.bytes.size()); break;
        default: out += fmt::format("  {}\n", entry.bytes); break;
        }
    }
    return out;
}

Client::Client(net::Fd fd, std::string peer_name) : fd_(std::move(fd)), peer_(std::move(peer_name)) {}

Client Client::connect(std::uint16_t port, std::string_view host, milliseconds timeout) {
    Step step(fmt::format("connecting to {}:{}", host, port));
    Client client(net::connect_tcp(host, port, timeout));
    client.transcript_.note(fmt::format("connected to {}", net::to_string(net::peer_address(client.fd()))));
    return client;
}

void Client::send(std::string_view bytes, milliseconds timeout) {
    const Deadline deadline(timeout);
    const std::string step = fmt::format("sending {} bytes to the {}", bytes.size(), peer_);
    std::size_t done = 0;
    while (done < bytes.size()) {
        wait_writable(fd(), deadline, step);
        const ssize_t n = ::send(fd(), bytes.data() + done, bytes.size() - done, MSG_NOSIGNAL | MSG_DONTWAIT);
        if (n < 0) {
            if (errno == EINTR || errno == EAGAIN) {
                continue;
            }
            const int error = errno;
            rethrow_server_failure();
            errno = error;
            transcript_.note(fmt::format("send failed: {}", std::strerror(errno)));
            net::throw_errno(fmt::format("test's send to the {}", peer_));
        }
        done += static_cast<std::size_t>(n);
    }
    transcript_.sent(bytes);
}

std::string Client::recv_some(milliseconds timeout) {
    const Deadline deadline(timeout);
    const std::string step = fmt::format("waiting for the {} to send something", peer_);
    char buffer[65536];
    for (;;) {
        wait_readable(fd(), deadline, step);
        const ssize_t n = ::recv(fd(), buffer, sizeof buffer, MSG_DONTWAIT);
        if (n < 0) {
            if (errno == EINTR || errno == EAGAIN) {
                continue;
            }
            const int error = errno;
            rethrow_server_failure();
            errno = error;
            transcript_.note(fmt::format("recv failed: {}", std::strerror(errno)));
            net::throw_errno(fmt::format("test's recv from the {}", peer_));
        }
        if (n == 0) {
            transcript_.note(fmt::format("the {} closed the connection (EOF)", peer_));
            return {};
        }
        std::string bytes(buffer, static_cast<std::size_t>(n));
        transcript_.received(bytes);
        return bytes;
    }
}

std::string Client::recv_exact(std::size_t n, milliseconds timeout) {
    const Deadline deadline(timeout);
    std::string bytes;
    while (bytes.size() < n) {
        const Step step(fmt::format("waiting for {} bytes from the {}, {} arrived so far", n, peer_, bytes.size()));
        const auto left = deadline.remaining();
        if (left.count() <= 0) {
            throw Timeout(current_step(), timeout);
        }
        std::string piece;
        try {
            piece = recv_some(left);
        } catch (const Timeout&) {
            throw Timeout(current_step(), timeout);
        }
        if (piece.empty()) {
            rethrow_server_failure();
            throw std::runtime_error(fmt::format("the {} closed the connection after {} of the {} bytes expected",
                                                 peer_, bytes.size(), n));
        }
        bytes += piece;
    }
    if (bytes.size() > n) {
        throw std::runtime_error(fmt::format("expected {} bytes from the {} but {} arrived: \"{}\"", n, peer_,
                                             bytes.size(), escape(bytes)));
    }
    return bytes;
}

std::string Client::recv_until_eof(milliseconds timeout, std::size_t limit) {
    const Deadline deadline(timeout);
    std::string bytes;
    for (;;) {
        const auto left = deadline.remaining();
        if (left.count() <= 0) {
            throw Timeout(fmt::format("waiting for the {} to close the connection ({} bytes arrived)", peer_,
                                      bytes.size()),
                          timeout);
        }
        std::string piece;
        try {
            piece = recv_some(left);
        } catch (const Timeout&) {
            throw Timeout(fmt::format("waiting for the {} to close the connection ({} bytes arrived)", peer_,
                                      bytes.size()),
                          timeout);
        }
        if (piece.empty()) {
            return bytes;
        }
        bytes += piece;
        if (bytes.size() > limit) {
            throw std::runtime_error(fmt::format("the {} sent more than {} bytes", peer_, limit));
        }
    }
}

void Client::expect_eof(milliseconds timeout) {
    std::string piece;
    try {
        piece = recv_some(timeout);
    } catch (const Timeout&) {
        throw Timeout(fmt::format("waiting for the {} to close the connection", peer_), timeout);
    }
    if (!piece.empty()) {
        throw std::runtime_error(
            fmt::format("expected the {} to close the connection, but it sent \"{}\"", peer_, escape(piece)));
    }
}

void Client::shutdown_write() {
    net::check(::shutdown(fd(), SHUT_WR), "shutdown SHUT_WR");
    transcript_.note("test called shutdown(SHUT_WR): no more data from the test");
}

void Client::close_with_reset() {
    const linger reset{1, 0};
    net::check(::setsockopt(fd(), SOL_SOCKET, SO_LINGER, &reset, sizeof reset), "setsockopt SO_LINGER");
    fd_.reset();
    transcript_.note("test closed the connection with a reset (RST)");
}

void Client::close() {
    fd_.reset();
    transcript_.note("test closed the connection");
}

std::ostream& operator<<(std::ostream& out, const Client& client) {
    return out << "what went over the wire:\n" << client.transcript().str();
}

LoopbackServer::LoopbackServer(std::function<void(int listener)> body, std::string_view host)
    : listener_(net::listen_tcp(host, 0)), port_(net::local_port(listener_.get())) {
    clear_server_failure();
    std::packaged_task<void()> task([body = std::move(body), listener = listener_.get()] {
        try {
            body(listener);
        } catch (...) {
            record_server_failure(std::current_exception());
            throw;
        }
    });
    done_ = task.get_future();
    thread_ = std::thread(std::move(task));
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
