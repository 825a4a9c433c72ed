#pragma once
// Noticing that the learner saved: inotify on the exercise folder, or polling
// modification times where inotify stays silent (WSL drives, network mounts).

#include <filesystem>
#include <memory>

namespace workbook {

class ChangeWatcher {
public:
    virtual ~ChangeWatcher() = default;
    // Readable when something may have changed; -1 for a watcher that polls.
    [[nodiscard]] virtual int fd() const = 0;
    // True when a source file in the folder changed since the last call; never blocks.
    [[nodiscard]] virtual bool changed() = 0;
};

// Watches the folder, not the files: editors that save by writing a new file
// and renaming it over the old one replace the file's inode.
[[nodiscard]] std::unique_ptr<ChangeWatcher> watch_with_inotify(const std::filesystem::path& folder);
[[nodiscard]] std::unique_ptr<ChangeWatcher> watch_by_polling(const std::filesystem::path& folder);

// Editor droppings (.echo.cpp.swp, echo.cpp~, #echo.cpp#, vim's 4913) are not saves.
[[nodiscard]] bool is_watched_source(std::string_view file_name);

}  // namespace workbook
