// herd — the thundering herd, counted.
//
//     herd --loops 4 --connections 200
//
// N threads each run their own epoll loop, and all of them watch ONE shared
// listener. The program then connects to it, one client at a time, slowly
// enough that every loop is asleep when the next client arrives, and counts
// how many loops each new client woke. Twice: with plain EPOLLIN, where every
// loop's thread is woken and all but one find nothing to accept, and with
// EPOLLEXCLUSIVE, where the kernel wakes one (or a few) of them.
//
// The wake-ups are counted as the kernel counts them: voluntary context
// switches of each loop's thread. Counting epoll_wait's returns would hide the
// herd: a woken epoll_wait looks at the listener again before it returns, and
// if another thread already took the client it goes back to sleep, unseen,
// having cost a wake-up all the same. SO_REUSEPORT, which gives each loop a
// listener of its own (et-echo-server --loops), avoids the question altogether.
#include <fcntl.h>
#include <sys/epoll.h>
#include <sys/socket.h>

#include <atomic>
#include <cerrno>
#include <chrono>
#include <fstream>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "net/args.hpp"
#include "net/error.hpp"
#include "net/event_loop.hpp"
#include "net/fd.hpp"
#include "net/log.hpp"
#include "net/tcp.hpp"

namespace {

using namespace std::chrono_literals;

struct Counts {
    std::atomic<std::uint64_t> accepted = 0;
    std::atomic<std::uint64_t> found_nothing = 0;  // woken, and accept4 said EAGAIN
};

// One loop watching the shared listener (level-triggered, as a herd usually is).
class AcceptLoop {
public:
    AcceptLoop(int listener, std::uint32_t events, Counts& counts) : listener_(listener), counts_(counts) {
        loop_.watch(listener_, events, [this](std::uint32_t) { accept_one(); });
    }
    void run() {
        tid_ = ::gettid();
        loop_.run();
    }
    void stop() noexcept { loop_.stop(); }
    [[nodiscard]] std::uint64_t epoll_returns() const noexcept { return loop_.wakeups(); }
    [[nodiscard]] pid_t thread_id() const noexcept { return tid_.load(); }

private:
    void accept_one() {
        const int fd = ::accept4(listener_, nullptr, nullptr, SOCK_NONBLOCK | SOCK_CLOEXEC);
        if (fd < 0) {
            if (errno == EAGAIN || errno == EWOULDBLOCK) {
                ++counts_.found_nothing;  // another loop was quicker: this wake-up was for nothing
                return;
            }
            if (errno == EINTR || net::is_per_client_accept_error(errno)) {
                return;
            }
            net::throw_errno("accept4");
        }
        clients_.emplace_back(fd);  // held until the end, so that every client counts once
        ++counts_.accepted;
    }

