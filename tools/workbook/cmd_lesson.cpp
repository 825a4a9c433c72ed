// ./workbook hint, read, run, solution: help with one lesson.
#include <algorithm>
#include <cstdlib>
#include <unistd.h>

#include <fmt/core.h>
#include <fmt/ranges.h>

#include "commands.hpp"
#include "files.hpp"
#include "hints.hpp"
#include "process.hpp"
#include "render.hpp"
#include "status.hpp"
#include "workbook_config.hpp"

namespace workbook {

void show_next_hint(const Context& context, const Lesson& lesson) {
    Progress progress = context.load_progress();
    const HintReveal reveal = reveal_next_hint(lesson, progress.hints_shown(lesson.name));
    if (reveal.total == 0) {
        fmt::print("{} has no hints; its chapter is {}\n", lesson_heading(lesson), lesson.chapter);
        return;
    }
    progress.set_hints_shown(lesson.name, reveal.shown);
    progress.save();
    fmt::print("{}\n", context.out.paint(Tone::bold, fmt::format("Hints for {} ({} of {})", lesson_heading(lesson),
                                                                    reveal.shown, reveal.total)));
    for (std::size_t i = 0; i < reveal.visible.size(); ++i) {
        const bool newest = i + 1 == reveal.visible.size() && reveal.revealed_new;
        fmt::print("  {}. {}\n", i + 1, context.out.paint(newest ? Tone::accent : Tone::plain, reveal.visible[i]));
    }
    if (reveal.shown < reveal.total) {
        fmt::print("{}\n", context.out.paint(Tone::dim, fmt::format("  {} more: ./workbook hint {}", reveal.total - reveal.shown,
                                                                     lesson.number)));
    } else {
        fmt::print("{}\n", context.out.paint(Tone::dim, fmt::format("  That was the last hint. Re-read {}, or as a last "
                                                                     "resort: ./workbook solution {} --peek",
                                                                     lesson.chapter, lesson.number)));
    }
}

int command_hint(const Context& context, const Arguments& arguments) {
    show_next_hint(context, lesson_or_current(context, parse_arguments(arguments, {}, 1)));
    return 0;
}

int command_read(const Context& context, const Arguments& arguments) {
    const ParsedArguments parsed = parse_arguments(arguments, {"--print"}, 1);
    const Lesson& lesson = lesson_or_current(context, parsed);
    if (lesson.chapter.empty()) {
        throw std::runtime_error(fmt::format("exercises/{}/exercise.json names no chapter", lesson.name));
    }
    const std::filesystem::path chapter = context.course.root() / lesson.chapter;
    if (!std::filesystem::exists(chapter)) {
        fmt::print("Chapter {} is {}, which is still being written.\n", lesson.number, lesson.chapter);
        fmt::print("Meanwhile the lesson's programs in lessons/{}/ are narrated: ./workbook run {}\n", lesson.name,
                   lesson.number);
        return 1;
    }
    if (!parsed.has("--print")) {
        fmt::print("Chapter {}: {}\n", lesson_heading(lesson), context.out.paint(Tone::code, lesson.chapter));
        fmt::print("  Open it in your editor, or as a web page: ./workbook book --open (the whole book, diagrams drawn),\n");
        fmt::print("  or read it here: ./workbook read {} --print\n", lesson.number);
        return 0;
    }
    if (::isatty(STDOUT_FILENO) == 1) {
        const char* pager = std::getenv("PAGER");
        try {
            replace_process({pager != nullptr && *pager != '\0' ? pager : "less", chapter.string()});
        } catch (const std::system_error&) {
            // No pager: print it instead.
        }
    }
    fmt::print("{}", read_file(chapter));
    return 0;
}

namespace {

std::vector<std::string> lesson_programs(const Context& context, const Lesson& lesson) {
    std::vector<std::string> programs;
    std::error_code error;
    for (const auto& entry : std::filesystem::directory_iterator(context.course.lesson_dir(lesson), error)) {
        // A lesson splits a program into several files when each teaches one
        // idea; only the file with main() names a program.
        if (entry.path().extension() == ".cpp" && read_file(entry.path()).find("int main(") != std::string::npos) {
            programs.push_back(entry.path().stem().string());
        }
    }
    std::sort(programs.begin(), programs.end());
    return programs;
}

void build_target(const Context& context, const std::string& target) {
    const ProcessResult build = run_captured({std::string(config::ninja), "-C", context.course.build().string(), target});
    if (!build.exited || build.exit_code != 0) {
        fmt::print(stderr, "{}", build.output);
        throw std::runtime_error(fmt::format("building {} failed", target));
    }
}

}  // namespace

int command_run(const Context& context, const Arguments& arguments) {
    // Options before the program are ours; everything after it is the program's.
    bool mine = false;
    std::size_t at = 0;
    auto take_mine = [&] {
        for (; at < arguments.size() && arguments[at].starts_with("-"); ++at) {
            if (arguments[at] != "--mine") {
                throw UsageError(fmt::format("unknown option {} (before the program, only --mine)", arguments[at]));
            }
            mine = true;
        }
    };
    take_mine();
    if (at == arguments.size()) {
        throw UsageError("run needs a lesson: ./workbook run NN [program] [args...]");
    }
    const Lesson& lesson = context.course.find(arguments[at++]);
    if (at < arguments.size() && arguments[at] == "--mine") {
        take_mine();
    }
    const std::vector<std::string> programs = lesson_programs(context, lesson);
    if (programs.empty()) {
        throw std::runtime_error(fmt::format("lesson {} has no programs in lessons/{}/", lesson.number, lesson.name));
    }
    std::string program;
    const bool named = at < arguments.size() && !arguments[at].starts_with("-");
    if (named && std::find(programs.begin(), programs.end(), arguments[at]) != programs.end()) {
        program = arguments[at++];
    } else if (!named && programs.size() == 1) {
        program = programs.front();
    } else {
        std::string choices;
        for (const std::string& name : programs) {
            choices += fmt::format("\n  ./workbook run {} {}", lesson.number, name);
        }
        throw UsageError(named ? fmt::format("lesson {} has no program {}; it has:{}", lesson.number, arguments[at], choices)
                               : fmt::format("which program? lesson {} has:{}", lesson.number, choices));
    }
    std::string target = fmt::format("lessons/{}/{}", lesson.name, program);
    if (mine) {
        // A lesson offers the learner's build of a program as PROGRAM-mine,
        // linked against exercise_libs[name] (see tools/workbook/README.md).
        target += "-mine";
        const ProcessResult known = run_captured(
            {std::string(config::ninja), "-C", context.course.build().string(), "-t", "query", target});
        if (!known.exited || known.exit_code != 0) {
            throw std::runtime_error(fmt::format("lesson {} offers no build of {} with your code; "
                                                 "run the reference: ./workbook run {} {}",
                                                 lesson.number, program, lesson.number, program));
        }
    }
    build_target(context, target);
    std::vector<std::string> command{(context.course.build() / target).string()};
    command.insert(command.end(), arguments.begin() + static_cast<std::ptrdiff_t>(at), arguments.end());
    fmt::print(stderr, "{}\n", context.err.paint(Tone::dim, fmt::format("$ {}", fmt::join(command, " "))));
    replace_process(command);
}

int command_solution(const Context& context, const Arguments& arguments) {
    const ParsedArguments parsed = parse_arguments(arguments, {"--peek"}, 1);
    const Lesson& lesson = lesson_or_current(context, parsed);
    Progress progress = context.load_progress();
    if (!progress.is_done(lesson.name)) {
        if (!parsed.has("--peek")) {
            fmt::print("{} does not pass yet, so its solution stays closed: working it out is where the learning is.\n",
                       lesson_heading(lesson));
            fmt::print("  Try ./workbook hint {} first. To look anyway: ./workbook solution {} --peek\n", lesson.number,
                       lesson.number);
            return 1;
        }
        fmt::print("{}\n\n", context.out.paint(Tone::warning, "Peeking before your exercise passes. Read it, close it, then "
                                                              "write yours from memory: copying teaches little."));
        progress.note_solution_peeked(lesson.name);
        progress.save();
    }
    std::error_code error;
    std::vector<std::filesystem::path> files;
    for (const auto& entry : std::filesystem::directory_iterator(context.course.solution_dir(lesson), error)) {
        if (entry.is_regular_file()) {
            files.push_back(entry.path());
        }
    }
    if (files.empty()) {
        throw std::runtime_error(fmt::format("no reference solution in {}", context.course.display(context.course.solution_dir(lesson))));
    }
    std::sort(files.begin(), files.end());
    for (const auto& file : files) {
        fmt::print("{}\n{}\n", context.out.paint(Tone::bold, fmt::format("=== {} ===", context.course.display(file))),
                   read_file(file));
    }
    return 0;
}

}  // namespace workbook
