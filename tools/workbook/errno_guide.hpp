#pragma once
// What the errno values a network programmer meets first mean in practice,
// and where the book covers them (./workbook explain, and failure reports).

#include <filesystem>
#include <span>
#include <string>
#include <string_view>

namespace workbook {

struct ChapterPointer {
    std::string_view chapter;  // "book/src/04-server-lifecycle.md"
    std::string_view topic;    // shown when the chapter has no matching section yet
    std::span<const std::string_view> keywords;  // the section is the one that mentions these first
};

struct ErrnoGuide {
    std::string_view name;  // "ECONNREFUSED"
    int value;
    std::string_view in_practice;
    std::string_view usual_causes;
    std::string_view what_to_do;
    std::span<const ChapterPointer> chapters;
};

[[nodiscard]] std::span<const ErrnoGuide> errno_guides();

// "ECONNREFUSED", "econnrefused", "111" or "Connection refused"; nullptr when unknown.
[[nodiscard]] const ErrnoGuide* find_errno_guide(std::string_view wanted);

// The first guide whose name or strerror() text appears in `text` (an
// exception's what(), say), or nullptr.
[[nodiscard]] const ErrnoGuide* errno_mentioned_in(std::string_view text);

// The heading of the chapter section that covers `keywords` ("" when the
// chapter is not written yet or does not mention them).
[[nodiscard]] std::string find_section(const std::filesystem::path& chapter, std::span<const std::string_view> keywords);

}  // namespace workbook
