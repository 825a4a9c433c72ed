// Tests for exercise 08 — a bounded worker pool and a store it can share
// (exercises/08-threads/store.hpp and pool.hpp). The store is tested from
// threads of this process; the pool over real loopback sockets, with the test
// playing every client. Every wait has a deadline; none is a sleep.
#include <doctest/doctest.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <future>
#include <memory>
#include <poll.h>
#include <string>
#include <sys/syscall.h>
#include <thread>
#include <vector>

#include <fmt/core.h>

#include "08-threads/fixtures.hpp"
#include "harness.hpp"
#include "pool.hpp"
#include "store.hpp"
#include "waits.hpp"

using namespace std::chrono_literals;

using fixtures::LineClient;
using fixtures::PoolServer;
using fixtures::thread_count;

// ---- the store -----------------------------------------------------------------

TEST_CASE("Store: SET, GET, DEL and INCR answer as the contract says") {
    lesson08::Store store;
    CHECK(store.execute("GET pear") == "NOT_FOUND");
    CHECK(store.execute("SET pear a ripe one") == "OK");
    CHECK(store.execute("GET pear") == "VALUE a ripe one");
    CHECK(store.execute("SET pear green") == "OK");
    CHECK(store.execute("GET pear") == "VALUE green");
    CHECK(store.execute("DEL pear") == "DELETED");
    CHECK(store.execute("DEL pear") == "NOT_FOUND");
    CHECK(store.execute("INCR hits") == "VALUE 1");
    CHECK(store.execute("INCR hits") == "VALUE 2");
    CHECK(store.execute("SET n -5") == "OK");
    CHECK(store.execute("INCR n") == "VALUE -4");
    CHECK(store.execute("GET hits") == "VALUE 2");
}

TEST_CASE("Store: malformed commands are answered with ERR lines and change nothing") {
    lesson08::Store store;
    REQUIRE(store.execute("SET fruit pear") == "OK");
    for (const char* command : {"", "FLY away", "get fruit", "GET", "GET fruit extra", "DEL", "INCR",
                                "SET fruit", "SET", "INCR fruit", "SET big 9223372036854775807", "INCR big"}) {
        CAPTURE(command);
        const std::string answer = store.execute(command);
        if (std::string_view(command).starts_with("SET big")) {
            CHECK(answer == "OK");
            continue;
        }
        CHECK(answer.starts_with("ERR "));
    }
    CHECK(store.execute("GET fruit") == "VALUE pear");
    CHECK(store.execute("GET big") == "VALUE 9223372036854775807");
}

TEST_CASE("Store: a second INCR waits while the first is between its read and its write (no lost update)") {
    // The lost update in slow motion: the first INCR stops between reading 0
    // and writing 1 until the second INCR has either finished (no lock: it
    // read 0 too, and one count is lost) or is asleep waiting for the lock.
    std::atomic<bool> first_paused{false};
    std::atomic<pid_t> second_thread{0};
    std::atomic<bool> second_done{false};
    std::atomic<bool> second_seen_waiting{false};
    lesson08::Store store([&] {
        if (first_paused.exchange(true)) {
            return;  // only the first INCR pauses
        }
        const harness::Deadline deadline(2000ms);
        while (!second_done.load() && !deadline.expired()) {
            if (const pid_t tid = second_thread.load(); tid != 0) {
                const harness::ThreadState state = harness::thread_state(tid);
                if (state.asleep && state.syscall == SYS_futex) {
                    second_seen_waiting.store(true);
                    return;
                }
            }
            std::this_thread::sleep_for(1ms);  // polling the kernel's view, as harness waits do
        }
    });
    REQUIRE(store.execute("SET counter 0") == "OK");

    auto first = std::async(std::launch::async, [&] { return store.execute("INCR counter"); });
    const harness::Deadline deadline(2000ms);
    while (!first_paused.load() && first.wait_for(1ms) != std::future_status::ready) {
        REQUIRE_MESSAGE(!deadline.expired(), "the first INCR never reached between_read_and_write");
    }
    if (!first_paused.load()) {
        first.get();  // it returned (or threw) without pausing: report that
        FAIL("INCR returned without calling between_read_and_write");
    }
    auto second = std::async(std::launch::async, [&] {
        second_thread.store(harness::thread_id());
        std::string answer = store.execute("INCR counter");
        second_done.store(true);
        return answer;
    });
    const std::string first_answer = first.get();
    const std::string second_answer = second.get();
    INFO("first INCR answered " << first_answer << ", second " << second_answer);
    CHECK_MESSAGE(second_seen_waiting.load(),
                  "the second INCR ran while the first was between its read and its write: lock the store");
    CHECK(store.execute("GET counter") == "VALUE 2");
}

TEST_CASE("Store: 8 threads x 10,000 INCR give exactly 80,000") {
    lesson08::Store store;
    std::vector<std::future<void>> threads;
    for (int t = 0; t < 8; ++t) {
        threads.push_back(std::async(std::launch::async, [&store] {
            for (int i = 0; i < 10'000; ++i) {
                (void)store.execute("INCR hits");
            }
        }));
    }
    for (auto& thread : threads) {
        thread.get();
    }
    CHECK(store.execute("GET hits") == "VALUE 80000");
}

