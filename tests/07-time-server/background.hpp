#pragma once
// Runs a server function that takes a stop flag on its own thread, and stops
// it the way Ctrl-C does: flag set, then its thread signalled.

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <csignal>
#include <cstddef>
#include <exception>
#include <functional>
#include <mutex>
#include <pthread.h>
#include <thread>

#include "harness.hpp"
#include "interrupts.hpp"

namespace test07 {

using namespace std::chrono_literals;
using harness::milliseconds;

// Runs body(stop) on its own thread. stop() sets the flag, then signals the
// thread (SIGUSR2, no SA_RESTART) until the body returns.
class BackgroundServer {
public:
    using Body = std::function<std::size_t(const std::atomic<bool>& stop)>;

    BackgroundServer(Body body, std::function<void()> unblock) : unblock_(std::move(unblock)) {
        harness::install_stop_signal();
        harness::clear_server_failure();
        thread_ = std::thread([this, body = std::move(body)] {
            {
                const std::lock_guard lock(mutex_);
                id_ = ::pthread_self();
                started_ = true;
            }
            try {
                result_ = body(stop_);
            } catch (...) {
                error_ = std::current_exception();
                harness::record_server_failure(error_);
            }
            const std::lock_guard lock(mutex_);
            returned_ = true;
            changed_.notify_all();
        });
    }

    ~BackgroundServer() {
        if (thread_.joinable()) {
            try {
                (void)stop(500ms);
            } catch (...) {
                // the test's own failure is the one to report
            }
        }
    }

    BackgroundServer(const BackgroundServer&) = delete;
    BackgroundServer& operator=(const BackgroundServer&) = delete;

    std::size_t stop(milliseconds timeout = 1500ms) {
        const harness::Step step("stopping the server: stop flag set, signalling its thread until it returns");
        stop_.store(true);
        std::unique_lock lock(mutex_);
        const harness::Deadline deadline(timeout);
        while (!returned_ && !deadline.expired()) {
            if (started_) {
                ::pthread_kill(id_, harness::stop_signal);  // under the lock: the thread is still alive
            }
            changed_.wait_for(lock, 500us);
        }
        if (!returned_) {
            unblock_();
            if (!changed_.wait_for(lock, 3s, [this] { return returned_; })) {
                thread_.detach();
                harness::fatal_timeout("the server thread, after its stop flag was set and its socket shut down");
            }
            lock.unlock();
            thread_.join();
            throw harness::Timeout("the server did not return after its stop flag was set and its thread signalled",
                                   timeout);
        }
        lock.unlock();
        thread_.join();
        if (error_) {
            std::rethrow_exception(error_);
        }
        return result_;
    }

private:
    std::function<void()> unblock_;
    std::atomic<bool> stop_{false};
    std::mutex mutex_;
    std::condition_variable changed_;
    pthread_t id_{};
    bool started_ = false;
    bool returned_ = false;
    std::size_t result_ = 0;
    std::exception_ptr error_;
    std::thread thread_;  // last: it uses everything above
};

}  // namespace test07
