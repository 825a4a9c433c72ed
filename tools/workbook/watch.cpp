// ./workbook watch [--poll]: re-check the current exercise on every save.
#include <chrono>
#include <cstdio>
#include <optional>
#include <poll.h>
#include <unistd.h>

#include <fmt/core.h>

#include "change_watcher.hpp"
#include "net/error.hpp"
#include "check.hpp"
#include "commands.hpp"
#include "render.hpp"
#include "status.hpp"
#include "terminal.hpp"

namespace workbook {

namespace {

using Clock = std::chrono::steady_clock;
// Editors write a file in several steps (create, write, rename), all within
// a few milliseconds: wait until the folder has been quiet this long, then
// check once. Every millisecond here is one a learner waits for the verdict
// that ./workbook check would not make them wait (it was 100 ms).
constexpr std::chrono::milliseconds debounce{20};
constexpr std::chrono::milliseconds poll_interval{500};

class WatchSession {
public:
    WatchSession(const Context& context, bool polling, int cancel_fd)
        : context_(context), polling_(polling), cancel_fd_(cancel_fd),
          lesson_(&current_lesson(context.course, context.load_progress())) {
        start_watching();
    }

    // Returns when the learner quits (q, Ctrl-C) or standard input and every
    // way to continue are gone.
    void run(int signal_fd) {
        check_now();
        bool keys_open = true;
        for (;;) {
            pollfd waits[3] = {{signal_fd, POLLIN, 0}, {keys_open ? STDIN_FILENO : -1, POLLIN, 0}, {watcher_->fd(), POLLIN, 0}};
            const int ready = ::poll(waits, 3, timeout_ms());
            if (ready < 0 && errno == EINTR) {
                continue;
            }
            net::check(ready, "poll");
            if ((waits[0].revents & POLLIN) != 0) {
                return;
            }
            if ((waits[1].revents & (POLLIN | POLLHUP)) != 0) {
                char key = 0;
                const ssize_t got = ::read(STDIN_FILENO, &key, 1);
                if (got <= 0) {
                    keys_open = false;  // stdin closed: keep watching, keys are gone
                } else if (!handle_key(key)) {
                    return;
                }
            }
            if ((waits[2].revents & POLLIN) != 0 || (polling_ && Clock::now() >= next_poll_)) {
                next_poll_ = Clock::now() + poll_interval;
                if (watcher_->changed()) {
                    check_at_ = Clock::now() + debounce;
                }
            }
            if (check_at_ && Clock::now() >= *check_at_) {
                check_now();
            }
        }
    }

private:
    void start_watching() {
        const auto folder = context_.course.exercise_dir(*lesson_);
        if (!polling_) {
            try {
                watcher_ = watch_with_inotify(folder);
                return;
            } catch (const std::system_error& error) {
                fmt::print("{} ({}); polling every {} ms instead\n", context_.out.paint(Tone::warning, "inotify unavailable"),
                           error.what(), poll_interval.count());
                polling_ = true;
            }
        }
        watcher_ = watch_by_polling(folder);
        next_poll_ = Clock::now() + poll_interval;
    }

    [[nodiscard]] int timeout_ms() const {
        std::optional<Clock::time_point> wake = check_at_;
        if (polling_ && (!wake || next_poll_ < *wake)) {
            wake = next_poll_;
        }
        if (!wake) {
            return -1;
        }
        const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(*wake - Clock::now()).count();
        return static_cast<int>(std::max<long long>(0, left + 1));
    }

