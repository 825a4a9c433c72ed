#pragma once
// A temporary folder for a test, removed with everything in it afterwards.

#include <cstdlib>
#include <filesystem>
#include <string>
#include <string_view>
#include <system_error>

#include "files.hpp"

namespace workbook::testing {

class ScratchDir {
public:
    ScratchDir() {
        std::string pattern = (std::filesystem::temp_directory_path() / "workbook-test-XXXXXX").string();
        if (::mkdtemp(pattern.data()) == nullptr) {
            throw std::system_error(errno, std::generic_category(), "mkdtemp");
        }
        path_ = pattern;
    }
    ~ScratchDir() {
        std::error_code ignored;
        std::filesystem::remove_all(path_, ignored);
    }
    ScratchDir(const ScratchDir&) = delete;
    ScratchDir& operator=(const ScratchDir&) = delete;

    [[nodiscard]] const std::filesystem::path& path() const noexcept { return path_; }
    void write(const std::filesystem::path& relative, std::string_view content) const {
        write_file_atomically(path_ / relative, content);
    }

private:
    std::filesystem::path path_;
};

}  // namespace workbook::testing