// ---- the pool ------------------------------------------------------------------

TEST_CASE("serve_pool: 8 clients x 10,000 INCR over the network give exactly 80,000") {
    lesson08::Store store;
    PoolServer server(fixtures::kv_handler(store), {.workers = 8, .queue = 16});
    std::vector<std::future<void>> clients;
    for (int c = 0; c < 8; ++c) {
        clients.push_back(std::async(std::launch::async, [port = server.port()] {
            LineClient client(port);
            std::string batch;
            for (int i = 0; i < 100; ++i) {
                batch += "INCR hits\n";
            }
            for (int round = 0; round < 100; ++round) {
                client.send(batch);
                for (int i = 0; i < 100; ++i) {
                    const std::string answer = client.line(5000ms);
                    if (!answer.starts_with("VALUE ")) {
                        throw std::runtime_error("INCR answered " + answer);
                    }
                }
            }
            client.send("QUIT\n");
            if (client.line() != "BYE") {
                throw std::runtime_error("QUIT was not answered BYE");
            }
        }));
    }
    for (auto& client : clients) {
        client.get();
    }
    CHECK(store.execute("GET hits") == "VALUE 80000");
    CHECK(server.stop() == 8);
}

TEST_CASE("serve_pool: 20 clients that each take 0.5 s are served together, in well under the 10 s one at a time takes") {
    // Each client's service takes half a second (a slow disk, a slow
    // database): a server that serves one client at a time needs 10 s for
    // 20; 8 workers need about 1.5 s. The bound is generous: the point is
    // proven, not timed.
    PoolServer server([](int client) {
        std::this_thread::sleep_for(500ms);  // the slow service itself, not a synchronisation
        fixtures::send_line(client, "done");
    }, {.workers = 8, .queue = 64});
    const auto start = std::chrono::steady_clock::now();
    std::vector<LineClient> clients;
    for (int c = 0; c < 20; ++c) {
        clients.emplace_back(server.port());
    }
    const harness::Deadline deadline(4000ms);
    for (auto& client : clients) {
        CHECK(client.line(std::max(deadline.remaining(), 1ms)) == "done");
    }
    const auto took = std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - start);
    INFO("20 clients took " << took.count() << " ms");
    CHECK(took < 4000ms);
    CHECK(server.stop() == 20);
}

TEST_CASE("serve_pool: 200 clients against 8 workers: the threads stay bounded, every client is served or told ERR busy") {
    constexpr int crowd = 200;
    constexpr std::size_t queue = 16;
    const int threads_before = thread_count();
    // A worker greets its client, then holds it until the client speaks or leaves.
    PoolServer server([](int client) {
        fixtures::send_line(client, "served");
        fixtures::LineReader(client).next();
    }, {.workers = 8, .queue = queue});
    std::vector<harness::Client> clients;
    std::vector<std::string> answers(crowd);
    std::vector<bool> closed(crowd, false);
    for (int c = 0; c < crowd; ++c) {
        clients.push_back(harness::Client::connect(server.port()));
    }
    // Collects what arrives until `done()` holds; each client's answer is its
    // first line. With `release`, a served client is closed as soon as it is
    // served, so that its worker takes the next one from the queue.
    const auto collect = [&](const auto& done, std::string_view step, bool release) {
        const harness::Deadline deadline(5000ms);
        harness::Step named{std::string(step)};
        while (!done()) {
            if (deadline.expired()) {
                throw harness::Timeout(step, deadline.budget());
            }
            std::vector<pollfd> fds;
            std::vector<int> which;
            for (int c = 0; c < crowd; ++c) {
                if (!closed[static_cast<std::size_t>(c)]) {
                    fds.push_back({clients[static_cast<std::size_t>(c)].fd(), POLLIN, 0});
                    which.push_back(c);
                }
            }
            ::poll(fds.data(), fds.size(), 20);
            harness::rethrow_server_failure();
            for (std::size_t i = 0; i < fds.size(); ++i) {
                if (fds[i].revents == 0) {
                    continue;
                }
                const auto c = static_cast<std::size_t>(which[i]);
                std::string more;
                try {
                    more = clients[c].recv_some(100ms);
                } catch (const std::system_error&) {
                    more = "";  // a reset: the server gave up on it
                }
                answers[c] += more;
                closed[c] = more.empty();
                if (release && !closed[c] && answers[c].starts_with("served\n")) {
                    clients[c].close();
                    closed[c] = true;
                }
            }
        }
    };
    const auto count = [&](std::string_view answer) {
        return std::count_if(answers.begin(), answers.end(), [&](const std::string& a) { return a.starts_with(answer); });
    };
    // Every worker holds a client, and all but the clients a full queue may
    // hold have their answer.
    collect([&] {
        return count("served\n") >= 8 && count("served\n") + count("ERR busy\n") >= crowd - static_cast<long>(queue);
    }, "every worker busy, all but the queued clients served or told ERR busy", false);
    const int threads_busy = thread_count();
    INFO("threads: " << threads_before << " before the server, " << threads_busy << " with 200 clients connected");
    CHECK(threads_busy <= threads_before + 8 + 1 + 2);  // workers, the accepting thread, a little slack

    // Let the served clients go: the queued ones get their turn.
    for (int c = 0; c < crowd; ++c) {
        if (answers[static_cast<std::size_t>(c)].starts_with("served\n")) {
            clients[static_cast<std::size_t>(c)].close();
            closed[static_cast<std::size_t>(c)] = true;
        }
    }
    collect([&] { return count("served\n") + count("ERR busy\n") == crowd; }, "every client served or told ERR busy",
            true);
    for (int c = 0; c < crowd; ++c) {
        const std::string& answer = answers[static_cast<std::size_t>(c)];
        CAPTURE(c);
        CHECK((answer.starts_with("served\n") || answer == "ERR busy\n"));
    }
    clients.clear();
    server.stop();
}

