// lost-update — 8 threads each add 1 to a shared counter 10,000 times. The
// total should be 80,000 (chapter 08, "Lost updates").
//
//     lost-update              read, add, write: counts get lost
//     lost-update --lock       the same three steps under a std::mutex: 80,000
//
// Between the read and the write each thread yields the CPU, which widens a
// window of a few nanoseconds into one the scheduler hits every time (a
// preemption at that moment does the same, just rarely).
//
// Each step on its own is safe here (the counter is a std::atomic, so there is
// no undefined behaviour): what breaks is that another thread can run between
// the read and the write. INCR in kv-store.hpp has exactly these three steps.
#include <atomic>
#include <cstddef>
#include <latch>
#include <mutex>
#include <thread>
#include <vector>

#include "net/args.hpp"
#include "net/log.hpp"

namespace {

int run(const net::Args& args) {
    const auto threads = static_cast<std::size_t>(args.integer("--threads", 1, 256));
    const auto increments = args.integer("--increments", 1, 100'000'000);
    const bool lock = args.flag("--lock");
    const bool widen = !args.flag("--no-yield");

    std::atomic<long long> counter{0};
    std::mutex mutex;
    const auto increment = [&] {
        const std::unique_lock guard = lock ? std::unique_lock(mutex) : std::unique_lock<std::mutex>();
        const long long seen = counter.load();  // 1. read
        if (widen) {
            std::this_thread::yield();  // let another thread run right here, as a preemption might
        }
        counter.store(seen + 1);  // 2. add, 3. write: whatever others wrote since step 1 is lost
    };

    // Every thread waits at the start line until all are there: started one
    // by one, the first would be done before the last began.
    std::latch start_line(static_cast<std::ptrdiff_t>(threads));
    std::vector<std::thread> workers;
    for (std::size_t t = 0; t < threads; ++t) {
        workers.emplace_back([&] {
            start_line.arrive_and_wait();
            for (long long i = 0; i < increments; ++i) {
                increment();
            }
        });
    }
    for (std::thread& worker : workers) {
        worker.join();
    }
    const long long expected = static_cast<long long>(threads) * increments;
    const long long lost = expected - counter.load();
    net::log::info("{} x {} increments {}: counter = {} (expected {})", net::plural(threads, "thread"), increments,
                   lock ? "under a mutex" : "without a lock", counter.load(), expected);
    if (lost > 0) {
        net::log::warn("{} lost: two threads read the same value and both wrote value + 1", net::plural(lost, "update"));
    } else {
        net::log::good("no update lost");
    }
    return 0;
}

}  // namespace

int main(int argc, char** argv) {
    const net::Usage usage{
        .program = "lost-update",
        .summary = "Threads add 1 to a shared counter with a separate read and write, and lose\n"
                   "updates; --lock makes read-add-write one step and loses none.",
        .network = false,
        .options = {{"--threads", "N", "threads", "8"},
                    {"--increments", "N", "increments per thread", "10000"},
                    {"--lock", "", "hold a std::mutex from the read to the write"},
                    {"--no-yield", "", "do not yield between the read and the write (losses get rarer, not impossible)"}},
    };
    return net::run_main(argc, argv, usage, run);
}
