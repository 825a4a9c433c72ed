#include "wire.hpp"

#include <fcntl.h>
#include <sys/socket.h>
#include <unistd.h>

#include <fmt/core.h>

#include "interrupts.hpp"
#include "net/address.hpp"
#include "net/tcp.hpp"

namespace harness {

Wire::Wire(std::optional<ProxyOptions> rechunk) : listener_(net::listen_tcp("127.0.0.1", 0)) {
    clear_server_failure();  // a new connection, a new story
    const std::uint16_t port = net::local_port(listener_.get());
    if (rechunk) {
        proxy_.emplace(port, *rechunk);
    }
    mine_ = net::connect_tcp("127.0.0.1", proxy_ ? proxy_->port() : port, std::chrono::seconds(2));
    peer_.emplace(accept_within(listener_.get()), "code under test");
}

std::ostream& operator<<(std::ostream& out, const Wire& wire) {
    if (wire.proxy() != nullptr) {
        return out << *wire.proxy();
    }
    return out << "a direct loopback connection";
}

CodeUnderTest::CodeUnderTest(int fd, std::function<void()> body)
    : fd_(fd), interrupts_at_start_(interrupts_landed()) {
    clear_server_failure();
    std::promise<pid_t> started;
    thread_id_ = started.get_future().share();
    std::packaged_task<void()> task([body = std::move(body), started = std::move(started)]() mutable {
        started.set_value(::gettid());
        run_recording_failure(body);
    });
    done_ = task.get_future();
    thread_ = std::thread(std::move(task));
}

CodeUnderTest::~CodeUnderTest() {
    if (thread_.joinable()) {
        stop();
    }
}

void CodeUnderTest::join(milliseconds timeout, std::string_view step) {
    if (done_.wait_for(timeout) != std::future_status::ready) {
        stop();
        throw Timeout(step, timeout);
    }
    thread_.join();
    done_.get();
}

void CodeUnderTest::await_interrupts(std::size_t count, milliseconds timeout) const {
    const Deadline deadline(timeout);
    while (interrupts_landed() < interrupts_at_start_ + count) {
        rethrow_server_failure();
        if (done_.wait_for(std::chrono::seconds(0)) == std::future_status::ready) {
            return;  // it finished early (and the test will find out whether it was right)
        }
        if (deadline.expired()) {
            throw Timeout(fmt::format("waiting for {} signals to interrupt the code under test in a blocked call "
                                      "({} so far)", count, interrupts_landed() - interrupts_at_start_),
                          timeout);
        }
        std::this_thread::sleep_for(std::chrono::microseconds(100));  // polls a counter
    }
}

pid_t CodeUnderTest::thread_id() const {
    if (thread_id_.wait_for(default_timeout) != std::future_status::ready) {
        throw Timeout("waiting for the code under test's thread to start", default_timeout);
    }
    return thread_id_.get();
}

void CodeUnderTest::stop() {
    ::shutdown(fd_, SHUT_RDWR);  // wakes a blocked recv or send
    if (done_.wait_for(std::chrono::milliseconds(200)) != std::future_status::ready) {
        // Still running: a loop spinning on recv() == 0, most likely. A
        // non-socket in the fd's place makes its next recv fail (ENOTSOCK)
        // while the number stays taken, so no other socket can be hit.
        const net::Fd null{::open("/dev/null", O_RDONLY | O_CLOEXEC)};
        ::dup2(null.get(), fd_);
    }
    if (done_.wait_for(std::chrono::seconds(3)) != std::future_status::ready) {
        thread_.detach();
        fatal_timeout("the code under test, even after its socket was shut down");
    }
    thread_.join();
    clear_server_failure();  // what it threw then, we caused
}

}  // namespace harness
