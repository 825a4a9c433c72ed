#include "background.hpp"

#include <csignal>
#include <sys/socket.h>
#include <unistd.h>

#include "interrupts.hpp"
#include "net/error.hpp"
#include "net/tcp.hpp"
#include "udp_peer.hpp"

namespace harness {

BackgroundServer::BackgroundServer(Body body, std::function<void()> unblock) : unblock_(std::move(unblock)) {
    install_stop_signal();
    clear_server_failure();
    thread_ = std::thread([this, body = std::move(body)] {
        {
            const std::lock_guard lock(mutex_);
            handle_ = ::pthread_self();
            tid_ = ::gettid();
            started_ = true;
            changed_.notify_all();
        }
        try {
            run_recording_failure([&] { result_ = body(stop_); });
        } catch (...) {
            error_ = std::current_exception();
        }
        const std::lock_guard lock(mutex_);
        returned_ = true;
        changed_.notify_all();
    });
}

BackgroundServer::~BackgroundServer() {
    if (!stopped_) {
        try {
            (void)stop(milliseconds(500));
        } catch (...) {
            // the test failed before stopping us: its own failure is the one to report
        }
    }
}

std::size_t BackgroundServer::stop(milliseconds timeout, const std::function<void()>& also_unblock) {
    const Step step("stopping the server: stop flag set, signalling its thread until it returns");
    stopped_ = true;
    stop_.store(true);
    std::unique_lock lock(mutex_);
    const Deadline deadline(timeout);
    while (!returned_ && !deadline.expired()) {
        if (started_) {
            // Under the lock the thread cannot have finished: pthread_kill
            // never sees a thread that is gone.
            ::pthread_kill(handle_, stop_signal);
        }
        changed_.wait_for(lock, std::chrono::microseconds(500));  // then signal again: one may land before the call blocks
    }
    if (!returned_) {
        lock.unlock();
        if (also_unblock) {
            also_unblock();
        }
        if (unblock_) {
            unblock_();
        }
        lock.lock();
        if (!changed_.wait_for(lock, std::chrono::seconds(3), [this] { return returned_; })) {
            thread_.detach();
            fatal_timeout("the server thread, after its stop flag was set, its thread signalled and its socket shut down");
        }
        lock.unlock();
        thread_.join();
        clear_server_failure();  // what it threw then, we caused
        throw Timeout("the server did not return after its stop flag was set and its thread signalled", timeout);
    }
    lock.unlock();
    thread_.join();
    if (error_) {
        std::rethrow_exception(error_);
    }
    return result_;
}

pid_t BackgroundServer::thread_id() const {
    std::unique_lock lock(mutex_);
    if (!changed_.wait_for(lock, default_timeout, [this] { return started_; })) {
        throw Timeout("waiting for the server thread to start", default_timeout);
    }
    return tid_;
}

bool BackgroundServer::returned() const {
    const std::lock_guard lock(mutex_);
    return returned_;
}

BackgroundTcpServer::BackgroundTcpServer(Body body, std::string_view host)
    : listener_(net::listen_tcp(host, 0)), port_(net::local_port(listener_.get())),
      server_([body = std::move(body), listener = listener_.get()](const std::atomic<bool>& stop) {
          return body(listener, stop);
      }, [listener = listener_.get()] { ::shutdown(listener, SHUT_RDWR); }) {}

namespace {

net::Fd bound_udp_socket(std::string_view host) {
    const net::Address local = udp_address(0, host);
    net::Fd socket{net::check(::socket(local.family(), SOCK_DGRAM | SOCK_CLOEXEC, 0), "test's UDP socket")};
    net::check(::bind(socket.get(), local.get(), local.length), "test's bind");
    return socket;
}

}  // namespace

BackgroundUdpServer::BackgroundUdpServer(Body body, std::string_view host)
    : socket_(bound_udp_socket(host)), address_(net::local_address(socket_.get())),
      server_([body = std::move(body), socket = socket_.get()](const std::atomic<bool>& stop) {
          return body(socket, stop);
      }, [socket = socket_.get()] { ::shutdown(socket, SHUT_RDWR); }) {}

}  // namespace harness
