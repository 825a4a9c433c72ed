// .workbook/progress.json: atomic, keyed by lesson name, never loses what it
// does not understand, and survives a corrupt file.
#include <doctest/doctest.h>

#include <nlohmann/json.hpp>

#include "files.hpp"
#include "progress.hpp"
#include "scratch_dir.hpp"

namespace {

nlohmann::json read_json(const std::filesystem::path& path) { return nlohmann::json::parse(workbook::read_file(path)); }

std::vector<std::string> names_in(const std::filesystem::path& folder) {
    std::vector<std::string> names;
    for (const auto& entry : std::filesystem::directory_iterator(folder)) {
        names.push_back(entry.path().filename().string());
    }
    std::sort(names.begin(), names.end());
    return names;
}

}  // namespace

TEST_CASE("no file yet: an empty progress, and save creates the folder and the file") {
    const workbook::testing::ScratchDir scratch;
    const auto file = scratch.path() / ".workbook" / "progress.json";
    auto progress = workbook::Progress::load(file);
    CHECK(progress.notice().empty());
    CHECK_FALSE(progress.current());
    CHECK_FALSE(progress.is_done("02-tcp-client-server"));
    progress.save();
    const auto saved = read_json(file);
    CHECK(saved["format"] == 1);
    CHECK(saved["lessons"].is_object());
}

TEST_CASE("what is recorded comes back after save and load") {
    const workbook::testing::ScratchDir scratch;
    const auto file = scratch.path() / "progress.json";
    {
        auto progress = workbook::Progress::load(file);
        progress.set_current("03-byte-streams");
        progress.mark_done("02-tcp-client-server");
        progress.set_hints_shown("03-byte-streams", 2);
        progress.record_check("03-byte-streams", {"failing", "abc123"});
        progress.save();
    }
    const auto progress = workbook::Progress::load(file);
    CHECK(progress.current() == "03-byte-streams");
    CHECK(progress.is_done("02-tcp-client-server"));
    CHECK_FALSE(progress.is_done("03-byte-streams"));
    CHECK(progress.hints_shown("03-byte-streams") == 2);
    REQUIRE(progress.last_check("03-byte-streams"));
    CHECK(progress.last_check("03-byte-streams")->verdict == "failing");
    CHECK(progress.last_check("03-byte-streams")->fingerprint == "abc123");
    CHECK(read_json(file)["lessons"]["02-tcp-client-server"]["done_at"].is_string());
}

TEST_CASE("entries and fields it does not know are kept, whatever the course looks like now") {
    const workbook::testing::ScratchDir scratch;
    const auto file = scratch.path() / "progress.json";
    scratch.write("progress.json", R"({
        "format": 1, "theme": "dark", "current": "07-renamed-lesson",
        "lessons": {
            "07-renamed-lesson": {"done": true, "stars": 3},
            "02-tcp-client-server": {"done": false, "notes": "try MSG_NOSIGNAL"}
        }
    })");
    auto progress = workbook::Progress::load(file);
    CHECK(progress.notice().empty());
    progress.mark_done("02-tcp-client-server");
    progress.set_current("03-byte-streams");
    progress.save();
    const auto saved = read_json(file);
    CHECK(saved["theme"] == "dark");
    CHECK(saved["lessons"]["07-renamed-lesson"] == nlohmann::json{{"done", true}, {"stars", 3}});
    CHECK(saved["lessons"]["02-tcp-client-server"]["notes"] == "try MSG_NOSIGNAL");
    CHECK(saved["lessons"]["02-tcp-client-server"]["done"] == true);
}

TEST_CASE("a corrupt file: a clear notice, kept aside byte for byte, and a fresh start") {
    const workbook::testing::ScratchDir scratch;
    const auto file = scratch.path() / "progress.json";
    const std::string garbage = "{\"lessons\": {\"01-addresses-and-bytes\": {\"done\": tr";
    scratch.write("progress.json", garbage);
    auto progress = workbook::Progress::load(file);
    CHECK(progress.notice().find("progress.json could not be read") != std::string::npos);
    CHECK(progress.notice().find("progress.json.corrupt-") != std::string::npos);
    CHECK_FALSE(progress.is_done("01-addresses-and-bytes"));
    const auto names = names_in(scratch.path());
    REQUIRE(names.size() == 1);
    CHECK(names[0].starts_with("progress.json.corrupt-"));
    CHECK(workbook::read_file(scratch.path() / names[0]) == garbage);
    progress.mark_done("01-addresses-and-bytes");
    progress.save();
    CHECK(workbook::Progress::load(file).is_done("01-addresses-and-bytes"));
}

TEST_CASE("valid JSON of the wrong shape is corrupt too, and two corrupt files do not collide") {
    const workbook::testing::ScratchDir scratch;
    const auto file = scratch.path() / "progress.json";
    for (const std::string_view shape : {R"([1, 2])", R"({"lessons": []})", R"({"lessons": {"01-a": 5}})",
                                         R"({"current": 7})"}) {
        CAPTURE(shape);
        scratch.write("progress.json", shape);
        CHECK_FALSE(workbook::Progress::load(file).notice().empty());
    }
    CHECK(names_in(scratch.path()).size() == 4);
}

TEST_CASE("fields of the wrong type read as unset") {
    const workbook::testing::ScratchDir scratch;
    scratch.write("progress.json", R"({"lessons": {"02-x": {"done": "yes", "hints_shown": "three", "last_verdict": 4}}})");
    const auto progress = workbook::Progress::load(scratch.path() / "progress.json");
    CHECK(progress.notice().empty());
    CHECK_FALSE(progress.is_done("02-x"));
    CHECK(progress.hints_shown("02-x") == 0);
    CHECK_FALSE(progress.last_check("02-x"));
}

TEST_CASE("saving replaces the file atomically and leaves no temporary behind") {
    const workbook::testing::ScratchDir scratch;
    const auto file = scratch.path() / "progress.json";
    scratch.write("progress.json", R"({"lessons": {}})");
    const auto inode_before = std::filesystem::status(file).permissions();
    auto progress = workbook::Progress::load(file);
    progress.set_current("01-addresses-and-bytes");
    progress.save();
    CHECK(names_in(scratch.path()) == std::vector<std::string>{"progress.json"});
    CHECK(std::filesystem::status(file).permissions() == inode_before);
    CHECK(read_json(file)["current"] == "01-addresses-and-bytes");
}

TEST_CASE("clearing done keeps the rest of the entry") {
    const workbook::testing::ScratchDir scratch;
    const auto file = scratch.path() / "progress.json";
    auto progress = workbook::Progress::load(file);
    progress.mark_done("02-x");
    progress.set_hints_shown("02-x", 1);
    progress.clear_done("02-x");
    CHECK_FALSE(progress.is_done("02-x"));
    CHECK(progress.hints_shown("02-x") == 1);
    CHECK_FALSE(progress.data()["lessons"]["02-x"].contains("done_at"));
}
