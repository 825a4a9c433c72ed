#pragma once
// Small file helpers. Every write that replaces a file goes through a
// temporary file and rename(), so a crash never leaves half a file behind.

#include <filesystem>
#include <string>
#include <string_view>

namespace workbook {

// The whole file; throws std::system_error naming the call and the path.
[[nodiscard]] std::string read_file(const std::filesystem::path& path);

// Writes `content` to `path` atomically: a temporary file in the same folder,
// fsync, then rename() over the old one. Creates missing parent folders.
void write_file_atomically(const std::filesystem::path& path, std::string_view content);

// Local time for folder names ("20240131-142501"); sorts by time.
[[nodiscard]] std::string timestamp_for_path();

// UTC time for the progress file ("2024-01-31T14:25:01Z").
[[nodiscard]] std::string iso_time_now();

// A sibling of `wanted` that does not exist yet: wanted, wanted-2, wanted-3 ...
[[nodiscard]] std::filesystem::path unused_path(const std::filesystem::path& wanted);

// Lowercase hex SHA-256 (exercise.json records the pristine stubs' hashes).
[[nodiscard]] std::string sha256_hex(std::string_view data);

}  // namespace workbook
