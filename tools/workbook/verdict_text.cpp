// The verdict labels and the text helpers the output parsers share.
#include <array>
#include <filesystem>
#include <utility>

#include <fmt/core.h>

#include "verdict.hpp"

namespace workbook {

namespace {

constexpr std::array<std::pair<VerdictKind, std::string_view>, 6> labels = {{
    {VerdictKind::passed, "passed"},
    {VerdictKind::not_started, "not started"},
    {VerdictKind::does_not_compile, "does not compile"},
    {VerdictKind::failing, "failing"},
    {VerdictKind::crashed, "crashed"},
    {VerdictKind::timed_out, "timed out"},
}};

}  // namespace

std::string_view verdict_label(VerdictKind kind) {
    for (const auto& [candidate, label] : labels) {
        if (candidate == kind) {
            return label;
        }
    }
    return "failing";
}

std::optional<VerdictKind> verdict_from_label(std::string_view label) {
    for (const auto& [kind, candidate] : labels) {
        if (candidate == label) {
            return kind;
        }
    }
    return std::nullopt;
}

std::string strip_ansi(std::string_view text) {
    std::string plain;
    plain.reserve(text.size());
    for (std::size_t i = 0; i < text.size(); ++i) {
        if (text[i] == '\x1b' && i + 1 < text.size() && text[i + 1] == '[') {
            // CSI: parameters and intermediates, then one final byte in @..~.
            std::size_t end = i + 2;
            while (end < text.size() && (text[end] < '@' || text[end] > '~')) {
                ++end;
            }
            i = end;
            continue;
        }
        plain += text[i];
    }
    return plain;
}

std::vector<std::string> split_lines(std::string_view text) {
    std::vector<std::string> lines;
    std::size_t start = 0;
    while (start < text.size()) {
        std::size_t end = text.find('\n', start);
        if (end == std::string_view::npos) {
            end = text.size();
        }
        std::string_view line = text.substr(start, end - start);
        if (line.ends_with('\r')) {
            line.remove_suffix(1);
        }
        lines.emplace_back(line);
        start = end + 1;
    }
    return lines;
}

std::string repository_path(std::string_view path, std::string_view build_dir, std::string_view source_root) {
    std::filesystem::path where(path);
    if (where.is_relative()) {
        where = std::filesystem::path(build_dir) / where;
    }
    where = where.lexically_normal();
    const std::filesystem::path root = std::filesystem::path(source_root).lexically_normal();
    const std::filesystem::path relative = where.lexically_relative(root);
    if (!relative.empty() && !relative.string().starts_with("..")) {
        return relative.string();
    }
    return where.string();
}

std::string not_started_summary(std::string_view todo_text) {
    // "what: a nudge". The first colon that is not part of a "::" (a
    // qualified name such as FrameDecoder::feed or tls::connect).
    std::size_t colon = todo_text.find(':');
    while (colon != std::string_view::npos && colon + 1 < todo_text.size() && todo_text[colon + 1] == ':') {
        colon = todo_text.find(':', colon + 2);
    }
    if (colon == std::string_view::npos) {
        return fmt::format("{} is not written yet", todo_text);
    }
    const std::size_t task = todo_text.find_first_not_of(' ', colon + 1);
    if (task == std::string_view::npos) {
        return fmt::format("{} is not written yet", todo_text.substr(0, colon));
    }
    return fmt::format("{} is not written yet ({})", todo_text.substr(0, colon), todo_text.substr(task));
}

std::string escape_bytes(std::string_view bytes) {
    std::string out;
    for (const char byte : bytes) {
        const auto c = static_cast<unsigned char>(byte);
        switch (c) {
        case '\n': out += "\\n"; break;
        case '\r': out += "\\r"; break;
        case '\t': out += "\\t"; break;
        case '\\': out += "\\\\"; break;
        case '"': out += "\\\""; break;
        default:
            if (c < 0x20 || c >= 0x7f) {
                out += fmt::format("\\x{:02x}", c);
            } else {
                out += byte;
            }
        }
    }
    return out;
}

}  // namespace workbook
