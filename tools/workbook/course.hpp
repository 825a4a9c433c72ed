#pragma once
// The course as the CLI sees it: the repository, the build folder, and the
// lessons discovered from exercises/NN-name/exercise.json.

#include <filesystem>
#include <map>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

namespace workbook {

// A wrong command line: the message, the usage, exit status 2.
class UsageError : public std::runtime_error {
public:
    using std::runtime_error::runtime_error;
};

struct Lesson {
    std::string name;    // "02-tcp-client-server": the key in the progress file
    std::string number;  // "02"
    std::string title;
    std::string chapter;  // relative to the repository: "book/src/02-tcp-client-server.md"
    std::vector<std::string> hints;
    std::map<std::string, std::string> stub_sha256;  // stub file name -> hash of the pristine stub
    std::vector<std::string> given;  // exercise files given complete: not the learner's to edit
    std::string problem;  // why exercise.json could not be read; empty when it was
};

class Course {
public:
    Course(std::filesystem::path root, std::filesystem::path build);
    // From WORKBOOK_ROOT / WORKBOOK_BUILD_DIR, else where meson configured this CLI.
    [[nodiscard]] static Course locate();

    [[nodiscard]] const std::filesystem::path& root() const noexcept { return root_; }
    [[nodiscard]] const std::filesystem::path& build() const noexcept { return build_; }
    [[nodiscard]] const std::vector<Lesson>& lessons() const noexcept { return lessons_; }

    // "2", "02", "02-tcp-client-server"; a UsageError naming the lessons otherwise.
    [[nodiscard]] const Lesson& find(std::string_view wanted) const;
    [[nodiscard]] const Lesson* find_by_name(std::string_view name) const;
    // The lesson after `lesson` in course order, or nullptr for the last one.
    [[nodiscard]] const Lesson* after(const Lesson& lesson) const;

    [[nodiscard]] std::filesystem::path exercise_dir(const Lesson& lesson) const;
    [[nodiscard]] std::filesystem::path solution_dir(const Lesson& lesson) const;
    [[nodiscard]] std::filesystem::path lesson_dir(const Lesson& lesson) const;
    [[nodiscard]] std::filesystem::path progress_file() const;
    [[nodiscard]] std::filesystem::path backup_dir(const Lesson& lesson) const;

    // The learner's source files (.cpp, .hpp, .h) in the exercise folder, sorted.
    [[nodiscard]] std::vector<std::filesystem::path> exercise_files(const Lesson& lesson) const;
    // The files to edit: the stubs named in exercise.json (else every .cpp).
    [[nodiscard]] std::vector<std::filesystem::path> files_to_edit(const Lesson& lesson) const;
    // Every stub still matches the hash recorded in exercise.json.
    [[nodiscard]] bool is_pristine(const Lesson& lesson) const;
    // Changes whenever any of the learner's files changes.
    [[nodiscard]] std::string fingerprint(const Lesson& lesson) const;

    [[nodiscard]] bool has_tests(const Lesson& lesson) const;
    // The ninja target and binary of the tests linked against the learner's code.
    [[nodiscard]] std::string test_target(const Lesson& lesson) const;
    [[nodiscard]] std::filesystem::path test_binary(const Lesson& lesson) const;

    // `path` relative to the repository when it is inside it, for messages.
    [[nodiscard]] std::string display(const std::filesystem::path& path) const;

private:
    std::filesystem::path root_;
    std::filesystem::path build_;
    std::vector<Lesson> lessons_;
};

// Reads one exercise.json; problems are recorded in Lesson::problem, not thrown.
[[nodiscard]] Lesson load_lesson(const std::filesystem::path& exercise_dir);

}  // namespace workbook
