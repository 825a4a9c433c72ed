#pragma once
// Running the build and the tests: output captured, a deadline enforced, and
// Ctrl-C (arriving on a signalfd) honoured while we wait.

#include <chrono>
#include <string>
#include <utility>
#include <vector>

namespace workbook {

struct ProcessOptions {
    std::chrono::milliseconds deadline{std::chrono::minutes(5)};
    std::vector<std::pair<std::string, std::string>> environment;  // set or replaced for the child
    bool capture_stderr = true;  // false: the child's stderr goes to /dev/null
    int cancel_fd = -1;          // readable -> stop the child (watch's signalfd)
    std::size_t output_limit = 4u << 20;
};

struct ProcessResult {
    bool exited = false;  // normal exit: exit_code is valid
    int exit_code = -1;
    int signal = 0;  // the signal that ended it, when it did not exit
    bool timed_out = false;  // we killed it at the deadline
    bool cancelled = false;  // we killed it because cancel_fd became readable
    std::string output;  // stdout (and stderr) interleaved as written
    std::chrono::milliseconds elapsed{0};
};

// Runs argv[0] (searched in PATH) with stdin from /dev/null.
[[nodiscard]] ProcessResult run_captured(const std::vector<std::string>& argv, const ProcessOptions& options = {});

// Replaces this process with argv (lesson programs, the pager): the terminal,
// signals and exit status are then theirs. Throws std::system_error on failure.
[[noreturn]] void replace_process(const std::vector<std::string>& argv);

}  // namespace workbook
