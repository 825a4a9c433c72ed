// Exercise 08, part 2 — the bounded worker pool (contract: pool.hpp).
#include "pool.hpp"

#include <cerrno>
#include <condition_variable>
#include <cstddef>
#include <deque>
#include <exception>
#include <mutex>
#include <optional>
#include <set>
#include <sys/socket.h>
#include <thread>
#include <utility>
#include <vector>

#include "net/error.hpp"
#include "net/tcp.hpp"

namespace lesson08 {
namespace {

// The clients between accept() and close(): waiting in the queue, or in a
// handler on some worker. One mutex guards all of it; two condition
// variables say "there is work" (to workers) and "all done" (to the stop).
class Clients {
public:
    explicit Clients(std::size_t capacity) : capacity_(capacity) {}

    // Queues `client` for a worker; false (and `client` untouched) when full.
    bool push(net::Fd& client) {
        const std::lock_guard lock(mutex_);
        if (queue_.size() >= capacity_) {
            return false;
        }
        queue_.push_back(std::move(client));
        work_.notify_one();
        return true;
    }

    // A worker's loop: take a client, serve it, forget it, until told to stop.
    void work(const Handler& handler) {
        while (std::optional<net::Fd> client = take()) {
            try {
                handler(client->get());
                served_.fetch_add(1);
            } catch (const std::exception&) {
                // The client's failure (it reset, it sent garbage): not the
                // worker's. Drop this client, take the next one.
            }
            finished(client->get());  // before the Fd closes it: the number may be reused
        }
    }

    // Called once the accepting has stopped: no more clients come. Waits up
    // to `grace` for the workers to finish every client accepted so far, then
    // cuts off the rest so that every worker's loop ends.
    void drain(std::chrono::milliseconds grace) {
        std::unique_lock lock(mutex_);
        closing_ = true;
        work_.notify_all();
        if (!idle_.wait_for(lock, grace, [&] { return queue_.empty() && in_handler_.empty(); })) {
            queue_.clear();  // closes them: accepted, never served
            for (const int fd : in_handler_) {
                ::shutdown(fd, SHUT_RDWR);  // its recv returns 0, its send fails: the handler ends
            }
        }
    }

    [[nodiscard]] std::size_t served() const { return served_.load(); }

private:
    // The next client, or nothing once closing and the queue is empty.
    std::optional<net::Fd> take() {
        std::unique_lock lock(mutex_);
        work_.wait(lock, [&] { return !queue_.empty() || closing_; });  // sleeps, never spins
        if (queue_.empty()) {
            return std::nullopt;
        }
        net::Fd client = std::move(queue_.front());
        queue_.pop_front();
        in_handler_.insert(client.get());
        return client;
    }

    void finished(int fd) {
        const std::lock_guard lock(mutex_);
        in_handler_.erase(fd);
        if (queue_.empty() && in_handler_.empty()) {
            idle_.notify_all();
        }
    }

    const std::size_t capacity_;
    std::mutex mutex_;
    std::condition_variable work_;
    std::condition_variable idle_;
    std::deque<net::Fd> queue_;
    std::set<int> in_handler_;
    bool closing_ = false;
    std::atomic<std::size_t> served_{0};
};

// Stops and joins the workers however serve_pool ends (a stop, or an accept
// failure being thrown): no thread of the pool outlives the call.
class Workers {
public:
    Workers(Clients& clients, const Handler& handler, const PoolOptions& options)
        : clients_(clients), grace_(options.grace) {
        threads_.reserve(options.workers);
        for (std::size_t i = 0; i < options.workers; ++i) {
            threads_.emplace_back([this, &handler] { clients_.work(handler); });
        }
    }
    ~Workers() {
        clients_.drain(grace_);
        for (std::thread& thread : threads_) {
            thread.join();
        }
    }
    Workers(const Workers&) = delete;
    Workers& operator=(const Workers&) = delete;

private:
    Clients& clients_;
    std::chrono::milliseconds grace_;
    std::vector<std::thread> threads_;
};

}  // namespace

std::size_t serve_pool(int listener, const Handler& handler, const PoolOptions& options,
                       const std::atomic<bool>& stop) {
    Clients clients(options.queue);
    {
        const Workers workers(clients, handler, options);
        while (!stop.load()) {
            const int fd = ::accept4(listener, nullptr, nullptr, SOCK_CLOEXEC);
            if (fd < 0) {
                const int err = errno;
                if (err == EINTR || net::is_per_client_accept_error(err)) {
                    continue;  // a signal (the loop condition decides) or one lost client
                }
                net::throw_errno("accept", err);
            }
            net::Fd client{fd};
            if (!clients.push(client)) {
                // Full: say so at once rather than leave the client hanging.
                // MSG_DONTWAIT: a tiny reply fits any fresh socket's buffer,
                // and the accepting thread must never block on one client.
                [[maybe_unused]] const ssize_t sent =
                    ::send(client.get(), busy_reply.data(), busy_reply.size(), MSG_NOSIGNAL | MSG_DONTWAIT);
            }
        }
    }  // ~Workers: drain within the grace period, join every worker
    return clients.served();
}

}  // namespace lesson08
