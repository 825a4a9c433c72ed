// The JSON Lines event log behind WORKBOOK_EVENTS (see events.hpp): a doctest
// listener writes it, the watchdog and the harness add their timeouts.
#include "events.hpp"

#include <doctest/doctest.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <cxxabi.h>
#include <fcntl.h>
#include <memory>
#include <mutex>
#include <sstream>
#include <string>
#include <unistd.h>
#include <utility>
#include <vector>

#include <fmt/core.h>
#include <nlohmann/json.hpp>

#include "net/fd.hpp"

namespace harness::events {

namespace {

using nlohmann::json;

// The file, and what the events need to know about the running test case.
// One write() per event, so a line is on disk before a crash or an _Exit.
class EventLog {
public:
    static EventLog& instance() {
        static EventLog log;
        return log;
    }

    [[nodiscard]] bool enabled() const { return fd_.valid(); }

    void write(json event) {
        if (!fd_.valid()) {
            return;
        }
        const std::lock_guard lock(mutex_);
        event["case"] = case_name_;
        if (!case_name_.empty() && event["event"] != "case_start" && event["event"] != "case_end") {
            event["subcases"] = subcases_;
        }
        // Bytes that are not UTF-8 (a raw buffer in an expansion) become U+FFFD.
        const std::string line = event.dump(-1, ' ', false, json::error_handler_t::replace) + "\n";
        std::size_t written = 0;
        while (written < line.size()) {
            const ssize_t n = ::write(fd_.get(), line.data() + written, line.size() - written);
            if (n < 0 && errno == EINTR) {
                continue;
            }
            if (n <= 0) {
                return;  // a full disk must not fail the tests; the CLI sees a cut-short log
            }
            written += static_cast<std::size_t>(n);
        }
    }

    // The running case ("" between cases); entering it again (doctest does, once
    // per subcase path) starts its subcases afresh.
    void set_case(std::string name) {
        const std::lock_guard lock(mutex_);
        case_name_ = std::move(name);
        subcases_.clear();
    }
    void subcase_entered(std::string name) {
        const std::lock_guard lock(mutex_);
        subcases_.push_back(std::move(name));
    }
    void subcase_left() {
        const std::lock_guard lock(mutex_);
        if (!subcases_.empty()) {
            subcases_.pop_back();
        }
    }

private:
    EventLog() {
        const char* path = std::getenv("WORKBOOK_EVENTS");
        if (path == nullptr || *path == '\0') {
            return;
        }
        fd_ = net::Fd{::open(path, O_WRONLY | O_CREAT | O_TRUNC | O_APPEND | O_CLOEXEC, 0644)};
        if (!fd_.valid()) {
            fmt::print(stderr, "[workbook] cannot write the events to {}: {}\n", path, std::strerror(errno));
        }
    }