    void check_now() {
        check_at_.reset();
        if (::isatty(STDOUT_FILENO) == 1) {
            fmt::print("\x1b[2J\x1b[H");  // a fresh screen per verdict, as rustlings does
        }
        fmt::print("{}\n", context_.out.paint(Tone::dim, fmt::format("checking {} ...", lesson_heading(*lesson_))));
        std::fflush(stdout);
        CheckResult result;
        try {
            result = check_lesson(context_.course, *lesson_, {std::chrono::seconds(60), cancel_fd_});
        } catch (const Interrupted&) {
            throw;
        } catch (const std::runtime_error& error) {
            // No tests for this lesson yet, say: keep watching, the learner can move on.
            fmt::print("{} {}\n", context_.out.paint(Tone::bad, "error:"), error.what());
            print_keys();
            return;
        }
        print_verdict(stdout, context_.out, context_.course, *lesson_, result.verdict);
        Progress progress = context_.load_progress();
        record_check(context_.course, progress, *lesson_, result);
        progress.save();
        passed_ = result.verdict.kind == VerdictKind::passed;
        if (passed_) {
            // As rustlings does: a passing exercise moves the watch on to the
            // next unfinished one (b goes back to this one).
            const Lesson* next = next_unfinished(context_.course, progress, *lesson_);
            if (next != nullptr && stay_) {
                fmt::print("\n {} Press n to move on to {}, or keep editing.\n", context_.out.paint(Tone::good, "✓"),
                           lesson_heading(*next));
            } else if (next != nullptr) {
                fmt::print("\n {} Moving on to {}: read {}, then edit {}.\n", context_.out.paint(Tone::good, "✓"),
                           context_.out.paint(Tone::bold, lesson_heading(*next)), next->chapter,
                           context_.course.display(context_.course.exercise_dir(*next)));
                switch_to(*next, progress);
            } else {
                fmt::print("\n {} Every exercise passes. Press q to quit.\n", context_.out.paint(Tone::good, "✓"));
            }
        }
        print_keys();
    }

    // Watches `lesson` from now on; the one left behind is where b goes back to.
    void switch_to(const Lesson& lesson, Progress& progress) {
        previous_ = lesson_;
        stay_ = false;
        progress.set_current(lesson.name);
        progress.save();
        lesson_ = &lesson;
        passed_ = false;
        start_watching();
    }

    void print_keys() {
        fmt::print("\n{}\n", context_.out.paint(Tone::dim, fmt::format("watching {} for saves{} | h hint  l list  n next  "
                                                                      "b back  c check  q quit",
                                                                      context_.course.display(context_.course.exercise_dir(*lesson_)),
                                                                      polling_ ? " (polling)" : "")));
        std::fflush(stdout);
    }

    // False when the learner asked to quit.
    bool handle_key(char key) {
        switch (key) {
        case 'q':
        case 'Q': return false;
        case 'h':
            fmt::print("\n");
            show_next_hint(context_, *lesson_);
            print_keys();
            break;
        case 'l':
            fmt::print("\n");
            print_lesson_list(context_, context_.load_progress());
            print_keys();
            break;
        case 'n': move_on(); break;
        case 'b': go_back(); break;
        case 'c':
        case '\n': check_now(); break;
        default: break;
        }
        return true;
    }

    void move_on() {
        Progress progress = context_.load_progress();
        const Lesson* next = passed_ ? next_unfinished(context_.course, progress, *lesson_) : context_.course.after(*lesson_);
        if (next == nullptr) {
            fmt::print("\n{} is the last exercise.\n", lesson_heading(*lesson_));
            print_keys();
            return;
        }
        switch_to(*next, progress);
        check_now();
    }

    // Back to the exercise the watch moved on from (to polish it further).
    void go_back() {
        if (previous_ == nullptr) {
            return;
        }
        Progress progress = context_.load_progress();
        switch_to(*previous_, progress);
        stay_ = true;  // it passes already: stay on it until n
        check_now();
    }

    const Context& context_;
    bool polling_;
    int cancel_fd_;
    const Lesson* lesson_;
    const Lesson* previous_ = nullptr;  // the one before the last move, for b
    bool stay_ = false;                 // came back with b: a pass does not move on
    std::unique_ptr<ChangeWatcher> watcher_;
    std::optional<Clock::time_point> check_at_;
    Clock::time_point next_poll_{};
    bool passed_ = false;
};

}  // namespace

int command_watch(const Context& context, const Arguments& arguments) {
    const ParsedArguments parsed = parse_arguments(arguments, {"--poll"}, 0);
    const SignalInbox signals;
    const RawKeys keys;
    WatchSession session(context, parsed.has("--poll"), signals.fd());
    try {
        session.run(signals.fd());
    } catch (const Interrupted&) {
        // Ctrl-C during a check: the child was stopped; leave like q does.
    }
    fmt::print("\n");
    return 0;
}

}  // namespace workbook
