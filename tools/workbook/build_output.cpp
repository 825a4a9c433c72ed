// "does not compile": the first compiler (or linker) error, trimmed to the
// learner's file and line.
#include <array>
#include <regex>
#include <utility>

#include <fmt/core.h>

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

Verdict compile_verdict(CompileError error) {
    Verdict verdict;
    verdict.kind = VerdictKind::does_not_compile;
    verdict.summary = error.line > 0 ? fmt::format("{}:{}: {}", error.file, error.line, error.message) : error.message;
    verdict.compile_error = std::move(error);
    return verdict;
}

}  // namespace

Verdict verdict_from_build_output(std::string_view output, std::string_view lesson_name, std::string_view build_dir,
                                  std::string_view source_root) {
    const std::vector<std::string> lines = split_lines(strip_ansi(output));
    const std::string learner_folder = fmt::format("exercises/{}/", lesson_name);
    static const std::regex error_line(R"(^(.+?):(\d+):(\d+): (?:fatal )?error: (.*)$)");
    static const std::regex learner_location(R"(([^\s:]*exercises/[^\s:]+):(\d+)(?::(\d+))?)");

    std::vector<Diagnostic> errors;
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
    for (const Diagnostic& diagnostic : errors) {
        if (diagnostic.error.in_learner_file) {
            return compile_verdict(diagnostic.error);
        }
    }
    if (!errors.empty()) {
        // The error is in a header or a test, but something in the learner's
        // file led there ("In file included from", "required from here").
        CompileError error = errors.front().error;
        for (std::size_t i = errors.front().index; i-- > 0;) {
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
