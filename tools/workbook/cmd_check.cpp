// ./workbook check [NN]
#include <cstdio>
#include <string_view>

#include <fmt/core.h>

#include "check.hpp"
#include "commands.hpp"
#include "render.hpp"
#include "status.hpp"

namespace workbook {

int command_check(const Context& context, const Arguments& arguments) {
    const ParsedArguments parsed = parse_arguments(arguments, {}, 1);
    const Lesson& lesson = lesson_or_current(context, parsed);
    fmt::print("{}\n", context.out.paint(Tone::dim, fmt::format("checking {} ...", lesson_heading(lesson))));
    std::fflush(stdout);
    const CheckResult result = check_lesson(context.course, lesson);
    print_verdict(stdout, context.out, context.course, lesson, result.verdict);

    Progress progress = context.load_progress();
    record_check(context.course, progress, lesson, result);
    progress.save();
    if (result.verdict.kind != VerdictKind::passed) {
        return 1;
    }
    const Lesson& current = current_lesson(context.course, progress);
    if (lessons_done(context.course, progress) == static_cast<int>(context.course.lessons().size())) {
        fmt::print("\n {} That was the last one: every exercise passes.\n", context.out.paint(Tone::good, "✓"));
    } else if (current.name != lesson.name) {
        // After a lesson done out of order, the next is an earlier one still open: say why.
        const std::string_view why = current.number < lesson.number ? "the first lesson not done yet: " : "";
        fmt::print("\n next: {}{}   read {}, then ./workbook watch\n", why,
                   context.out.paint(Tone::bold, lesson_heading(current)), current.chapter);
    }
    fmt::print("{}\n", context.out.paint(Tone::dim, fmt::format("       compare with the reference: ./workbook solution {}",
                                                                 lesson.number)));
    return 0;
}

}  // namespace workbook
