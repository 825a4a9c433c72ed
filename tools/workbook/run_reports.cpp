// A sanitizer's report in a test run's console output (the sanitizers write
// there, not to the test main's event file).
#include <regex>

#include <fmt/core.h>

#include "verdict.hpp"

namespace workbook {

// The head of an AddressSanitizer / UBSan / LeakSanitizer report, if any.
std::vector<std::string> sanitizer_report(const std::vector<std::string>& lines, std::string_view build_dir,
                                          std::string_view source_root) {
    static const std::regex start(R"(^(?:==\d+==)?(ERROR: \w+Sanitizer.*|WARNING: ThreadSanitizer.*)$)");
    static const std::regex runtime_error(R"(^(.+?):(\d+):(\d+): runtime error: (.*)$)");
    static const std::regex frame(R"(^\s*#(\d+) 0x[0-9a-f]+ in (.*)$)");
    std::vector<std::string> report;
    for (std::size_t i = 0; i < lines.size() && report.empty(); ++i) {
        std::smatch match;
        if (std::regex_match(lines[i], match, runtime_error)) {
            report.push_back(fmt::format("{}:{}: runtime error: {}", repository_path(match[1].str(), build_dir, source_root),
                                         match[2].str(), match[4].str()));
        } else if (std::regex_match(lines[i], match, start)) {
            report.push_back(match[1].str());
            std::size_t j = i + 1;
            while (j < lines.size() && lines[j].empty()) {
                ++j;  // LeakSanitizer: a blank line, then "Direct leak of N byte(s) ... allocated from:"
            }
            for (; j < lines.size() && report.size() < 10 && !lines[j].empty(); ++j) {
                std::smatch frame_match;
                report.push_back(std::regex_match(lines[j], frame_match, frame)
                                     ? fmt::format("  #{} {}", frame_match[1].str(), frame_match[2].str())
                                     : lines[j]);
            }
        }
    }
    return report;
}

}  // namespace workbook
