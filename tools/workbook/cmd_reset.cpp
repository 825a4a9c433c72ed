// ./workbook reset NN: the pristine stub back, the learner's files kept.
#include <optional>

#include <fmt/core.h>
#include <fmt/ranges.h>

#include "commands.hpp"
#include "files.hpp"
#include "process.hpp"
#include "render.hpp"
#include "verdict.hpp"

namespace workbook {

namespace {

// The stub as it was shipped: the newest version in the git history whose
// SHA-256 is the one exercise.json records.
std::optional<std::string> pristine_from_git(const Course& course, const std::string& relative, const std::string& hash) {
    ProcessOptions quiet;
    quiet.capture_stderr = false;
    quiet.deadline = std::chrono::seconds(30);
    try {
        const ProcessResult commits = run_captured(
            {"git", "-C", course.root().string(), "rev-list", "--max-count=200", "HEAD", "--", relative}, quiet);
        if (!commits.exited || commits.exit_code != 0) {
            return std::nullopt;
        }
        for (const std::string& commit : split_lines(commits.output)) {
            const ProcessResult blob =
                run_captured({"git", "-C", course.root().string(), "cat-file", "blob", commit + ":" + relative}, quiet);
            if (blob.exited && blob.exit_code == 0 && sha256_hex(blob.output) == hash) {
                return blob.output;
            }
        }
    } catch (const std::system_error&) {
        // No git: the caller explains.
    }
    return std::nullopt;
}

bool matches(const std::filesystem::path& file, const std::string& hash) {
    try {
        return sha256_hex(read_file(file)) == hash;
    } catch (const std::system_error&) {
        return false;
    }
}

}  // namespace

int command_reset(const Context& context, const Arguments& arguments) {
    const ParsedArguments parsed = parse_arguments(arguments, {}, 1);
    if (parsed.positional.empty()) {
        throw UsageError("reset needs a lesson: ./workbook reset NN (your files are backed up first)");
    }
    const Course& course = context.course;
    const Lesson& lesson = course.find(parsed.positional.front());
    if (lesson.stub_sha256.empty()) {
        throw std::runtime_error(fmt::format("exercises/{}/exercise.json records no stub hashes: nothing to restore from",
                                             lesson.name));
    }
    // Find every pristine file before touching anything.
    std::vector<std::pair<std::filesystem::path, std::string>> restores;
    for (const auto& [name, hash] : lesson.stub_sha256) {
        const std::filesystem::path file = course.exercise_dir(lesson) / name;
        if (matches(file, hash)) {
            continue;
        }
        const std::string relative = fmt::format("exercises/{}/{}", lesson.name, name);
        auto pristine = pristine_from_git(course, relative, hash);
        if (!pristine) {
            throw std::runtime_error(fmt::format(
                "cannot find the pristine {} in this repository's git history (is this a git clone?); nothing was changed",
                relative));
        }
        restores.emplace_back(file, std::move(*pristine));
    }
    if (restores.empty()) {
        fmt::print("{} is already the pristine stub: nothing to reset.\n", lesson_heading(lesson));
        return 0;
    }
    // Everything the learner has in the folder is copied first; a failed copy
    // throws before any file is replaced.
    const std::filesystem::path backup = unused_path(course.backup_dir(lesson) / timestamp_for_path());
    std::filesystem::create_directories(backup);
    std::vector<std::string> saved;
    for (const auto& entry : std::filesystem::directory_iterator(course.exercise_dir(lesson))) {
        if (entry.is_regular_file()) {
            std::filesystem::copy_file(entry.path(), backup / entry.path().filename());
            saved.push_back(entry.path().filename().string());
        }
    }
    for (const auto& [file, content] : restores) {
        write_file_atomically(file, content);
        fmt::print("restored {} to the pristine stub\n", context.out.paint(Tone::code, course.display(file)));
    }
    fmt::print("your files were backed up to {}/ ({})\n", context.out.paint(Tone::bold, course.display(backup)),
               fmt::join(saved, ", "));
    Progress progress = context.load_progress();
    progress.clear_done(lesson.name);
    progress.save();
    return 0;
}

}  // namespace workbook
