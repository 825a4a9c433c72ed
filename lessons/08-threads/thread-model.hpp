#pragma once
// --model thread: a thread per client, like Python's ThreadingMixIn
// (chapter 08). Simple, and nothing stops 10,000 clients from starting
// 10,000 threads.

#include <atomic>
#include <chrono>
#include <exception>
#include <list>
#include <system_error>
#include <thread>

#include "graceful-stop.hpp"
#include "net/address.hpp"
#include "net/log.hpp"
#include "net/tcp.hpp"
#include "session.hpp"

namespace kv {

inline void serve_thread_per_client(int listener, const Service& service, std::chrono::milliseconds grace) {
    struct ClientThread {
        std::thread thread;
        std::atomic<bool> finished{false};
    };
    std::list<ClientThread> threads;  // a list: each element stays where it is while its thread runs
    InFlight in_flight;

    while (!net::stop_requested()) {
        net::Accepted client = net::accept_client(listener);
        // Join the threads whose client has left, so the list does not grow forever.
        threads.remove_if([](ClientThread& done) {
            if (!done.finished.load()) {
                return false;
            }
            done.thread.join();
            return true;
        });
        if (!client) {
            continue;
        }
        const std::string who = net::to_string(client.peer);
        if (!service.quiet) {
            net::log::step("accept() = fd {} from {}: a new thread for it ({} running)", client.connection.get(), who,
                           threads.size() + 1);
        }
        const int fd = client.connection.get();
        in_flight.add(fd);
        ClientThread& slot = threads.emplace_back();
        try {
            slot.thread = start_thread_without_stop_signals(
                [&service, &in_flight, &slot, connection = std::move(client.connection), who]() mutable {
                    try {
                        serve(connection.get(), service, who);
                    } catch (const std::exception& error) {
                        if (!service.quiet) {
                            net::log::warn("client {}: {}", who, error.what());
                        }
                    }
                    in_flight.remove(connection.get());  // before the close: the number can be reused
                    connection.reset();
                    slot.finished.store(true);
                });
        } catch (const std::system_error& error) {
            // No thread to be had (EAGAIN: the limit of threads or memory is
            // reached): this client is dropped, the server carries on.
            net::log::warn("client {}: {}: dropped", who, error.what());
            in_flight.remove(fd);
            threads.pop_back();
        }
    }
    net::log::info("stopping: no new clients; waiting up to {} ms for {}", grace.count(),
                   net::plural(threads.size(), "client thread"));
    if (const std::size_t cut = in_flight.wait_then_cut_off(grace); cut > 0) {
        net::log::warn("cut off {} still connected after the grace period", net::plural(cut, "client"));
    }
    for (ClientThread& client : threads) {
        client.thread.join();
    }
    net::log::info("joined every thread");
}

}  // namespace kv