    net::Fd fd_;
    std::mutex mutex_;
    std::string case_name_;
    std::vector<std::string> subcases_;
};

// The dynamic type of the exception being translated, recorded by the
// translator below on the thread that reports it ("" when unknown).
thread_local std::string translated_type;

std::string demangled(const char* name) {
    int status = 0;
    const std::unique_ptr<char, decltype(&std::free)> readable(abi::__cxa_demangle(name, nullptr, nullptr, &status),
                                                               &std::free);
    return status == 0 && readable ? std::string(readable.get()) : std::string(name);
}

// doctest turns an exception into text through its translators; this one
// only notes the exception's type and lets doctest's own text stand.
class TypeRecorder : public doctest::detail::IExceptionTranslator {
public:
    bool translate(doctest::String&) const override {
        const std::type_info* type = abi::__cxa_current_exception_type();
        translated_type = type != nullptr ? demangled(type->name()) : std::string{};
        return false;
    }
};

const TypeRecorder type_recorder;

json exception_json(std::string_view message) {
    json exception{{"type", std::exchange(translated_type, {})}, {"message", message}};
    constexpr std::string_view timed_out = "timed out after ";
    if (exception["type"] == "harness::Timeout" && message.starts_with(timed_out)) {
        // "timed out after 2000 ms: <step>", as harness::Timeout words it.
        const std::size_t ms_end = message.find(" ms: ");
        if (ms_end != std::string_view::npos) {
            exception["waited_ms"] = std::atoi(std::string(message.substr(timed_out.size())).c_str());
            exception["step"] = message.substr(ms_end + 5);
        }
    }
    return exception;
}

// INFO() texts; a Client's transcript ("what went over the wire:" and one
// indented line per entry) goes to "wire", one element per line.
void add_contexts(json& event, const std::vector<std::string>& contexts) {
    constexpr std::string_view wire_heading = "what went over the wire:\n";
    json info = json::array();
    json wire = json::array();
    for (const std::string& context : contexts) {
        if (!std::string_view(context).starts_with(wire_heading)) {
            info.push_back(context);
            continue;
        }
        std::istringstream lines(context.substr(wire_heading.size()));
        for (std::string line; std::getline(lines, line);) {
            wire.push_back(line.starts_with("  ") ? line.substr(2) : line);
        }
    }
    event["info"] = std::move(info);
    event["wire"] = std::move(wire);
}

std::vector<std::string> active_contexts() {
    std::vector<std::string> texts;
    const int count = doctest::IReporter::get_num_active_contexts();
    const doctest::IContextScope* const* contexts = doctest::IReporter::get_active_contexts();
    for (int i = 0; i < count; ++i) {
        std::ostringstream text;
        contexts[i]->stringify(&text);
        texts.push_back(text.str());
    }
    return texts;
}

// Contexts stringified while an exception unwound them, outermost first.
std::vector<std::string> unwound_contexts() {
    std::vector<std::string> texts;
    const int count = doctest::IReporter::get_num_stringified_contexts();
    const doctest::String* contexts = doctest::IReporter::get_stringified_contexts();
    for (int i = count; i > 0; --i) {
        texts.emplace_back(contexts[i - 1].c_str());
    }
    return texts;
}

// doctest puts an assertion's exception text in quotes; the event holds what() itself.
std::string_view unquoted(std::string_view text) {
    if (text.size() >= 2 && text.front() == '"' && text.back() == '"') {
        return text.substr(1, text.size() - 2);
    }
    return text;
}

// doctest's words for an assertion as its console shows them: "REQUIRE( a == b )",
// "CHECK_THROWS_AS( f(), std::runtime_error )".
std::string check_text(const doctest::AssertData& data) {
    const char* macro = doctest::assertString(data.m_at);
    if ((data.m_at & doctest::assertType::is_throws_as) != 0) {
        return fmt::format("{}( {}, {} )", macro, data.m_expr, data.m_exception_type);
    }
    if ((data.m_at & doctest::assertType::is_throws_with) != 0) {
        return fmt::format("{}( {}, \"{}\" )", macro, data.m_expr, data.m_exception_string.c_str());
    }
    return fmt::format("{}( {} )", macro, data.m_expr);
}

struct EventListener : doctest::IReporter {
    explicit EventListener(const doctest::ContextOptions& options) : options_(options) {
        doctest::detail::registerExceptionTranslatorImpl(&type_recorder);
    }

    void report_query(const doctest::QueryData&) override {}

    void test_run_start() override {
        const char* seed = std::getenv("WORKBOOK_SEED");
        EventLog::instance().write({{"event", "run_start"},
                                    {"binary", options_.binary_name.c_str()},
                                    {"seed", seed != nullptr && *seed != '\0' ? json(seed) : json(nullptr)}});
    }