TEST_CASE("serve_pool: a handler that throws costs its client, never its worker") {
    // Two workers and three clients whose handler throws: a worker that died
    // with its client would leave nobody to serve the fourth.
    PoolServer server([](int client) {
        fixtures::LineReader lines(client);
        while (const auto line = lines.next()) {
            if (*line == "boom") {
                throw std::runtime_error("this client sent boom");
            }
            fixtures::send_line(client, "ok " + *line);
        }
    }, {.workers = 2, .queue = 8});
    for (int c = 0; c < 3; ++c) {
        CAPTURE(c);
        LineClient bad(server.port());
        bad.send("boom\n");
        bad.raw().expect_eof(2000ms);
    }
    LineClient good(server.port());
    good.send("pear\n");
    CHECK(good.line(2000ms) == "ok pear");
    good.raw().close();
    CHECK(server.stop() == 1);
}

TEST_CASE("serve_pool: a stop lets the client in flight finish, then joins every worker before returning") {
    const int threads_before = thread_count();
    // Shared, not on this stack: a pool that detaches its workers leaves the
    // handler running after this test case has returned.
    auto handler_finished = std::make_shared<std::atomic<bool>>(false);
    auto server = std::make_unique<PoolServer>([handler_finished](int client) {
        fixtures::send_line(client, "ready");
        fixtures::LineReader lines(client);
        if (lines.next() == "go") {
            fixtures::send_line(client, "done");
            lines.next();  // the client is in flight until it says "bye"
        }
        handler_finished->store(true);
    }, lesson08::PoolOptions{.workers = 4, .queue = 4, .grace = 3000ms});
    auto client = std::make_unique<LineClient>(server->port());
    REQUIRE(client->line() == "ready");  // a worker holds it

    PoolServer& running = *server;
    auto stopping = std::async(std::launch::async, [&running] { return running.stop(5000ms); });
    // Wait until the stop is under way: the accepting thread is asleep
    // waiting for the workers (or serve_pool has already returned).
    const pid_t accepting = running.thread_id();
    const harness::Deadline deadline(2000ms);
    while (!running.returned() && !deadline.expired()) {
        const harness::ThreadState state = harness::thread_state(accepting);
        if (state.asleep && state.syscall == SYS_futex) {
            break;
        }
        std::this_thread::sleep_for(1ms);  // polling the kernel's view, as harness waits do
    }
    client->send("go\n");
    CHECK(client->line() == "done");
    // The handler still holds its client (it waits for "bye"), so a pool that
    // drains cannot have returned: give a wrong one time to show it has.
    if (stopping.wait_for(500ms) == std::future_status::ready || running.returned()) {
        // Its detached worker is still in the handler: leave the server and
        // the client alive (leaked) so that it never touches freed memory.
        static_cast<void>(server.release());
        static_cast<void>(client.release());
        FAIL("serve_pool returned while a client was still being served");
    }
    client->send("bye\n");
    CHECK(stopping.get() == 1);
    CHECK(handler_finished->load());
    server.reset();
    // The threads that ran the server and the stop end a moment after they
    // report back; the pool's own must already be gone.
    const harness::Deadline settle(1000ms);
    while (thread_count() > threads_before && !settle.expired()) {
        std::this_thread::sleep_for(1ms);
    }
    CHECK_MESSAGE(thread_count() == threads_before, "threads of the pool are still alive after serve_pool returned");
}

TEST_CASE("serve_pool: a client that never finishes cannot hold a stop past the grace period") {
    PoolServer server([](int client) {
        fixtures::send_line(client, "ready");
        fixtures::LineReader(client).next();  // waits for a line that never comes
    }, {.workers = 2, .queue = 4, .grace = 300ms});
    LineClient silent(server.port());
    REQUIRE(silent.line() == "ready");
    const auto start = std::chrono::steady_clock::now();
    CHECK(server.stop(3000ms) == 1);
    const auto took = std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - start);
    INFO("the stop took " << took.count() << " ms with a 300 ms grace period");
    CHECK(took < 2000ms);
    silent.raw().expect_eof(1000ms);  // cut off: shutdown(SHUT_RDWR), then closed
}
