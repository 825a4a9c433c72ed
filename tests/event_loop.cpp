// Unit tests of net::EventLoop (common/net/event_loop.hpp): the loop lessons 10–16 run on.
#include <doctest/doctest.h>

#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <string>
#include <thread>
#include <vector>

#include "harness.hpp"
#include "waits.hpp"
#include "net/error.hpp"
#include "net/event_loop.hpp"
#include "net/fd.hpp"

namespace {

using std::chrono::milliseconds;

struct SocketPair {
    net::Fd a;
    net::Fd b;
    SocketPair() {
        int fds[2];
        net::check(::socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0, fds), "socketpair");
        a.reset(fds[0]);
        b.reset(fds[1]);
    }
};

void write_byte(int fd) { REQUIRE(::write(fd, "x", 1) == 1); }

}  // namespace

TEST_CASE("EventLoop calls a handler when its fd is readable, and not before") {
    net::EventLoop loop;
    SocketPair pair;
    int calls = 0;
    loop.watch(pair.a.get(), EPOLLIN, [&](std::uint32_t events) {
        CHECK((events & EPOLLIN) != 0);
        char byte;
        CHECK(::read(pair.a.get(), &byte, 1) == 1);
        ++calls;
    });
    CHECK(loop.run_once(milliseconds{0}) == 0);
    write_byte(pair.b.get());
    CHECK(loop.run_once(milliseconds{1000}) == 1);
    CHECK(calls == 1);
    CHECK(loop.watched() == 1);
}

TEST_CASE("EventLoop fires timers in deadline order, and a cancelled timer never") {
    net::EventLoop loop;
    std::vector<int> fired;
    // Before the timers are set: a deadline is "20 ms after the call to after()".
    const auto start = net::EventLoop::Clock::now();
    loop.after(milliseconds{20}, [&] { fired.push_back(2); });
    loop.after(milliseconds{5}, [&] { fired.push_back(1); });
    const auto cancelled = loop.after(milliseconds{10}, [&] { fired.push_back(99); });
    loop.cancel(cancelled);
    while (fired.size() < 2 && net::EventLoop::Clock::now() - start < std::chrono::seconds{5}) {
        loop.run_once(milliseconds{1000});
    }
    CHECK(fired == std::vector<int>{1, 2});
    CHECK(net::EventLoop::Clock::now() - start >= milliseconds{20});
    CHECK(loop.timers() == 0);
}

TEST_CASE("EventLoop keeps its timer heap small when a timer is re-armed on every message") {
    net::EventLoop loop;
    auto id = loop.after(milliseconds{60'000}, [] {});
    for (int i = 0; i < 100'000; ++i) {
        loop.cancel(id);
        id = loop.after(milliseconds{60'000}, [] {});
    }
    CHECK(loop.timers() == 1);
    // The heap itself is private; its memory shows as the loop still turning at once.
    CHECK(loop.run_once(milliseconds{0}) == 0);
}

TEST_CASE("EventLoop: a handler may unwatch another fd that is ready in the same turn") {
    net::EventLoop loop;
    SocketPair first;
    SocketPair second;
    int second_calls = 0;
    loop.watch(first.a.get(), EPOLLIN, [&](std::uint32_t) {
        loop.unwatch(first.a.get());
        loop.unwatch(second.a.get());
    });
    loop.watch(second.a.get(), EPOLLIN, [&](std::uint32_t) {
        ++second_calls;
        loop.unwatch(second.a.get());
        loop.unwatch(first.a.get());
    });
    write_byte(first.b.get());
    write_byte(second.b.get());
    CHECK(loop.run_once(milliseconds{1000}) == 1);  // whichever ran first removed the other
    CHECK(loop.watched() == 0);
    CHECK(loop.run_once(milliseconds{0}) == 0);
    CHECK(second_calls <= 1);
}

TEST_CASE("EventLoop: change() adds and drops EPOLLOUT") {
    net::EventLoop loop;
    SocketPair pair;
    int writable = 0;
    loop.watch(pair.a.get(), EPOLLIN, [&](std::uint32_t events) { writable += (events & EPOLLOUT) ? 1 : 0; });
    CHECK(loop.run_once(milliseconds{0}) == 0);
    loop.change(pair.a.get(), EPOLLIN | EPOLLOUT);
    CHECK(loop.run_once(milliseconds{1000}) == 1);
    CHECK(writable == 1);
    loop.change(pair.a.get(), EPOLLIN);
    CHECK(loop.run_once(milliseconds{0}) == 0);
    CHECK_THROWS_AS(loop.change(12345, EPOLLIN), std::logic_error);
    CHECK_THROWS_AS(loop.watch(pair.a.get(), EPOLLIN, [](std::uint32_t) {}), std::logic_error);
}

TEST_CASE("EventLoop: deferred calls run after the turn's handlers, and one deferred inside runs next turn") {
    net::EventLoop loop;
    std::vector<std::string> order;
    loop.defer([&] {
        order.push_back("first");
        loop.defer([&] { order.push_back("second"); });
    });
    CHECK(loop.run_once(milliseconds{1000}) == 1);
    CHECK(order == std::vector<std::string>{"first"});
    CHECK(loop.run_once(milliseconds{1000}) == 1);
    CHECK(order == std::vector<std::string>{"first", "second"});
}

TEST_CASE("EventLoop: stop() from another thread ends run() while it sleeps in epoll_pwait") {
    net::EventLoop loop;
    std::atomic<pid_t> runner_tid = 0;
    std::atomic<bool> returned = false;
    std::thread runner{[&] {
        runner_tid = harness::thread_id();
        loop.run();
        returned = true;
    }};
    struct StopAndJoin {
        net::EventLoop& loop;
        std::thread& thread;
        ~StopAndJoin() {
            loop.stop();
            if (thread.joinable()) {
                thread.join();
            }
        }
    } guard{loop, runner};
    while (runner_tid == 0) {
        std::this_thread::yield();
    }
    harness::wait_until_blocked(runner_tid, "run() sleeps in epoll_pwait", {.in = {SYS_epoll_pwait}});
    loop.stop();
    runner.join();
    CHECK(returned);
}

TEST_CASE("EventLoop: stop() from a handler ends run() after that turn") {
    net::EventLoop loop;
    int turns = 0;
    loop.after(milliseconds{1}, [&] {
        ++turns;
        loop.stop();
    });
    loop.run();
    CHECK(turns == 1);
}
