#pragma once
// Fixtures for tests/06-udp.cpp: a request/reply server the test controls,
// and the code under test run with a deadline (a client still waiting then is
// freed by a reply or a shutdown).

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <functional>
#include <linux/sockios.h>
#include <mutex>
#include <ostream>
#include <poll.h>
#include <string>
#include <string_view>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <thread>
#include <unistd.h>
#include <vector>

#include <fmt/core.h>

#include "harness.hpp"
#include "net/error.hpp"
#include "udp.hpp"
#include "udp_peer.hpp"
#include "udp_proxy.hpp"

namespace fixtures {

// A request/reply server the test controls, on its own thread. It answers
// "<id> <payload>" with "<id> re: <payload>" to whoever sent the request, and
// records when each request arrived (the kernel's receive timestamp).
struct ServerOptions {
    std::size_t answer_from = 0;               // stay silent for the first N requests
    bool forge_from_stranger = false;          // before each reply, a stranger sends a fake one
    std::chrono::milliseconds stale_every{0};  // once a request came: "<other id> ..." this often
};

class TestServer {
public:
    struct Arrival {
        std::chrono::system_clock::time_point at;
        std::string bytes;
        std::string from;
    };

    explicit TestServer(ServerOptions options = {}, std::string_view host = "127.0.0.1")
        : options_(options), socket_(host, "server"), stranger_(host, "stranger") {
        const int on = 1;  // timestamps for SIOCGSTAMPNS: when the datagram arrived, not when we woke up
        net::check(::setsockopt(socket_.fd(), SOL_SOCKET, SO_TIMESTAMPNS, &on, sizeof on), "setsockopt SO_TIMESTAMPNS");
        int pipe_fds[2];
        net::check(::pipe(pipe_fds), "pipe");
        wake_read_.reset(pipe_fds[0]);
        wake_write_.reset(pipe_fds[1]);
        thread_ = std::thread([this] { run(); });
    }
    ~TestServer() {
        (void)!::write(wake_write_.get(), "s", 1);
        thread_.join();
    }
    TestServer(const TestServer&) = delete;
    TestServer& operator=(const TestServer&) = delete;

    [[nodiscard]] const net::Address& address() const { return socket_.address(); }
    [[nodiscard]] std::uint16_t port() const { return net::local_port(socket_.fd()); }
    [[nodiscard]] std::string where() const { return socket_.where(); }
    [[nodiscard]] std::vector<Arrival> arrivals() const {
        const std::lock_guard lock(mutex_);
        return arrivals_;
    }
    // Frees a client still waiting after the test's deadline: a matching reply.
    void rescue(std::uint32_t id) {
        const std::lock_guard lock(mutex_);
        if (client_.length > 0) {
            reply(client_, fmt::format("{} (rescue: the test's deadline had passed)", id));
        }
    }
    [[nodiscard]] std::string log() const {
        const std::lock_guard lock(mutex_);
        return log_.empty() ? "  (the server received nothing)\n" : log_;
    }

private:
    void reply(const net::Address& to, std::string_view bytes) {
        log_ += fmt::format("  server sent \"{}\" to {}\n", harness::escape(bytes, 60), net::to_string(to));
        (void)::sendto(socket_.fd(), bytes.data(), bytes.size(), 0, to.get(), to.length);
    }

