// "does not compile": the first compiler (or linker) error, trimmed to the
// learner's file and line. Compile errors come from g++'s JSON diagnostics
// (the failed compile rerun with -fdiagnostics-format=json); ninja's text is
// read for what that JSON lacks (the linker's errors, and in g++ 12 the
// "In file included from" / "required from here" chain), and for compilers
// without it.
#include <array>
#include <fstream>
#include <regex>
#include <utility>

#include <fmt/core.h>
#include <nlohmann/json.hpp>

#include "verdict.hpp"

namespace workbook {

namespace {

struct Diagnostic {
    std::size_t index = 0;
    CompileError error;
};

// The names g++ spells out in full in linker messages, as a learner writes them.
std::string readable_symbol(std::string symbol) {
    static const std::array<std::pair<std::string_view, std::string_view>, 3> aliases = {{
        {"std::__cxx11::basic_string<char, std::char_traits<char>, std::allocator<char> >", "std::string"},
        {"std::basic_string_view<char, std::char_traits<char> >", "std::string_view"},
        {"std::__cxx11::", "std::"},
    }};
    for (const auto& [long_name, short_name] : aliases) {
        for (std::size_t at = symbol.find(long_name); at != std::string::npos; at = symbol.find(long_name, at)) {
            symbol.replace(at, long_name.size(), short_name);
            at += short_name.size();
        }
    }
    return symbol;
}

std::vector<std::string> excerpt_after(const std::vector<std::string>& lines, std::size_t index) {
    static const std::regex source_line(R"(^\s*\d*\s+\|.*$)");
    std::vector<std::string> excerpt;
    for (std::size_t i = index + 1; i < lines.size() && excerpt.size() < 3; ++i) {
        if (!std::regex_match(lines[i], source_line)) {
            break;
        }
        excerpt.push_back(lines[i]);
    }
    return excerpt;
}

using nlohmann::json;

// Line `number` of `file` (1-based), tabs expanded as g++ expands them.
std::optional<std::string> source_line(const std::filesystem::path& file, int number) {
    std::ifstream in(file);
    std::string line;
    for (int i = 0; i < number && std::getline(in, line); ++i) {
        if (i + 1 == number) {
            std::string expanded;
            for (const char c : line) {
                expanded += c == '\t' ? std::string(8 - expanded.size() % 8, ' ') : std::string(1, c);
            }
            return expanded;
        }
    }
    return std::nullopt;
}

// g++'s two-line excerpt: "   20 |     int x = ;" and its caret line, the
// range underlined with '~' as in the text output.
std::vector<std::string> excerpt_of(const std::filesystem::path& file, const json& location) {
    const json& caret = location["caret"];
    const int line = caret.value("line", 0);
    const auto text = source_line(file, line);
    if (!text) {
        return {};
    }
    const auto column_of = [&](const char* key, int fallback) {
        const auto point = location.find(key);
        return point != location.end() && point->value("line", 0) == line ? point->value("display-column", fallback)
                                                                          : fallback;
    };
    const int at = caret.value("display-column", 1);
    const int from = std::min(at, column_of("start", at));
    const int to = std::max(at, column_of("finish", at));
    std::string marks(static_cast<std::size_t>(std::max(from, 1) - 1), ' ');
    for (int column = from; column <= to; ++column) {
        marks += column == at ? '^' : '~';
    }
    return {fmt::format("{:>5} | {}", line, *text), fmt::format("      | {}", marks)};
}

Verdict compile_verdict(CompileError error) {
    Verdict verdict;
    verdict.kind = VerdictKind::does_not_compile;
    verdict.summary = error.line > 0 ? fmt::format("{}:{}: {}", error.file, error.line, error.message) : error.message;
    verdict.compile_error = std::move(error);
    return verdict;
}

}  // namespace

std::vector<CompileError> read_json_diagnostics(std::string_view diagnostics, std::string_view lesson_name,
                                                std::string_view compile_dir, std::string_view source_root) {
    const json all = json::parse(diagnostics, nullptr, /*allow_exceptions=*/false);
    std::vector<CompileError> errors;
    if (!all.is_array()) {
        return errors;
    }
    const std::string learner_folder = fmt::format("exercises/{}/", lesson_name);
    for (const json& diagnostic : all) {
        const std::string kind = diagnostic.is_object() ? diagnostic.value("kind", "") : "";
        if (kind != "error" && kind != "fatal error") {
            continue;
        }
        CompileError error;
        error.message = diagnostic.value("message", "");
        const auto locations = diagnostic.find("locations");
        if (locations != diagnostic.end() && locations->is_array() && !locations->empty() &&
            locations->front().contains("caret")) {
            const json& location = locations->front();
            const json& caret = location["caret"];
            const std::string file = caret.value("file", "");
            error.file = repository_path(file, compile_dir, source_root);
            error.line = caret.value("line", 0);
            error.column = caret.value("display-column", caret.value("column", 0));
            std::filesystem::path path(file);
            error.excerpt = excerpt_of(
                (path.is_relative() ? std::filesystem::path(compile_dir) / path : path).lexically_normal(), location);
        }
        error.in_learner_file = error.file.starts_with(learner_folder);
        errors.push_back(std::move(error));
    }
    return errors;
}

std::optional<CompileCommand> failed_compile_command(std::string_view ninja_output, std::string_view compile_commands) {
    const json commands = json::parse(compile_commands, nullptr, /*allow_exceptions=*/false);
    if (!commands.is_array()) {
        return std::nullopt;
    }
    for (const std::string& line : split_lines(strip_ansi(ninja_output))) {
        if (!line.starts_with("FAILED: ")) {
            continue;
        }
        // "FAILED: out.o " (ninja 1.11) or "FAILED: [code=1] out.o" (1.12); one output per compile.
        std::string_view outputs = std::string_view(line).substr(8);
        if (outputs.starts_with("[code=")) {
            outputs.remove_prefix(std::min(outputs.size(), outputs.find("] ") + 2));
        }
        while (outputs.ends_with(' ')) {
            outputs.remove_suffix(1);
        }
        for (const json& entry : commands) {
            if (entry.is_object() && entry.value("output", "") == outputs) {
                return CompileCommand{entry.value("directory", ""), entry.value("command", "")};
            }
        }
    }
    return std::nullopt;
}

Verdict verdict_from_build_output(std::string_view output, std::string_view lesson_name, std::string_view build_dir,
                                  std::string_view source_root, std::string_view json_diagnostics) {
    const std::vector<std::string> lines = split_lines(strip_ansi(output));
    const std::string learner_folder = fmt::format("exercises/{}/", lesson_name);
    static const std::regex error_line(R"(^(.+?):(\d+):(\d+): (?:fatal )?error: (.*)$)");
    static const std::regex learner_location(R"(([^\s:]*exercises/[^\s:]+):(\d+)(?::(\d+))?)");

    // Each error with the index of its line in ninja's text (for the chain
    // that led there), found by its "file:line:column: error:" prefix.
    std::vector<Diagnostic> errors;
    const auto text_index = [&](const CompileError& error) {
        const std::string where = fmt::format("{}:{}:", error.line, error.column);
        for (std::size_t i = 0; i < lines.size(); ++i) {
            if (lines[i].find(where) != std::string::npos && lines[i].find("error: ") != std::string::npos &&
                repository_path(lines[i].substr(0, lines[i].find(':')), build_dir, source_root) == error.file) {
                return i;
            }
        }
        return lines.size();
    };
    for (CompileError& error : read_json_diagnostics(json_diagnostics, lesson_name, build_dir, source_root)) {
        const std::size_t index = text_index(error);
        errors.push_back({index, std::move(error)});
    }
    if (errors.empty()) {
        // No JSON (a compiler without it, or no compile to rerun): g++'s text.
        for (std::size_t i = 0; i < lines.size(); ++i) {
            std::smatch match;
            if (std::regex_match(lines[i], match, error_line)) {
                Diagnostic diagnostic{i, {}};
                diagnostic.error.file = repository_path(match[1].str(), build_dir, source_root);
                diagnostic.error.line = std::stoi(match[2].str());
                diagnostic.error.column = std::stoi(match[3].str());
                diagnostic.error.message = match[4].str();
                diagnostic.error.in_learner_file = diagnostic.error.file.starts_with(learner_folder);
                diagnostic.error.excerpt = excerpt_after(lines, i);
                errors.push_back(std::move(diagnostic));
            }
        }
    }
    for (const Diagnostic& diagnostic : errors) {
        if (diagnostic.error.in_learner_file) {
            return compile_verdict(diagnostic.error);
        }
    }
    if (!errors.empty()) {
        // The error is in a header or a test, but something in the learner's
        // file led there ("In file included from", "required from here").
        CompileError error = errors.front().error;
        for (std::size_t i = std::min(errors.front().index, lines.size()); i-- > 0;) {
            std::smatch match;
            if (lines[i].find(learner_folder) != std::string::npos && std::regex_search(lines[i], match, learner_location)) {
                error.message += fmt::format(" (inside {}:{})", error.file, error.line);
                error.file = repository_path(match[1].str(), build_dir, source_root);
                error.line = std::stoi(match[2].str());
                error.column = match[3].matched ? std::stoi(match[3].str()) : 0;
                error.in_learner_file = true;
                error.excerpt.clear();
                break;
            }
        }
        return compile_verdict(std::move(error));
    }
    static const std::regex linker_problem(R"(.*(undefined reference to|multiple definition of) [`'](.*)'.*)");
    for (const std::string& line : lines) {
        std::smatch match;
        if (std::regex_match(line, match, linker_problem)) {
            CompileError error;
            error.message = fmt::format("{} {}", match[1].str(), readable_symbol(match[2].str()));
            Verdict verdict = compile_verdict(std::move(error));
            verdict.report.push_back(match[1].str() == "undefined reference to"
                                         ? "a function the tests call is missing, or its signature differs from the header"
                                         : "a function is defined twice: in two files, or in a header without inline");
            return verdict;
        }
    }
    // Neither a compiler nor a linker message: show what ninja said.
    Verdict verdict;
    verdict.kind = VerdictKind::does_not_compile;
    verdict.summary = "the build failed";
    std::size_t from = 0;
    for (std::size_t i = 0; i < lines.size(); ++i) {
        if (lines[i].starts_with("FAILED: ")) {
            from = i;
            break;
        }
    }
    for (std::size_t i = from; i < lines.size() && verdict.report.size() < 15; ++i) {
        verdict.report.push_back(lines[i]);
    }
    return verdict;
}

}  // namespace workbook
