#include "http.hpp"

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <sys/epoll.h>
#include <sys/socket.h>

#include <fmt/core.h>

#include "http_response.hpp"
#include "net/error.hpp"
#include "net/log.hpp"

namespace bench {

namespace {

struct Connection {
    int fd = -1;
    std::size_t sent = 0;            // bytes of the request in flight sent so far
    ResponseReader response;
    Clock::time_point started;
    std::uint64_t completed = 0;     // responses, warm-up included
    bool writing = false;            // EPOLLOUT wanted: the last send() was short
    bool done = false;               // ended by an error or a close
};

class Loop {
public:
    Loop(const std::vector<net::Fd>& fds, const HttpOptions& options)
        : epoll_{net::check(::epoll_create1(EPOLL_CLOEXEC), "epoll_create1")}, request_(options.request), scratch_(64 * 1024) {
        connections_.resize(fds.size());
        for (std::size_t i = 0; i < fds.size(); ++i) {
            connections_[i].fd = fds[i].get();
            epoll_event interest{};
            interest.events = EPOLLIN;
            interest.data.u64 = i;
            net::check(::epoll_ctl(epoll_.get(), EPOLL_CTL_ADD, fds[i].get(), &interest), "epoll_ctl");
        }
    }

    HttpResult run(const HttpOptions& options) {
        const auto start = Clock::now();
        measure_from_ = start + options.warmup;
        const auto end = measure_from_ + options.measure;
        for (std::size_t i = 0; i < connections_.size(); ++i) {
            begin_request(i, start);
        }
        std::vector<epoll_event> events(std::min<std::size_t>(connections_.size(), 1024));
        while (Clock::now() < end) {
            const int ready = ::epoll_wait(epoll_.get(), events.data(), static_cast<int>(events.size()), milliseconds_until(end));
            if (ready < 0) {
                if (errno == EINTR) {
                    continue;
                }
                net::throw_errno("epoll_wait");
            }
            for (int e = 0; e < ready; ++e) {
                const epoll_event& event = events[static_cast<std::size_t>(e)];
                const std::size_t i = event.data.u64;
                if ((event.events & (EPOLLIN | EPOLLERR | EPOLLHUP)) != 0) {
                    on_readable(i);
                }
                if (!connections_[i].done && connections_[i].writing && (event.events & EPOLLOUT) != 0) {
                    send_some(i);
                }
            }
        }
        result_.seconds = std::chrono::duration<double>(end - measure_from_).count();
        for (const Connection& connection : connections_) {
            result_.unanswered += connection.completed == 0 ? 1 : 0;
            result_.all_requests += connection.completed;
            result_.failed += connection.done ? 1 : 0;
        }
        result_.latencies_ns = latencies_.take_sorted();
        return std::move(result_);
    }

private:
    void begin_request(std::size_t i, Clock::time_point now) {
        Connection& connection = connections_[i];
        connection.sent = 0;
        connection.started = now;
        connection.response.next();
        send_some(i);
    }

    void send_some(std::size_t i) {
        Connection& connection = connections_[i];
        while (connection.sent < request_.size()) {
            const ssize_t n = ::send(connection.fd, request_.data() + connection.sent, request_.size() - connection.sent,
                                     MSG_NOSIGNAL);
            if (n < 0) {
                if (errno == EINTR) {
                    continue;
                }
                if (errno == EAGAIN) {
                    break;
                }
                fail(i, fmt::format("send: {}", std::strerror(errno)));
                return;
            }
            connection.sent += static_cast<std::size_t>(n);
        }
        const bool want_out = connection.sent < request_.size();
        if (want_out != connection.writing) {
            connection.writing = want_out;
            epoll_event interest{};
            interest.events = EPOLLIN | (want_out ? EPOLLOUT : 0U);
            interest.data.u64 = i;
            net::check(::epoll_ctl(epoll_.get(), EPOLL_CTL_MOD, connection.fd, &interest), "epoll_ctl");
        }
    }

    void on_readable(std::size_t i) {
        Connection& connection = connections_[i];
        if (connection.done) {
            return;
        }
        const ssize_t n = ::recv(connection.fd, scratch_.data(), scratch_.size(), 0);
        if (n < 0) {
            if (errno != EINTR && errno != EAGAIN) {
                fail(i, fmt::format("recv: {}", std::strerror(errno)));
            }
            return;
        }
        if (n == 0) {
            fail(i, fmt::format("the server closed the connection after {}", net::plural(connection.completed, "response")));
            return;
        }
        const auto count = static_cast<std::size_t>(n);
        ResponseReader& response = connection.response;
        const std::size_t used = response.feed(scratch_.data(), count);
        if (response.step() == ResponseReader::Step::failed) {
            fail(i, fmt::format("response {}: {}", connection.completed + 1, response.error()));
            return;
        }
        if (response.step() == ResponseReader::Step::more) {
            return;
        }
        const auto now = Clock::now();
        ++connection.completed;
        if (connection.started >= measure_from_) {
            ++result_.requests;
            result_.bytes += response.bytes();
            result_.body_bytes += response.body_bytes();
            latencies_.record(static_cast<std::uint64_t>(
                std::chrono::duration_cast<std::chrono::nanoseconds>(now - connection.started).count()));
        }
        if (response.status() < 200 || response.status() > 299) {
            if (result_.non2xx++ == 0) {
                result_.first_non2xx = response.status_line();
            }
        }
        // One request in flight: bytes after its response answer nothing that was asked.
        if (used < count) {
            fail(i, fmt::format("{} bytes after response {}, before the next request", count - used, connection.completed));
        } else if (response.close()) {
            fail(i, fmt::format("the server said Connection: close after {}", net::plural(connection.completed, "response")));
        } else {
            begin_request(i, now);
        }
    }

    void fail(std::size_t i, std::string what) {
        Connection& connection = connections_[i];
        connection.done = true;
        ::epoll_ctl(epoll_.get(), EPOLL_CTL_DEL, connection.fd, nullptr);  // fd stays open: no error possible
        if (result_.first_error.empty()) {
            result_.first_error = fmt::format("connection {}: {}", i + 1, what);
        }
    }

    net::Fd epoll_;
    std::string request_;
    std::vector<Connection> connections_;
    std::vector<char> scratch_;
    Clock::time_point measure_from_;
    Latencies latencies_;
    HttpResult result_;
};

}  // namespace

std::string get_request(std::string_view path, std::string_view host) {
    return fmt::format("GET {} HTTP/1.1\r\nHost: {}\r\n\r\n", path, host);
}

HttpResult run_http(const std::vector<net::Fd>& connections, const HttpOptions& options) {
    Loop loop(connections, options);
    return loop.run(options);
}

}  // namespace bench
