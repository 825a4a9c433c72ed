// The doctest main every test binary links, compiled once. It adds a watchdog:
// a test case still running after WORKBOOK_TEST_TIMEOUT seconds (default 20)
// ends the run with a report naming the case and the step it was waiting at.
// With WORKBOOK_EVENTS set, the run is also written as JSON Lines (events.cpp).
#define DOCTEST_CONFIG_IMPLEMENT
#include <doctest/doctest.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <cstdlib>
#include <mutex>
#include <string>
#include <thread>

#include <fmt/core.h>

#include "events.hpp"
#include "harness.hpp"

namespace {

class Watchdog {
public:
    static Watchdog& instance() {
        static Watchdog watchdog;
        return watchdog;
    }

    void started(const char* test_name) {
        const std::lock_guard lock(mutex_);
        name_ = test_name;
        started_ = std::chrono::steady_clock::now();
        running_ = true;
        if (!thread_.joinable()) {
            thread_ = std::thread([this] { watch(); });
        }
    }

    void finished() {
        const std::lock_guard lock(mutex_);
        running_ = false;
    }

    void stop() {
        {
            const std::lock_guard lock(mutex_);
            stopping_ = true;
        }
        wake_.notify_all();
        if (thread_.joinable()) {
            thread_.join();
        }
    }

private:
    Watchdog() {
        const char* limit = std::getenv("WORKBOOK_TEST_TIMEOUT");
        if (limit != nullptr && std::atoi(limit) > 0) {
            limit_ = std::chrono::seconds(std::atoi(limit));
        }
    }

    void watch() {
        std::unique_lock lock(mutex_);
        while (!stopping_) {
            wake_.wait_for(lock, std::chrono::milliseconds(100));
            if (running_ && std::chrono::steady_clock::now() - started_ > limit_) {
                const std::string step = harness::current_step();
                harness::events::watchdog_timeout(limit_, step);
                fmt::print(stderr,
                           "\nTIMEOUT: test case \"{}\" was still running after {} s; it was waiting at: {}\n",
                           name_, limit_.count(), step);
                std::fflush(stdout);
                std::fflush(stderr);
                std::_Exit(124);
            }
        }
    }

    std::mutex mutex_;
    std::condition_variable wake_;
    std::thread thread_;
    std::string name_;
    std::chrono::steady_clock::time_point started_;
    std::chrono::seconds limit_{20};
    bool running_ = false;
    bool stopping_ = false;
};

// A doctest listener: it sees each test case start and end, and reports nothing itself.
struct WatchdogListener : doctest::IReporter {
    explicit WatchdogListener(const doctest::ContextOptions&) {}
    void report_query(const doctest::QueryData&) override {}
    void test_run_start() override {}
    void test_run_end(const doctest::TestRunStats&) override {}
    void test_case_start(const doctest::TestCaseData& data) override { Watchdog::instance().started(data.m_name); }
    void test_case_reenter(const doctest::TestCaseData&) override {}
    void test_case_end(const doctest::CurrentTestCaseStats&) override { Watchdog::instance().finished(); }
    void test_case_exception(const doctest::TestCaseException&) override {}
    void subcase_start(const doctest::SubcaseSignature&) override {}
    void subcase_end() override {}
    void log_assert(const doctest::AssertData&) override {}
    void log_message(const doctest::MessageData&) override {}
    void test_case_skipped(const doctest::TestCaseData&) override {}
};

}  // namespace

DOCTEST_REGISTER_LISTENER("workbook-watchdog", 1, WatchdogListener);

int main(int argc, char** argv) {
    // SIGPIPE keeps its default action on purpose: code under test that writes
    // to a vanished peer without MSG_NOSIGNAL dies, and the report says so.
    doctest::Context context;
    context.setOption("no-intro", true);
    context.applyCommandLine(argc, argv);
    const int result = context.run();
    Watchdog::instance().stop();
    return result;
}
