#pragma once
// --model pool (the default): a fixed set of worker threads fed by a bounded
// queue (chapter 08). The accepting thread never serves anyone; it queues
// each client, or, when the queue is full, answers "ERR busy" and closes.
// Threads: workers + 1, however many clients come.

#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <deque>
#include <exception>
#include <mutex>
#include <optional>
#include <string>
#include <sys/socket.h>
#include <thread>
#include <utility>
#include <vector>

#include "graceful-stop.hpp"
#include "net/address.hpp"
#include "net/fd.hpp"
#include "net/log.hpp"
#include "net/tcp.hpp"
#include "session.hpp"

namespace kv {

struct Waiting {
    net::Fd connection;
    std::string who;
};

// The accepted clients waiting for a worker. One mutex, one condition variable.
class ClientQueue {
public:
    explicit ClientQueue(std::size_t capacity) : capacity_(capacity) {}

    // False when full: then the client is still the caller's.
    bool push(Waiting& client) {
        const std::lock_guard lock(mutex_);
        if (closed_ || queue_.size() >= capacity_) {
            return false;
        }
        queue_.push_back(std::move(client));
        ready_.notify_one();  // wake one sleeping worker
        return true;
    }

    // The next client; nothing once the queue is closed and empty. A worker
    // with nothing to do sleeps here, in the condition variable, using no CPU.
    std::optional<Waiting> pop() {
        std::unique_lock lock(mutex_);
        ready_.wait(lock, [&] { return !queue_.empty() || closed_; });
        if (queue_.empty()) {
            return std::nullopt;
        }
        Waiting client = std::move(queue_.front());
        queue_.pop_front();
        return client;
    }

    // No more clients: the workers finish what is queued, then leave.
    void close() {
        const std::lock_guard lock(mutex_);
        closed_ = true;
        ready_.notify_all();
    }

private:
    const std::size_t capacity_;
    std::mutex mutex_;
    std::condition_variable ready_;
    std::deque<Waiting> queue_;
    bool closed_ = false;
};

// Reads and drops whatever the client has already sent, without waiting.
// Closing a socket with unread bytes sends a reset instead of a FIN, and a
// reset can make the client's kernel throw away our "ERR busy" unread.
inline void discard_unread(int fd) {
    char ignored[4096];
    while (::recv(fd, ignored, sizeof ignored, MSG_DONTWAIT) > 0) {
    }
}

inline void work(ClientQueue& queue, InFlight& in_flight, const Service& service) {
    while (std::optional<Waiting> client = queue.pop()) {
        const int fd = client->connection.get();
        try {
            serve(fd, service, client->who);
        } catch (const std::exception& error) {
            // The client's failure, not the worker's: log it, take the next client.
            if (!service.quiet) {
                net::log::warn("client {}: {}", client->who, error.what());
            }
        }
        in_flight.remove(fd);
    }
}

inline void serve_pool(int listener, const Service& service, std::size_t workers, std::size_t queue_size,
                       std::chrono::milliseconds grace) {
    ClientQueue queue(queue_size);
    InFlight in_flight;
    std::vector<std::thread> threads;
    try {
        for (std::size_t i = 0; i < workers; ++i) {
            threads.push_back(start_thread_without_stop_signals([&] { work(queue, in_flight, service); }));
        }
    } catch (...) {
        queue.close();  // the workers already started leave, and are joined
        for (std::thread& thread : threads) {
            thread.join();
        }
        throw;
    }
    if (!service.quiet) {
        net::log::info("{} started, queue of {}", net::plural(workers, "worker thread"), queue_size);
    }

    while (!net::stop_requested()) {
        net::Accepted client = net::accept_client(listener);
        if (!client) {
            continue;
        }
        const int fd = client.connection.get();
        Waiting waiting{std::move(client.connection), net::to_string(client.peer)};
        in_flight.add(fd);  // in flight from accept on: queued clients count for the stop too
        const std::string who = waiting.who;  // push moves `waiting` into the queue
        if (queue.push(waiting)) {
            if (!service.quiet) {
                net::log::step("accept() from {}: queued for a worker", who);
            }
            continue;
        }
        in_flight.remove(fd);
        // Full. Say so and close, rather than leave the client waiting in
        // silence. MSG_DONTWAIT: this thread must never block on one client.
        if (!service.quiet) {
            net::log::warn("client {}: the queue is full: ERR busy", waiting.who);
        }
        constexpr std::string_view busy = "ERR busy\n";
        [[maybe_unused]] const ssize_t sent =
            ::send(waiting.connection.get(), busy.data(), busy.size(), MSG_NOSIGNAL | MSG_DONTWAIT);
        discard_unread(waiting.connection.get());
    }

    net::log::info("stopping: no new clients; the workers finish theirs (up to {} ms)", grace.count());
    queue.close();
    // Queued clients are in flight too: once cut off, a worker that takes one
    // finds it shut down (recv returns 0) and moves on at once.
    if (const std::size_t cut = in_flight.wait_then_cut_off(grace); cut > 0) {
        net::log::warn("cut off {} still connected after the grace period", net::plural(cut, "client"));
    }
    for (std::thread& thread : threads) {
        thread.join();
    }
    net::log::info("joined {}", net::plural(threads.size(), "worker thread"));
}

}  // namespace kv
