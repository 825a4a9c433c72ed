#include "process.hpp"

#include <algorithm>
#include <cerrno>
#include <csignal>
#include <cstring>
#include <fcntl.h>
#include <poll.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <fmt/core.h>

#include "net/error.hpp"
#include "net/fd.hpp"

extern char** environ;

namespace workbook {

namespace {

using Clock = std::chrono::steady_clock;

class SpawnActions {
public:
    SpawnActions() { check(::posix_spawn_file_actions_init(&actions_), "posix_spawn_file_actions_init"); }
    ~SpawnActions() { ::posix_spawn_file_actions_destroy(&actions_); }
    SpawnActions(const SpawnActions&) = delete;
    SpawnActions& operator=(const SpawnActions&) = delete;
    posix_spawn_file_actions_t* get() { return &actions_; }

    static void check(int rc, const char* call) {
        if (rc != 0) {
            net::throw_errno(call, rc);
        }
    }

private:
    posix_spawn_file_actions_t actions_{};
};

class SpawnAttributes {
public:
    SpawnAttributes() {
        SpawnActions::check(::posix_spawnattr_init(&attributes_), "posix_spawnattr_init");
        // watch blocks SIGINT for its signalfd; the child must get the usual
        // signals with their default actions, whatever we inherited.
        sigset_t none;
        sigemptyset(&none);
        sigset_t defaults;
        sigemptyset(&defaults);
        for (const int signal : {SIGINT, SIGTERM, SIGHUP, SIGQUIT, SIGPIPE}) {
            sigaddset(&defaults, signal);
        }
        ::posix_spawnattr_setsigmask(&attributes_, &none);
        ::posix_spawnattr_setsigdefault(&attributes_, &defaults);
        ::posix_spawnattr_setflags(&attributes_, POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF);
    }
    ~SpawnAttributes() { ::posix_spawnattr_destroy(&attributes_); }
    SpawnAttributes(const SpawnAttributes&) = delete;
    SpawnAttributes& operator=(const SpawnAttributes&) = delete;
    posix_spawnattr_t* get() { return &attributes_; }

private:
    posix_spawnattr_t attributes_{};
};

std::vector<std::string> child_environment(const std::vector<std::pair<std::string, std::string>>& changes) {
    std::vector<std::string> entries;
    for (char** entry = environ; *entry != nullptr; ++entry) {
        const std::string_view text(*entry);
        const bool replaced = std::any_of(changes.begin(), changes.end(), [&](const auto& change) {
            return text.starts_with(change.first + "=");
        });
        if (!replaced) {
            entries.emplace_back(text);
        }
    }
    for (const auto& [name, value] : changes) {
        entries.push_back(name + "=" + value);
    }
    return entries;
}

std::vector<char*> pointers(std::vector<std::string>& strings) {
    std::vector<char*> result;
    for (std::string& text : strings) {
        result.push_back(text.data());
    }
    result.push_back(nullptr);
    return result;
}

int wait_for_exit(pid_t pid) {
    int status = 0;
    while (::waitpid(pid, &status, 0) < 0) {
        if (errno != EINTR) {
            net::throw_errno("waitpid");
        }
    }
    return status;
}

}  // namespace

ProcessResult run_captured(const std::vector<std::string>& argv, const ProcessOptions& options) {
    const auto started = Clock::now();
    int ends[2];
    net::check(::pipe2(ends, O_CLOEXEC), "pipe2");
    net::Fd reader{ends[0]};
    net::Fd writer{ends[1]};

    SpawnActions actions;
    SpawnActions::check(::posix_spawn_file_actions_addopen(actions.get(), STDIN_FILENO, "/dev/null", O_RDONLY, 0),
                        "posix_spawn_file_actions_addopen");
    SpawnActions::check(::posix_spawn_file_actions_adddup2(actions.get(), writer.get(), STDOUT_FILENO),
                        "posix_spawn_file_actions_adddup2");
    if (options.capture_stderr) {
        SpawnActions::check(::posix_spawn_file_actions_adddup2(actions.get(), writer.get(), STDERR_FILENO),
                            "posix_spawn_file_actions_adddup2");
    } else {
        SpawnActions::check(
            ::posix_spawn_file_actions_addopen(actions.get(), STDERR_FILENO, "/dev/null", O_WRONLY, 0),
            "posix_spawn_file_actions_addopen");
    }
    SpawnAttributes attributes;
    std::vector<std::string> arguments = argv;
    std::vector<std::string> environment = child_environment(options.environment);
    const std::vector<char*> argument_pointers = pointers(arguments);
    const std::vector<char*> environment_pointers = pointers(environment);

    pid_t pid = 0;
    const int rc = ::posix_spawnp(&pid, argument_pointers[0], actions.get(), attributes.get(),
                                  argument_pointers.data(), environment_pointers.data());
    if (rc != 0) {
        net::throw_errno(fmt::format("posix_spawn {}", argv.front()), rc);
    }
    writer.reset();  // the child holds the only write end now: EOF means it is done

    ProcessResult result;
    auto give_up_at = started + options.deadline;
    bool killed = false;
    auto stop_child = [&] {
        ::kill(pid, SIGKILL);
        killed = true;
        // Grandchildren that inherited the pipe could keep it open: wait a moment, no more.
        give_up_at = Clock::now() + std::chrono::seconds(2);
    };
    char buffer[16384];
    for (;;) {
        const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(give_up_at - Clock::now());
        if (left.count() <= 0) {
            if (killed) {
                break;
            }
            result.timed_out = true;
            stop_child();
            continue;
        }
        pollfd waits[2] = {{reader.get(), POLLIN, 0}, {options.cancel_fd, POLLIN, 0}};
        const int ready = ::poll(waits, options.cancel_fd >= 0 ? 2 : 1, static_cast<int>(left.count()));
        if (ready < 0 && errno == EINTR) {
            continue;
        }
        net::check(ready, "poll");
        if (options.cancel_fd >= 0 && (waits[1].revents & POLLIN) != 0 && !killed) {
            result.cancelled = true;
            stop_child();
        }
        if ((waits[0].revents & (POLLIN | POLLHUP | POLLERR)) != 0) {
            const ssize_t got = ::read(reader.get(), buffer, sizeof buffer);
            if (got < 0 && errno == EINTR) {
                continue;
            }
            if (got <= 0) {
                break;  // EOF: every copy of the write end is closed
            }
            const std::size_t room = options.output_limit - std::min(options.output_limit, result.output.size());
            result.output.append(buffer, std::min(room, static_cast<std::size_t>(got)));
        }
    }
    const int status = wait_for_exit(pid);
    result.exited = WIFEXITED(status);
    result.exit_code = result.exited ? WEXITSTATUS(status) : -1;
    result.signal = WIFSIGNALED(status) ? WTERMSIG(status) : 0;
    result.elapsed = std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - started);
    return result;
}

void replace_process(const std::vector<std::string>& argv) {
    std::vector<std::string> arguments = argv;
    const std::vector<char*> argument_pointers = pointers(arguments);
    std::fflush(stdout);
    std::fflush(stderr);
    ::execvp(argument_pointers[0], argument_pointers.data());
    net::throw_errno(fmt::format("exec {}", argv.front()));
}

}  // namespace workbook
