#pragma once
// What every model needs to stop cleanly on Ctrl-C (chapter 08, "Stopping"):
// threads that never take the signal, and a list of the clients in flight,
// so that a stop can wait for them and, after a grace period, cut them off.

#include <chrono>
#include <condition_variable>
#include <csignal>
#include <cstddef>
#include <mutex>
#include <pthread.h>
#include <set>
#include <sys/socket.h>
#include <thread>
#include <utility>

#include "net/error.hpp"

namespace kv {

// Starts a thread with SIGINT and SIGTERM blocked in it. A process-directed
// signal goes to any one thread that does not block it: if a worker took
// Ctrl-C, the accepting thread would sleep on in accept() and never notice.
// Blocked everywhere but the main thread, the signal always interrupts accept().
template <typename Body>
std::thread start_thread_without_stop_signals(Body&& body) {
    sigset_t stop_signals, previous;
    sigemptyset(&stop_signals);
    sigaddset(&stop_signals, SIGINT);
    sigaddset(&stop_signals, SIGTERM);
    if (const int rc = ::pthread_sigmask(SIG_BLOCK, &stop_signals, &previous); rc != 0) {
        net::throw_errno("pthread_sigmask", rc);
    }
    std::thread thread;
    try {
        thread = std::thread(std::forward<Body>(body));  // the new thread inherits the mask
    } catch (...) {
        ::pthread_sigmask(SIG_SETMASK, &previous, nullptr);
        throw;
    }
    ::pthread_sigmask(SIG_SETMASK, &previous, nullptr);
    return thread;
}

// The sockets of the clients being served right now.
class InFlight {
public:
    void add(int fd) {
        const std::lock_guard lock(mutex_);
        fds_.insert(fd);
    }
    // Call before closing fd: once closed, its number can belong to a new client.
    void remove(int fd) {
        const std::lock_guard lock(mutex_);
        fds_.erase(fd);
        if (fds_.empty()) {
            none_left_.notify_all();
        }
    }
    // Waits until no client is in flight, or `grace` has passed; then shuts
    // down the sockets of those still there (their recv() returns 0, their
    // send() fails), so that their threads finish. Returns how many were cut off.
    std::size_t wait_then_cut_off(std::chrono::milliseconds grace) {
        std::unique_lock lock(mutex_);
        none_left_.wait_for(lock, grace, [&] { return fds_.empty(); });
        for (const int fd : fds_) {
            ::shutdown(fd, SHUT_RDWR);
        }
        return fds_.size();
    }

private:
    std::mutex mutex_;
    std::condition_variable none_left_;
    std::set<int> fds_;
};

}  // namespace kv
