// The learner CLI. ./workbook (the launcher) keeps the build current and execs
// this program with the learner's arguments.
#include <array>
#include <cstdio>
#include <exception>
#include <string_view>

#include <fmt/core.h>

#include "commands.hpp"

namespace {

using Handler = int (*)(const workbook::Context&, const workbook::Arguments&);

struct Command {
    std::string_view name;
    Handler handler;
    std::string_view usage;
};

constexpr std::array<Command, 13> commands = {{
    {"list", workbook::command_list, "list                    every exercise with its status"},
    {"check", workbook::command_check, "check [NN] [--asan]     build and test an exercise (default: the current one; --asan: sanitizers)"},
    {"watch", workbook::command_watch, "watch [--poll]          re-check the current exercise on every save"},
    {"hint", workbook::command_hint, "hint [NN]               the next hint, one more each time"},
    {"run", workbook::command_run, "run NN [program] [args] run a lesson's program (--mine: your own build)"},
    {"read", workbook::command_read, "read [NN] [--print]     where the chapter is; --print shows it here"},
    {"reset", workbook::command_reset, "reset NN                restore the pristine stub (your files are backed up)"},
    {"solution", workbook::command_solution, "solution [NN] [--peek]  the reference solution, once yours passes"},
    {"goto", workbook::command_goto, "goto NN                 make NN the current exercise (skipping is fine)"},
    {"next", workbook::command_next, "next                    move on to the exercise after the current one"},
    {"explain", workbook::command_explain, "explain ERRNO           what ECONNREFUSED, EPIPE, EINTR ... mean in practice"},
    {"help", nullptr, "help                    this text"},
    {"test", nullptr, "test [--quick]          the maintainers' full check (run by the ./workbook launcher)"},
}};

void print_usage(std::FILE* out) {
    fmt::print(out, "usage: ./workbook [command]\n\n");
    fmt::print(out, "  {:<24}{}\n", "(no command)", "your progress and the exercise to work on now");
    for (const Command& command : commands) {
        fmt::print(out, "  {}\n", command.usage);
    }
    fmt::print(out, "\nNN is a lesson number (02) or name (02-tcp-client-server). "
                    "Colour only on a terminal; NO_COLOR=1 turns it off.\n");
}

int dispatch(int argc, char** argv) {
    const std::string_view name = argc > 1 ? argv[1] : "";
    const workbook::Arguments arguments(argv + std::min(argc, 2), argv + argc);
    workbook::Context context{workbook::Course::locate(), workbook::Style::for_stream(stdout),
                              workbook::Style::for_stream(stderr)};
    if (name.empty()) {
        return workbook::command_overview(context, arguments);
    }
    if (name == "help" || name == "--help" || name == "-h") {
        print_usage(stdout);
        return 0;
    }
    if (name == "test") {
        throw workbook::UsageError("the maintainers' check is run by the launcher: ./workbook test");
    }
    for (const Command& command : commands) {
        if (command.name == name && command.handler != nullptr) {
            return command.handler(context, arguments);
        }
    }
    throw workbook::UsageError(fmt::format("unknown command {}", name));
}

}  // namespace

int main(int argc, char** argv) {
    const workbook::Style err = workbook::Style::for_stream(stderr);
    try {
        return dispatch(argc, argv);
    } catch (const workbook::UsageError& error) {
        fmt::print(stderr, "{} {}\n\n", err.paint(workbook::Tone::bad, "error:"), error.what());
        print_usage(stderr);
        return 2;
    } catch (const std::exception& error) {
        fmt::print(stderr, "{} {}\n", err.paint(workbook::Tone::bad, "error:"), error.what());
        return 1;
    }
}
