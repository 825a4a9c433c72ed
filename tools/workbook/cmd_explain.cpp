// ./workbook explain ERRNO
#include <algorithm>
#include <cstring>
#include <string>
#include <vector>

#include <fmt/core.h>

#include "commands.hpp"
#include "errno_guide.hpp"

namespace workbook {

namespace {

// Word-wraps `text` to `width` columns, every line after the first indented.
std::string wrapped(std::string_view text, std::size_t width, std::size_t indent) {
    std::string out;
    std::size_t column = indent;
    while (!text.empty()) {
        const std::size_t space = text.find(' ');
        const std::string_view word = text.substr(0, space);
        if (column > indent && column + 1 + word.size() > width) {
            out += "\n" + std::string(indent, ' ');
            column = indent;
        } else if (column > indent) {
            out += ' ';
            ++column;
        }
        out += word;
        column += word.size();
        text.remove_prefix(space == std::string_view::npos ? text.size() : space + 1);
    }
    return out;
}

std::string known_names() {
    std::string names;
    for (const ErrnoGuide& guide : errno_guides()) {
        names += (names.empty() ? "" : ", ") + std::string(guide.name);
    }
    return names;
}

}  // namespace

int command_explain(const Context& context, const Arguments& arguments) {
    const ParsedArguments parsed = parse_arguments(arguments, {}, 1);
    if (parsed.positional.empty()) {
        throw UsageError(fmt::format("explain needs an errno name: ./workbook explain ECONNREFUSED (it knows {})",
                                     known_names()));
    }
    const ErrnoGuide* guide = find_errno_guide(parsed.positional.front());
    if (guide == nullptr) {
        throw UsageError(fmt::format("explain does not know {}; it knows {}", parsed.positional.front(), known_names()));
    }
    constexpr std::size_t width = 88;
    constexpr std::size_t indent = 16;
    const Style& out = context.out;
    fmt::print("{}  (errno {}: \"{}\")\n\n", out.paint(Tone::bold, guide->name), guide->value, std::strerror(guide->value));
    fmt::print("  {:<14}{}\n", "In practice:", wrapped(guide->in_practice, width, indent));
    fmt::print("  {:<14}{}\n", "Usual causes:", wrapped(guide->usual_causes, width, indent));
    fmt::print("  {:<14}{}\n", "What to do:", wrapped(guide->what_to_do, width, indent));
    bool first = true;
    std::vector<std::string> shown;
    for (const ChapterPointer& pointer : guide->chapters) {
        const std::filesystem::path chapter = context.course.root() / pointer.chapter;
        const std::string section = find_section(chapter, pointer.keywords);
        std::string where;
        if (!std::filesystem::exists(chapter)) {
            where = fmt::format("{}: {} (chapter being written)", pointer.chapter, pointer.topic);
        } else if (section.empty()) {
            where = fmt::format("{}: {}", pointer.chapter, pointer.topic);
        } else {
            where = fmt::format("{}, section \"{}\"", pointer.chapter, section);
        }
        if (std::find(shown.begin(), shown.end(), where) != shown.end()) {
            continue;
        }
        shown.push_back(where);
        fmt::print("  {:<14}{}\n", first ? "Read:" : "", out.paint(Tone::code, where));
        first = false;
    }
    return 0;
}

}  // namespace workbook
