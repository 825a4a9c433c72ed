#include "progress.hpp"

#include <algorithm>
#include <type_traits>

#include <fmt/core.h>

#include <nlohmann/json.hpp>

#include "files.hpp"

namespace workbook {

namespace {

constexpr int format_version = 1;

nlohmann::json fresh_progress() {
    return nlohmann::json{{"format", format_version}, {"lessons", nlohmann::json::object()}};
}

// What a progress file must look like for us to trust it; the fields inside a
// lesson's entry are read leniently (a wrong type reads as "not set").
std::string shape_problem(const nlohmann::json& data) {
    if (!data.is_object()) {
        return "it is not a JSON object";
    }
    if (data.contains("current") && !data["current"].is_string()) {
        return "\"current\" is not a string";
    }
    if (data.contains("lessons")) {
        if (!data["lessons"].is_object()) {
            return "\"lessons\" is not an object";
        }
        for (const auto& [name, lesson] : data["lessons"].items()) {
            if (!lesson.is_object()) {
                return fmt::format("the entry for {} is not an object", name);
            }
        }
    }
    return {};
}

template <typename T>
std::optional<T> field(const nlohmann::json* entry, const char* name) {
    if (entry == nullptr || !entry->contains(name)) {
        return std::nullopt;
    }
    const nlohmann::json& value = (*entry)[name];
    if constexpr (std::is_same_v<T, bool>) {
        return value.is_boolean() ? std::optional<T>(value.get<bool>()) : std::nullopt;
    } else if constexpr (std::is_same_v<T, int>) {
        return value.is_number_integer() ? std::optional<T>(value.get<int>()) : std::nullopt;
    } else {
        return value.is_string() ? std::optional<T>(value.get<std::string>()) : std::nullopt;
    }
}

}  // namespace

Progress::Progress(std::filesystem::path file, nlohmann::json data)
    : file_(std::move(file)), data_(std::make_unique<nlohmann::json>(std::move(data))) {}
Progress::~Progress() = default;
Progress::Progress(Progress&&) noexcept = default;
Progress& Progress::operator=(Progress&&) noexcept = default;

Progress Progress::load(const std::filesystem::path& file) {
    if (!std::filesystem::exists(file)) {
        return Progress(file, fresh_progress());
    }
    const std::string text = read_file(file);
    std::string problem;
    nlohmann::json data;
    try {
        data = nlohmann::json::parse(text);
        problem = shape_problem(data);
    } catch (const nlohmann::json::parse_error& error) {
        problem = error.what();
    }
    if (problem.empty()) {
        if (!data.contains("lessons")) {
            data["lessons"] = nlohmann::json::object();
        }
        return Progress(file, std::move(data));
    }
    // Never throw the learner's record away: keep it beside the new one.
    const std::filesystem::path kept = unused_path(file.string() + ".corrupt-" + timestamp_for_path());
    std::filesystem::rename(file, kept);
    Progress fresh(file, fresh_progress());
    fresh.notice_ = fmt::format(
        "{} could not be read ({}); it was moved to {} and your progress starts afresh. "
        "Passing an exercise again marks it done.",
        file.filename().string(), problem, kept.filename().string());
    return fresh;
}

void Progress::save() const { write_file_atomically(file_, data_->dump(2) + "\n"); }

const nlohmann::json* Progress::entry(std::string_view lesson) const {
    const nlohmann::json& lessons = data_->at("lessons");
    const auto found = lessons.find(std::string(lesson));
    return found == lessons.end() ? nullptr : &*found;
}

nlohmann::json& Progress::entry_for_update(std::string_view lesson) {
    nlohmann::json& slot = (*data_)["lessons"][std::string(lesson)];
    if (!slot.is_object()) {
        slot = nlohmann::json::object();
    }
    return slot;
}

std::optional<std::string> Progress::current() const {
    const auto found = data_->find("current");
    if (found == data_->end() || !found->is_string()) {
        return std::nullopt;
    }
    return found->get<std::string>();
}

void Progress::set_current(std::string_view lesson) { (*data_)["current"] = std::string(lesson); }

bool Progress::is_done(std::string_view lesson) const { return field<bool>(entry(lesson), "done").value_or(false); }

void Progress::mark_done(std::string_view lesson) {
    nlohmann::json& slot = entry_for_update(lesson);
    if (!field<bool>(&slot, "done").value_or(false)) {
        slot["done_at"] = iso_time_now();
    }
    slot["done"] = true;
}

void Progress::clear_done(std::string_view lesson) {
    nlohmann::json& slot = entry_for_update(lesson);
    slot["done"] = false;
    slot.erase("done_at");
}

int Progress::hints_shown(std::string_view lesson) const {
    return std::max(0, field<int>(entry(lesson), "hints_shown").value_or(0));
}

void Progress::set_hints_shown(std::string_view lesson, int count) { entry_for_update(lesson)["hints_shown"] = count; }

std::optional<CheckRecord> Progress::last_check(std::string_view lesson) const {
    const auto verdict = field<std::string>(entry(lesson), "last_verdict");
    if (!verdict) {
        return std::nullopt;
    }
    return CheckRecord{*verdict, field<std::string>(entry(lesson), "checked_files").value_or("")};
}

void Progress::record_check(std::string_view lesson, const CheckRecord& record) {
    nlohmann::json& slot = entry_for_update(lesson);
    slot["last_verdict"] = record.verdict;
    slot["checked_files"] = record.fingerprint;
    slot["checked_at"] = iso_time_now();
}

void Progress::note_solution_peeked(std::string_view lesson) { entry_for_update(lesson)["peeked_at_solution"] = true; }

}  // namespace workbook
