#pragma once
// The CLI's commands. Each takes the arguments after its name and returns the
// process's exit status; a UsageError means exit status 2 and the usage.

#include <initializer_list>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "course.hpp"
#include "progress.hpp"
#include "style.hpp"

namespace workbook {

struct Context {
    Course course;
    Style out;
    Style err;

    // The progress file; says so on stderr when a corrupt one was set aside.
    [[nodiscard]] Progress load_progress() const;
};

using Arguments = std::vector<std::string>;

// Positional arguments and the flags among `known_flags`; anything else that
// starts with "--" is a UsageError, as are more than `max_positional` others.
struct ParsedArguments {
    std::vector<std::string> positional;
    std::set<std::string, std::less<>> flags;
    [[nodiscard]] bool has(std::string_view flag) const { return flags.contains(flag); }
};
[[nodiscard]] ParsedArguments parse_arguments(const Arguments& arguments,
                                              std::initializer_list<std::string_view> known_flags,
                                              std::size_t max_positional);

// The lesson named by the first positional argument, else the current one.
[[nodiscard]] const Lesson& lesson_or_current(const Context& context, const ParsedArguments& parsed);

int command_overview(const Context& context, const Arguments& arguments);
int command_list(const Context& context, const Arguments& arguments);
int command_goto(const Context& context, const Arguments& arguments);
int command_next(const Context& context, const Arguments& arguments);
int command_check(const Context& context, const Arguments& arguments);
int command_watch(const Context& context, const Arguments& arguments);
int command_hint(const Context& context, const Arguments& arguments);
int command_read(const Context& context, const Arguments& arguments);
int command_run(const Context& context, const Arguments& arguments);
int command_solution(const Context& context, const Arguments& arguments);
int command_reset(const Context& context, const Arguments& arguments);
int command_explain(const Context& context, const Arguments& arguments);

// Shared by the overview, goto/next and watch.
void print_progress_bar(const Context& context, const Progress& progress);
void print_current_exercise(const Context& context, const Progress& progress);
void print_lesson_list(const Context& context, const Progress& progress);
// Prints the hint reveal for `lesson` and records it in the progress file.
void show_next_hint(const Context& context, const Lesson& lesson);

}  // namespace workbook
