#pragma once
// .workbook/progress.json: what the learner has done, keyed by lesson name so
// that adding, renaming or reordering lessons never loses anything. Entries and
// fields this version does not know are kept as they are.
//
//     {
//       "format": 1,
//       "current": "02-tcp-client-server",
//       "lessons": {
//         "01-addresses-and-bytes": {"done": true, "done_at": "2024-01-31T14:25:01Z",
//                                    "last_verdict": "passed", "hints_shown": 1}
//       }
//     }

#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include <nlohmann/json_fwd.hpp>

namespace workbook {

struct CheckRecord {
    std::string verdict;      // "failing", "passed" ... (see verdict_label)
    std::string fingerprint;  // of the learner's files when they were checked
};

class Progress {
public:
    // Reads the file, or starts empty when there is none. A file that is not a
    // progress file is moved aside (progress.json.corrupt-TIMESTAMP) and the
    // learner starts afresh; notice() says so.
    [[nodiscard]] static Progress load(const std::filesystem::path& file);
    // Writes the file atomically (temporary file + rename).
    void save() const;

    [[nodiscard]] const std::string& notice() const noexcept { return notice_; }

    [[nodiscard]] std::optional<std::string> current() const;
    void set_current(std::string_view lesson);

    [[nodiscard]] bool is_done(std::string_view lesson) const;
    void mark_done(std::string_view lesson);
    void clear_done(std::string_view lesson);

    [[nodiscard]] int hints_shown(std::string_view lesson) const;
    void set_hints_shown(std::string_view lesson, int count);

    [[nodiscard]] std::optional<CheckRecord> last_check(std::string_view lesson) const;
    void record_check(std::string_view lesson, const CheckRecord& record);

    void note_solution_peeked(std::string_view lesson);

    [[nodiscard]] const nlohmann::json& data() const noexcept { return *data_; }

    ~Progress();
    Progress(Progress&&) noexcept;
    Progress& operator=(Progress&&) noexcept;

private:
    // The json lives behind a pointer so that this header needs only
    // json_fwd.hpp: the full header costs every includer two seconds of compile.
    Progress(std::filesystem::path file, nlohmann::json data);
    [[nodiscard]] const nlohmann::json* entry(std::string_view lesson) const;
    nlohmann::json& entry_for_update(std::string_view lesson);

    std::filesystem::path file_;
    std::unique_ptr<nlohmann::json> data_;
    std::string notice_;
};

}  // namespace workbook