    void receive_one() {
        static thread_local char buffer[65536];
        net::Address from;
        from.length = sizeof from.storage;
        const ssize_t n = ::recvfrom(socket_.fd(), buffer, sizeof buffer, MSG_DONTWAIT, from.get(), &from.length);
        if (n < 0) {
            return;
        }
        timespec stamp{};
        auto at = std::chrono::system_clock::now();
        if (::ioctl(socket_.fd(), SIOCGSTAMPNS, &stamp) == 0) {
            at = std::chrono::system_clock::time_point(std::chrono::duration_cast<std::chrono::system_clock::duration>(
                std::chrono::seconds(stamp.tv_sec) + std::chrono::nanoseconds(stamp.tv_nsec)));
        }
        const std::string request(buffer, static_cast<std::size_t>(n));
        const std::lock_guard lock(mutex_);
        arrivals_.push_back({at, request, net::to_string(from)});
        client_ = from;
        log_ += fmt::format("  server received \"{}\" ({} bytes) from {}\n", harness::escape(request, 60),
                            request.size(), net::to_string(from));
        const std::size_t space = request.find(' ');
        if (space == std::string::npos || space == 0) {
            log_ += "  (not \"<id> <payload>\": no reply)\n";
            return;
        }
        if (arrivals_.size() <= options_.answer_from) {
            log_ += "  (the server stays silent, as this test wants)\n";
            return;
        }
        const std::string id = request.substr(0, space);
        if (options_.forge_from_stranger) {
            const std::string forged = id + " forged by a stranger";
            log_ += fmt::format("  stranger ({}) sent \"{}\" to {}\n", stranger_.where(), forged, net::to_string(from));
            (void)::sendto(stranger_.fd(), forged.data(), forged.size(), 0, from.get(), from.length);
        }
        reply(from, id + " re: " + request.substr(space + 1));
    }

    void run() {
        pollfd watched[2] = {{socket_.fd(), POLLIN, 0}, {wake_read_.get(), POLLIN, 0}};
        auto next_stale = std::chrono::steady_clock::time_point::max();
        for (;;) {
            int timeout = -1;
            if (next_stale != std::chrono::steady_clock::time_point::max()) {
                const auto left = std::chrono::ceil<std::chrono::milliseconds>(next_stale - std::chrono::steady_clock::now());
                timeout = static_cast<int>(std::max<std::int64_t>(left.count(), 0));
            }
            if (::poll(watched, 2, timeout) < 0 && errno != EINTR) {
                return;
            }
            if (watched[1].revents != 0) {
                return;
            }
            if (watched[0].revents != 0) {
                receive_one();
                if (options_.stale_every.count() > 0 && next_stale == std::chrono::steady_clock::time_point::max()) {
                    next_stale = std::chrono::steady_clock::now() + options_.stale_every;
                }
            }
            if (std::chrono::steady_clock::now() >= next_stale) {
                const std::lock_guard lock(mutex_);
                reply(client_, "999999 a stale reply to some old request");
                next_stale += options_.stale_every;
            }
        }
    }

    ServerOptions options_;
    harness::UdpPeer socket_;
    harness::UdpPeer stranger_;
    net::Fd wake_read_;
    net::Fd wake_write_;
    mutable std::mutex mutex_;
    std::vector<Arrival> arrivals_;
    net::Address client_;
    std::string log_;
    std::thread thread_;
};

inline std::ostream& operator<<(std::ostream& out, const TestServer& server) {
    return out << "what the test's server saw and did:\n" << server.log();
}

// ---- the code under test, with a deadline ------------------------------------

inline lesson06::Datagram receive_within(harness::UdpPeer& receiver, std::size_t capacity) {
    return harness::within(std::chrono::seconds(1), "receive_datagram waiting for a datagram that was already sent",
                           [&] { return lesson06::receive_datagram(receiver.fd(), capacity); },
                           [&] { ::shutdown(receiver.fd(), SHUT_RDWR); });
}

// Runs request_with_retry with a deadline. A client still waiting then is
// freed by `rescue` (a matching reply, or a shutdown of its socket).
inline std::string request_within(std::chrono::milliseconds budget, harness::UdpPeer& client,
                                  const net::Address& to, std::uint32_t id, std::string_view payload,
                                  lesson06::Retry retry, const std::function<void()>& rescue) {
    return harness::within(budget, "request_with_retry waiting for its answer (only a timeout notices a lost datagram)",
                           [&] { return lesson06::request_with_retry(client.fd(), to, id, payload, retry); }, rescue);
}

inline std::function<void()> rescue_from(TestServer& server, std::uint32_t id) {
    return [&server, id] { server.rescue(id); };
}

inline std::function<void()> rescue_through(harness::UdpProxy& proxy, std::uint32_t id) {
    return [&proxy, id] { proxy.send_to_client(fmt::format("{} (rescue: the test's deadline had passed)", id)); };
}

}  // namespace fixtures
