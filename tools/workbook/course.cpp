#include "course.hpp"

#include <algorithm>
#include <cctype>
#include <cstdlib>
#include <regex>

#include <fmt/core.h>
#include <nlohmann/json.hpp>

#include "files.hpp"
#include "workbook_config.hpp"

namespace workbook {

namespace {

bool is_lesson_folder_name(const std::string& name) {
    static const std::regex pattern(R"(^\d\d-[a-z0-9]+(-[a-z0-9]+)*$)");
    return std::regex_match(name, pattern);
}

bool is_source_file(const std::filesystem::path& path) {
    const std::string extension = path.extension().string();
    const std::string name = path.filename().string();
    return (extension == ".cpp" || extension == ".hpp" || extension == ".h") && !name.starts_with(".");
}

std::filesystem::path from_environment(const char* variable, std::string_view fallback) {
    const char* value = std::getenv(variable);
    return (value != nullptr && *value != '\0') ? std::filesystem::path(value) : std::filesystem::path(fallback);
}

}  // namespace

Lesson load_lesson(const std::filesystem::path& exercise_dir) {
    Lesson lesson;
    lesson.name = exercise_dir.filename().string();
    lesson.number = lesson.name.substr(0, 2);
    lesson.title = lesson.name.substr(3);
    try {
        const auto meta = nlohmann::json::parse(read_file(exercise_dir / "exercise.json"));
        lesson.title = meta.at("title").get<std::string>();
        lesson.chapter = meta.value("chapter", std::string{});
        lesson.hints = meta.value("hints", std::vector<std::string>{});
        lesson.stub_sha256 = meta.value("stub_sha256", std::map<std::string, std::string>{});
        lesson.given = meta.value("given", std::vector<std::string>{});
    } catch (const std::exception& error) {
        lesson.problem = fmt::format("exercises/{}/exercise.json: {}", lesson.name, error.what());
    }
    return lesson;
}

Course::Course(std::filesystem::path root, std::filesystem::path build)
    : root_(std::move(root)), build_(std::move(build)) {
    const std::filesystem::path exercises = root_ / "exercises";
    std::error_code error;
    for (const auto& entry : std::filesystem::directory_iterator(exercises, error)) {
        const std::string name = entry.path().filename().string();
        if (entry.is_directory() && is_lesson_folder_name(name) &&
            std::filesystem::exists(entry.path() / "exercise.json")) {
            lessons_.push_back(load_lesson(entry.path()));
        }
    }
    if (error) {
        throw std::system_error(error, fmt::format("reading {}", exercises.string()));
    }
    std::sort(lessons_.begin(), lessons_.end(), [](const Lesson& a, const Lesson& b) { return a.name < b.name; });
}

Course Course::locate() {
    return Course(from_environment("WORKBOOK_ROOT", config::source_root),
                  from_environment("WORKBOOK_BUILD_DIR", config::build_root));
}

const Lesson* Course::find_by_name(std::string_view name) const {
    const auto found = std::find_if(lessons_.begin(), lessons_.end(), [&](const Lesson& l) { return l.name == name; });
    return found == lessons_.end() ? nullptr : &*found;
}

const Lesson& Course::find(std::string_view wanted) const {
    std::string number(wanted);
    if (number.size() == 1 && std::isdigit(static_cast<unsigned char>(number[0])) != 0) {
        number = "0" + number;
    }
    for (const Lesson& lesson : lessons_) {
        if (lesson.number == number || lesson.name == wanted) {
            return lesson;
        }
    }
    if (lessons_.empty()) {
        throw UsageError(fmt::format("no lesson {}: no exercises found under {}", wanted, display(root_ / "exercises")));
    }
    throw UsageError(fmt::format("no lesson {}; the lessons are {} to {}", wanted, lessons_.front().number,
                                 lessons_.back().number));
}

const Lesson* Course::after(const Lesson& lesson) const {
    const auto found = std::find_if(lessons_.begin(), lessons_.end(), [&](const Lesson& l) { return l.name == lesson.name; });
    if (found == lessons_.end() || std::next(found) == lessons_.end()) {
        return nullptr;
    }
    return &*std::next(found);
}

std::filesystem::path Course::exercise_dir(const Lesson& lesson) const { return root_ / "exercises" / lesson.name; }
std::filesystem::path Course::solution_dir(const Lesson& lesson) const { return root_ / "solutions" / lesson.name; }
std::filesystem::path Course::lesson_dir(const Lesson& lesson) const { return root_ / "lessons" / lesson.name; }
std::filesystem::path Course::progress_file() const { return root_ / ".workbook" / "progress.json"; }
std::filesystem::path Course::backup_dir(const Lesson& lesson) const {
    return root_ / ".workbook" / "backup" / lesson.name;
}

std::vector<std::filesystem::path> Course::exercise_files(const Lesson& lesson) const {
    std::vector<std::filesystem::path> files;
    std::error_code error;
    for (const auto& entry : std::filesystem::directory_iterator(exercise_dir(lesson), error)) {
        if (entry.is_regular_file() && is_source_file(entry.path())) {
            files.push_back(entry.path());
        }
    }
    std::sort(files.begin(), files.end());
    return files;
}

std::vector<std::filesystem::path> Course::files_to_edit(const Lesson& lesson) const {
    std::vector<std::filesystem::path> files;
    for (const auto& [name, hash] : lesson.stub_sha256) {
        if (std::find(lesson.given.begin(), lesson.given.end(), name) == lesson.given.end()) {
            files.push_back(exercise_dir(lesson) / name);
        }
    }
    if (files.empty()) {
        for (const auto& file : exercise_files(lesson)) {
            if (file.extension() == ".cpp") {
                files.push_back(file);
            }
        }
    }
    return files;
}

bool Course::is_pristine(const Lesson& lesson) const {
    if (lesson.stub_sha256.empty()) {
        return false;
    }
    for (const auto& [name, hash] : lesson.stub_sha256) {
        try {
            if (sha256_hex(read_file(exercise_dir(lesson) / name)) != hash) {
                return false;
            }
        } catch (const std::system_error&) {
            return false;
        }
    }
    return true;
}

std::string Course::fingerprint(const Lesson& lesson) const {
    std::string everything;
    for (const auto& file : exercise_files(lesson)) {
        try {
            everything += file.filename().string() + '\0' + read_file(file) + '\0';
        } catch (const std::system_error&) {
            everything += file.filename().string() + "\0<unreadable>\0";
        }
    }
    return sha256_hex(everything);
}

bool Course::has_tests(const Lesson& lesson) const {
    return std::filesystem::is_regular_file(root_ / "tests" / (lesson.name + ".cpp"));
}

std::string Course::test_target(const Lesson& lesson) const { return "tests/test-" + lesson.name + "-exercise"; }

std::filesystem::path Course::test_binary(const Lesson& lesson) const { return build_ / test_target(lesson); }

std::string Course::display(const std::filesystem::path& path) const {
    const std::filesystem::path normal = path.lexically_normal();
    const std::filesystem::path relative = normal.lexically_relative(root_.lexically_normal());
    if (!relative.empty() && !relative.string().starts_with("..")) {
        return relative.string();
    }
    return normal.string();
}

}  // namespace workbook
