#include "idle.hpp"

#include <algorithm>
#include <array>
#include <cerrno>
#include <cstring>
#include <fstream>
#include <sstream>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <thread>

#include <fmt/core.h>

#include "http_response.hpp"
#include "net/error.hpp"

namespace bench {

namespace {

constexpr std::size_t probe_size = 16;

std::array<char, probe_size> probe_for(std::size_t index) {
    std::array<char, probe_size> probe{};
    const auto text = fmt::format("idle {:>10}\n", index);
    std::copy_n(text.begin(), std::min(text.size(), probe_size), probe.begin());
    return probe;
}

}  // namespace

ProcessSample sample_process(pid_t pid) {
    const std::string path = fmt::format("/proc/{}/status", pid);
    std::ifstream status(path);
    if (!status) {
        net::throw_errno(fmt::format("open {} (is process {} running?)", path, pid), ENOENT);
    }
    ProcessSample sample;
    std::string line;
    while (std::getline(status, line)) {
        std::istringstream fields(line);
        std::string key;
        fields >> key;
        if (key == "VmRSS:") {
            fields >> sample.rss_kib;
        } else if (key == "Threads:") {
            fields >> sample.threads;
        }
    }
    return sample;
}

IdleResult run_idle(const std::vector<net::Fd>& connections, Clock::time_point answer_deadline,
                    Clock::duration hold, std::optional<pid_t> pid, const std::string& http_request) {
    IdleResult result;
    const bool http = !http_request.empty();
    std::vector<ResponseReader> responses(http ? connections.size() : 0);
    net::Fd epoll{net::check(::epoll_create1(EPOLL_CLOEXEC), "epoll_create1")};
    std::vector<std::size_t> received(connections.size(), 0);
    std::size_t waiting = 0;
    auto give_up = [&](std::size_t i, std::string what) {
        ::epoll_ctl(epoll.get(), EPOLL_CTL_DEL, connections[i].get(), nullptr);
        --waiting;
        if (result.first_error.empty()) {
            result.first_error = fmt::format("connection {}: {}", i + 1, what);
        }
    };

    // Every probe goes out first: 16 bytes (or a GET) always fit a fresh socket's buffer.
    for (std::size_t i = 0; i < connections.size(); ++i) {
        const auto echo_probe = probe_for(i);
        const std::string_view probe = http ? std::string_view(http_request)
                                            : std::string_view(echo_probe.data(), echo_probe.size());
        epoll_event interest{};
        interest.events = EPOLLIN;
        interest.data.u64 = i;
        net::check(::epoll_ctl(epoll.get(), EPOLL_CTL_ADD, connections[i].get(), &interest), "epoll_ctl");
        ++waiting;
        if (::send(connections[i].get(), probe.data(), probe.size(), MSG_NOSIGNAL) != static_cast<ssize_t>(probe.size())) {
            give_up(i, fmt::format("send: {}", std::strerror(errno)));
        }
    }

    std::vector<epoll_event> events(1024);
    while (waiting > 0 && Clock::now() < answer_deadline) {
        const int ready = ::epoll_wait(epoll.get(), events.data(), static_cast<int>(events.size()),
                                       milliseconds_until(answer_deadline));
        if (ready < 0 && errno != EINTR) {
            net::throw_errno("epoll_wait");
        }
        for (int e = 0; e < ready; ++e) {
            const std::size_t i = events[static_cast<std::size_t>(e)].data.u64;
            const auto probe = probe_for(i);
            char buffer[4096];
            const ssize_t n = ::recv(connections[i].get(), buffer, http ? sizeof buffer : probe_size - received[i], 0);
            if (n < 0 && (errno == EINTR || errno == EAGAIN)) {
                continue;
            }
            if (n <= 0) {
                give_up(i, n == 0 ? std::string("closed by the server before the echo") : fmt::format("recv: {}", std::strerror(errno)));
                continue;
            }
            const auto count = static_cast<std::size_t>(n);
            if (http) {
                ResponseReader& response = responses[i];
                const std::size_t used = response.feed(buffer, count);
                if (response.step() == ResponseReader::Step::failed || used < count
                    || (response.step() == ResponseReader::Step::complete && response.status() / 100 != 2)) {
                    give_up(i, response.step() == ResponseReader::Step::failed ? response.error()
                               : used < count ? std::string("bytes after the response")
                                              : fmt::format("answered {}", response.status_line()));
                } else if (response.step() == ResponseReader::Step::complete) {
                    ::epoll_ctl(epoll.get(), EPOLL_CTL_DEL, connections[i].get(), nullptr);
                    --waiting;
                    ++result.answered;
                }
                continue;
            }
            if (std::memcmp(buffer, probe.data() + received[i], count) != 0) {
                give_up(i, "the echo differs from the probe");
                continue;
            }
            received[i] += count;
            if (received[i] == probe_size) {
                ::epoll_ctl(epoll.get(), EPOLL_CTL_DEL, connections[i].get(), nullptr);
                --waiting;
                ++result.answered;
            }
        }
    }
    if (waiting > 0 && result.first_error.empty()) {
        result.first_error = fmt::format("{} connections got no echo in time", waiting);
    }

    // Hold them, idle, and watch the server.
    const auto hold_until = Clock::now() + hold;
    do {
        if (pid) {
            const ProcessSample now = sample_process(*pid);
            ProcessSample largest = result.held.value_or(ProcessSample{});
            largest.rss_kib = std::max(largest.rss_kib, now.rss_kib);
            largest.threads = std::max(largest.threads, now.threads);
            result.held = largest;
        }
        std::this_thread::sleep_for(std::chrono::milliseconds(50));
    } while (Clock::now() < hold_until);
    return result;
}

}  // namespace bench
