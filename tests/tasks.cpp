// Unit tests of net::Task, net::spawn and the awaitables of common/net/awaitables.hpp
// (chapter 12). The loop turns on this thread, a bounded number of times.
#include <doctest/doctest.h>

#include <chrono>
#include <stdexcept>
#include <string>
#include <vector>

#include "harness.hpp"
#include "net/awaitables.hpp"
#include "net/event_loop.hpp"
#include "net/task.hpp"
#include "net/tcp.hpp"

using namespace std::chrono_literals;

namespace {

net::Task<int> answer() {
    co_return 42;
}

net::Task<int> fails() {
    throw std::runtime_error("inner failed");
    co_return 0;
}

net::Task<void> awaits_both(std::vector<std::string>& log) {
    log.push_back("answer " + std::to_string(co_await answer()));
    try {
        co_await fails();
    } catch (const std::runtime_error& e) {
        log.push_back(std::string("caught ") + e.what());
    }
}

net::Task<void> note(std::vector<std::string>& log, std::string what) {
    log.push_back(std::move(what));
    co_return;
}

net::Task<void> sleeps(net::EventLoop& loop, std::chrono::milliseconds delay, std::vector<std::string>& log,
                       std::string name) {
    co_await net::sleep(loop, delay);
    log.push_back(std::move(name));
}

net::Task<int> sleeps_then_answers(net::EventLoop& loop, std::chrono::milliseconds delay) {
    co_await net::sleep(loop, delay);
    co_return 7;
}

net::Task<void> times(net::EventLoop& loop, std::chrono::milliseconds limit, std::chrono::milliseconds work,
                      std::vector<std::string>& log) {
    try {
        log.push_back("got " + std::to_string(co_await net::timeout(loop, limit, sleeps_then_answers(loop, work))));
    } catch (const net::TimedOut&) {
        log.push_back("timed out");
    }
}

net::Task<void> throws_later(net::EventLoop& loop) {
    co_await net::sleep(loop, 1ms);
    throw std::runtime_error("nobody awaits me");
}

void turn_until(net::EventLoop& loop, const std::function<bool()>& done) {
    const harness::Deadline deadline(2s);
    while (!done() && !deadline.expired()) {
        loop.run_once(20ms);
    }
}

}  // namespace

TEST_CASE("Task: a value comes back, and an exception reaches the awaiter") {
    std::vector<std::string> log;
    net::Spawned task = net::spawn(awaits_both(log));
    CHECK(task.done());
    CHECK(log == std::vector<std::string>{"answer 42", "caught inner failed"});
}

TEST_CASE("Task: lazy, a task nobody awaits never runs, and destroying it frees its frame") {
    const std::size_t frames = net::live_task_frames();
    std::vector<std::string> log;
    {
        net::Task<void> forgotten = note(log, "ran");
        CHECK(net::live_task_frames() == frames + 1);
    }
    CHECK(log.empty());
    CHECK(net::live_task_frames() == frames);
}

TEST_CASE("spawn: an exception that escapes a spawned task is reported, not lost") {
    net::EventLoop loop;
    std::vector<std::string> reported;
    net::Spawned task = net::spawn(throws_later(loop), [&](std::exception_ptr e) {
        try {
            std::rethrow_exception(e);
        } catch (const std::exception& error) {
            reported.emplace_back(error.what());
        }
    });
    turn_until(loop, [&] { return task.done(); });
    CHECK(reported == std::vector<std::string>{"nobody awaits me"});
}

TEST_CASE("sleep: tasks wake in the order of their deadlines") {
    net::EventLoop loop;
    std::vector<std::string> log;
    net::Spawned slow = net::spawn(sleeps(loop, 60ms, log, "slow"));
    net::Spawned fast = net::spawn(sleeps(loop, 10ms, log, "fast"));
    turn_until(loop, [&] { return slow.done() && fast.done(); });
    CHECK(log == std::vector<std::string>{"fast", "slow"});
}

TEST_CASE("timeout: fires, cancels the task (frame freed, its timer gone); or gives the task's result") {
    net::EventLoop loop;
    const std::size_t frames = net::live_task_frames();
    std::vector<std::string> log;
    net::Spawned late = net::spawn(times(loop, 20ms, 10s, log));
    turn_until(loop, [&] { return late.done(); });
    CHECK(log == std::vector<std::string>{"timed out"});
    CHECK(loop.timers() == 0);  // the 10 s sleep of the cancelled task went with its frame
    CHECK(net::live_task_frames() == frames);
    net::Spawned early = net::spawn(times(loop, 10s, 1ms, log));
    turn_until(loop, [&] { return early.done(); });
    CHECK(log == std::vector<std::string>{"timed out", "got 7"});
    CHECK(loop.timers() == 0);  // the timeout's own timer is cancelled when the task wins
}

TEST_CASE("Spawned::cancel destroys a sleeping task: frame freed, timer cancelled") {
    net::EventLoop loop;
    const std::size_t frames = net::live_task_frames();
    std::vector<std::string> log;
    net::Spawned task = net::spawn(sleeps(loop, 10s, log, "woke"));
    CHECK(loop.timers() == 1);
    task.cancel();
    CHECK(task.done());
    CHECK(loop.timers() == 0);
    CHECK(net::live_task_frames() == frames);
    loop.run_once(0ms);
    CHECK(log.empty());
}

namespace {
net::Task<void> accept_one(net::AsyncListener& listener, std::string& peer) {
    net::Accepted client = co_await listener.accept();
    peer = client.connection.valid() ? "accepted" : "none";
}
}  // namespace

TEST_CASE("AsyncListener: accept waits for a client; destroying it unwatches the listener") {
    net::EventLoop loop;
    const int fds = harness::open_fd_count();
    {
        net::AsyncListener listener(loop, net::listen_tcp("127.0.0.1", 0));
        CHECK(loop.watched() == 1);
        std::string peer;
        net::Spawned task = net::spawn(accept_one(listener, peer));
        CHECK_FALSE(task.done());
        net::Fd client = net::connect_tcp("127.0.0.1", net::local_port(listener.fd()), 2s);
        turn_until(loop, [&] { return task.done(); });
        CHECK(peer == "accepted");
    }
    CHECK(loop.watched() == 0);
    CHECK(harness::open_fd_count() == fds);
}