    void test_run_end(const doctest::TestRunStats& stats) override {
        EventLog::instance().write({{"event", "run_end"},
                                    {"cases", stats.numTestCasesPassingFilters},
                                    {"passed", stats.numTestCasesPassingFilters - stats.numTestCasesFailed},
                                    {"failed", stats.numTestCasesFailed},
                                    {"skipped", stats.numTestCases - stats.numTestCasesPassingFilters},
                                    {"asserts", stats.numAsserts},
                                    {"asserts_failed", stats.numAssertsFailed}});
    }

    void test_case_start(const doctest::TestCaseData& data) override {
        EventLog::instance().set_case(data.m_name);
        EventLog::instance().write({{"event", "case_start"}, {"file", data.m_file.c_str()}, {"line", data.m_line}});
    }

    void test_case_reenter(const doctest::TestCaseData& data) override { EventLog::instance().set_case(data.m_name); }

    void test_case_end(const doctest::CurrentTestCaseStats& stats) override {
        EventLog::instance().write({{"event", "case_end"},
                                    {"passed", stats.testCaseSuccess},
                                    {"seconds", stats.seconds},
                                    {"asserts", stats.numAssertsCurrentTest},
                                    {"asserts_failed", stats.numAssertsFailedCurrentTest}});
        EventLog::instance().set_case({});
    }

    void test_case_exception(const doctest::TestCaseException& thrown) override {
        json event{{"event", "exception"}, {"crash", thrown.is_crash}};
        if (thrown.is_crash) {
            event["type"] = "";
            event["message"] = thrown.error_string.c_str();
        } else {
            event.update(exception_json(thrown.error_string.c_str()));
        }
        add_contexts(event, unwound_contexts());
        EventLog::instance().write(std::move(event));
    }

    void subcase_start(const doctest::SubcaseSignature& subcase) override {
        EventLog::instance().subcase_entered(subcase.m_name.c_str());
    }

    void subcase_end() override { EventLog::instance().subcase_left(); }

    void log_assert(const doctest::AssertData& data) override {
        if (!data.m_failed || !EventLog::instance().enabled()) {
            return;
        }
        json event{{"event", "assertion_failed"},
                   {"file", data.m_file},
                   {"line", data.m_line},
                   {"assert", doctest::assertString(data.m_at)},
                   {"warning", (data.m_at & doctest::assertType::is_warn) != 0},
                   {"expression", data.m_expr},
                   {"check", check_text(data)},
                   {"expanded", data.m_decomp.c_str()},
                   {"threw", data.m_threw},
                   {"exception", data.m_threw ? exception_json(unquoted(data.m_exception.c_str())) : json(nullptr)},
                   {"expected_exception", data.m_exception_type != nullptr && *data.m_exception_type != '\0'
                                              ? json(data.m_exception_type)
                                              : json(nullptr)}};
        add_contexts(event, active_contexts());
        EventLog::instance().write(std::move(event));
    }

    void log_message(const doctest::MessageData& message) override {
        if (!EventLog::instance().enabled()) {
            return;
        }
        json event{{"event", "message"},
                   {"file", message.m_file},
                   {"line", message.m_line},
                   {"failed", (message.m_severity & doctest::assertType::is_warn) == 0},
                   {"severity", doctest::failureString(message.m_severity)},
                   {"text", message.m_string.c_str()}};
        add_contexts(event, active_contexts());
        EventLog::instance().write(std::move(event));
    }

    void test_case_skipped(const doctest::TestCaseData&) override {}

private:
    const doctest::ContextOptions& options_;
};

}  // namespace

void watchdog_timeout(std::chrono::seconds limit, std::string_view step) {
    EventLog::instance().write({{"event", "timeout"}, {"limit_seconds", limit.count()}, {"step", step}});
}

void could_not_unblock(std::string_view what, std::string_view step) {
    EventLog::instance().write({{"event", "timeout"}, {"stuck", what}, {"step", step}});
}

}  // namespace harness::events

DOCTEST_REGISTER_LISTENER("workbook-events", 2, harness::events::EventListener);