    int listener_;
    Counts& counts_;
    std::atomic<pid_t> tid_ = 0;
    net::EventLoop loop_;
    std::vector<net::Fd> clients_;
};

// How many times thread `tid` of this process has gone to sleep of its own
// accord: once per wake-up, for a thread that only ever sleeps in epoll_wait.
std::uint64_t voluntary_switches(pid_t tid) {
    std::ifstream status(fmt::format("/proc/self/task/{}/status", tid));
    std::string line;
    while (std::getline(status, line)) {
        if (line.starts_with("voluntary_ctxt_switches:")) {
            return std::stoull(line.substr(line.find(':') + 1));
        }
    }
    throw std::runtime_error(fmt::format("no voluntary_ctxt_switches in /proc/self/task/{}/status", tid));
}

std::uint64_t total_switches(const std::vector<std::unique_ptr<AcceptLoop>>& loops) {
    std::uint64_t total = 0;
    for (const auto& loop : loops) {
        total += voluntary_switches(loop->thread_id());
    }
    return total;
}

struct Result {
    std::uint64_t wakeups = 0;
    std::uint64_t epoll_returns = 0;
    std::uint64_t accepted = 0;
    std::uint64_t found_nothing = 0;
};

Result measure(const std::string& host, std::uint16_t port_wanted, int loops, int connections,
               std::chrono::microseconds gap, bool exclusive) {
    const net::Fd listener = net::listen_tcp(host, port_wanted);
    net::check(::fcntl(listener.get(), F_SETFL, O_NONBLOCK), "fcntl O_NONBLOCK");
    const std::uint16_t port = net::local_port(listener.get());
    Counts counts;
    const std::uint32_t events = EPOLLIN | (exclusive ? EPOLLEXCLUSIVE : 0u);
    std::vector<std::unique_ptr<AcceptLoop>> accept_loops;
    for (int i = 0; i < loops; ++i) {
        accept_loops.push_back(std::make_unique<AcceptLoop>(listener.get(), events, counts));
    }
    std::vector<std::jthread> threads;
    for (auto& loop : accept_loops) {
        threads.emplace_back([&loop] { loop->run(); });
    }
    for (const auto& loop : accept_loops) {
        while (loop->thread_id() == 0) {
            std::this_thread::sleep_for(gap / 10 + 1us);
        }
    }
    std::this_thread::sleep_for(gap);  // all asleep in epoll_wait
    const std::uint64_t switches_before = total_switches(accept_loops);
    std::uint64_t returns_before = 0;
    for (const auto& loop : accept_loops) {
        returns_before += loop->epoll_returns();
    }

    std::vector<net::Fd> clients;
    for (int i = 0; i < connections; ++i) {
        clients.push_back(net::connect_tcp(host, port, 2s));
        // Until that client is accepted, and a little longer: the loops it
        // woke for nothing go back to sleep before the next one arrives.
        const auto deadline = std::chrono::steady_clock::now() + 2s;
        while (counts.accepted.load() < static_cast<std::uint64_t>(i + 1) && std::chrono::steady_clock::now() < deadline) {
            std::this_thread::sleep_for(gap / 10);
        }
        std::this_thread::sleep_for(gap);
    }
    Result result{.wakeups = total_switches(accept_loops) - switches_before,
                  .accepted = counts.accepted.load(),
                  .found_nothing = counts.found_nothing.load()};
    for (const auto& loop : accept_loops) {
        result.epoll_returns += loop->epoll_returns();
    }
    result.epoll_returns -= returns_before;
    for (auto& loop : accept_loops) {
        loop->stop();
    }
    threads.clear();  // joins
    return result;
}

int run(const net::Args& args) {
    const auto loops = static_cast<int>(args.integer("--loops", 2, 64));
    const auto connections = static_cast<int>(args.integer("--connections", 1, 100'000));
    const std::chrono::microseconds gap{args.integer("--gap-us", 0, 1'000'000)};
    net::log::info("{} loops watch one listener; {} arrive one at a time, {} us apart", loops,
                   net::plural(connections, "client"), gap.count());
    fmt::print("{:<16} {:>6} {:>8} {:>9} {:>20} {:>14} {:>16}\n", "registration", "loops", "clients", "wake-ups",
               "epoll_wait returned", "found nothing", "wake-ups/client");
    for (const bool exclusive : {false, true}) {
        const Result r = measure(args.host(), args.port(), loops, connections, gap, exclusive);
        fmt::print("{:<16} {:>6} {:>8} {:>9} {:>20} {:>14} {:>16.2f}\n", exclusive ? "EPOLLEXCLUSIVE" : "EPOLLIN", loops,
                   r.accepted, r.wakeups, r.epoll_returns, r.found_nothing,
                   static_cast<double>(r.wakeups) / static_cast<double>(std::max<std::uint64_t>(r.accepted, 1)));
    }
    return 0;
}

}  // namespace

int main(int argc, char** argv) {
    const net::Usage usage{
        .program = "herd",
        .summary = "Counts the thundering herd: N epoll loops on one shared listener, woken\n"
                   "by each new client, with plain EPOLLIN and then with EPOLLEXCLUSIVE.",
        .options = {
            {"--loops", "N", "threads, each with its own epoll loop on the shared listener", "4"},
            {"--connections", "N", "clients to connect, one at a time", "200"},
            {"--gap-us", "US", "pause after each client is accepted, so the loops sleep again", "2000"},
        },
    };
    return net::run_main(argc, argv, usage, run);
}
