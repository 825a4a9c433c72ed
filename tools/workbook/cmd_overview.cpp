// ./workbook (no command), list, goto, next: where the learner is.
#include <algorithm>
#include <filesystem>

#include <fmt/core.h>

#include "commands.hpp"
#include "render.hpp"
#include "status.hpp"

namespace workbook {

Progress Context::load_progress() const {
    Progress progress = Progress::load(course.progress_file());
    if (!progress.notice().empty()) {
        fmt::print(stderr, "{} {}\n", err.paint(Tone::warning, "warning:"), progress.notice());
    }
    return progress;
}

ParsedArguments parse_arguments(const Arguments& arguments, std::initializer_list<std::string_view> known_flags,
                                std::size_t max_positional) {
    ParsedArguments parsed;
    for (const std::string& argument : arguments) {
        if (argument.starts_with("--")) {
            if (std::find(known_flags.begin(), known_flags.end(), argument) == known_flags.end()) {
                throw UsageError(fmt::format("unknown option {}", argument));
            }
            parsed.flags.insert(argument);
        } else {
            parsed.positional.push_back(argument);
        }
    }
    if (parsed.positional.size() > max_positional) {
        throw UsageError(fmt::format("unexpected argument {}", parsed.positional[max_positional]));
    }
    return parsed;
}

const Lesson& lesson_or_current(const Context& context, const ParsedArguments& parsed) {
    if (!parsed.positional.empty()) {
        return context.course.find(parsed.positional.front());
    }
    return current_lesson(context.course, context.load_progress());
}

void print_progress_bar(const Context& context, const Progress& progress) {
    const int total = static_cast<int>(context.course.lessons().size());
    const int done = lessons_done(context.course, progress);
    constexpr int width = 32;
    const int filled = total == 0 ? 0 : done * width / total;
    fmt::print("{}\n", context.out.paint(Tone::bold, "Network Programming Workbook"));
    fmt::print("  [{}{}] {}/{} done\n", context.out.paint(Tone::good, std::string(static_cast<std::size_t>(filled), '#')),
               std::string(static_cast<std::size_t>(width - filled), '-'), done, total);
}

void print_current_exercise(const Context& context, const Progress& progress) {
    const Course& course = context.course;
    const Lesson& lesson = current_lesson(course, progress);
    const Style& out = context.out;
    const LessonStatus status = lesson_status(course, progress, lesson);
    fmt::print("\n  Current exercise: {}\n", out.paint(Tone::bold, lesson_heading(lesson)));
    if (!lesson.problem.empty()) {
        fmt::print("  {} {}\n", out.paint(Tone::warning, "problem:"), lesson.problem);
    }
    fmt::print("  status:  {}\n", out.paint(status.tone, status.label));
    std::string files;
    for (const auto& file : course.files_to_edit(lesson)) {
        files += (files.empty() ? "" : ", ") + course.display(file);
    }
    fmt::print("  edit:    {}\n", out.paint(Tone::code, files));
    const bool chapter_exists = !lesson.chapter.empty() && std::filesystem::exists(course.root() / lesson.chapter);
    fmt::print("  read:    {}{}\n", lesson.chapter.empty() ? "(no chapter named in exercise.json)" : lesson.chapter,
               chapter_exists ? "" : out.paint(Tone::dim, "  (being written)"));
    fmt::print("  next:    {}   {}\n", out.paint(Tone::bold, "./workbook watch"),
               out.paint(Tone::dim, fmt::format("re-checks on every save (or once: ./workbook check {})", lesson.number)));
}

int command_overview(const Context& context, const Arguments& arguments) {
    (void)parse_arguments(arguments, {}, 0);
    const Progress progress = context.load_progress();
    print_progress_bar(context, progress);
    if (lessons_done(context.course, progress) == static_cast<int>(context.course.lessons().size())) {
        fmt::print("\n  {} Every exercise passes. Well done!\n", context.out.paint(Tone::good, "✓"));
        fmt::print("  Revisit one with ./workbook goto NN, or compare yours with ./workbook solution NN.\n");
        return 0;
    }
    print_current_exercise(context, progress);
    return 0;
}

void print_lesson_list(const Context& context, const Progress& progress) {
    const Course& course = context.course;
    const Lesson& current = current_lesson(course, progress);
    std::size_t title_width = 8;
    for (const Lesson& lesson : course.lessons()) {
        title_width = std::max(title_width, lesson.title.size());
    }
    fmt::print("    {}  {:<{}}  {}\n", "NN", "exercise", title_width, "status");
    for (const Lesson& lesson : course.lessons()) {
        const LessonStatus status = lesson_status(course, progress, lesson);
        const bool is_current = lesson.name == current.name;
        const std::string row = fmt::format("{}  {:<{}}", lesson.number, lesson.title, title_width);
        fmt::print("  {} {}  {}\n", is_current ? context.out.paint(Tone::accent, ">") : " ",
                   context.out.paint(is_current ? Tone::bold : Tone::plain, row), context.out.paint(status.tone, status.label));
    }
    fmt::print("  {}/{} done; > marks the current exercise\n", lessons_done(course, progress), course.lessons().size());
}

int command_list(const Context& context, const Arguments& arguments) {
    (void)parse_arguments(arguments, {}, 0);
    print_lesson_list(context, context.load_progress());
    return 0;
}

int command_goto(const Context& context, const Arguments& arguments) {
    const ParsedArguments parsed = parse_arguments(arguments, {}, 1);
    if (parsed.positional.empty()) {
        throw UsageError("goto needs a lesson number: ./workbook goto NN");
    }
    const Lesson& lesson = context.course.find(parsed.positional.front());
    Progress progress = context.load_progress();
    progress.set_current(lesson.name);
    progress.save();
    print_current_exercise(context, progress);
    return 0;
}

int command_next(const Context& context, const Arguments& arguments) {
    (void)parse_arguments(arguments, {}, 0);
    Progress progress = context.load_progress();
    const Lesson& current = current_lesson(context.course, progress);
    const Lesson* next = context.course.after(current);
    if (next == nullptr) {
        fmt::print("{} is the last exercise; ./workbook list shows them all.\n", lesson_heading(current));
        return 0;
    }
    progress.set_current(next->name);
    progress.save();
    print_current_exercise(context, progress);
    return 0;
}

}  // namespace workbook
