#include "change_watcher.hpp"

#include <cerrno>
#include <map>
#include <sys/inotify.h>
#include <sys/stat.h>
#include <tuple>
#include <unistd.h>

#include <fmt/core.h>

#include "net/error.hpp"
#include "net/fd.hpp"

namespace workbook {

bool is_watched_source(std::string_view file_name) {
    if (file_name.empty() || file_name.front() == '.' || file_name.front() == '#' || file_name.ends_with("~")) {
        return false;
    }
    return file_name.ends_with(".cpp") || file_name.ends_with(".hpp") || file_name.ends_with(".h");
}

namespace {

constexpr std::uint32_t watch_mask =
    IN_CLOSE_WRITE | IN_MOVED_TO | IN_CREATE | IN_DELETE | IN_MOVED_FROM | IN_DELETE_SELF | IN_MOVE_SELF;

class InotifyWatcher final : public ChangeWatcher {
public:
    explicit InotifyWatcher(std::filesystem::path folder)
        : folder_(std::move(folder)), fd_(net::check(::inotify_init1(IN_NONBLOCK | IN_CLOEXEC), "inotify_init1")) {
        add_watch();
    }

    [[nodiscard]] int fd() const override { return fd_.get(); }

    [[nodiscard]] bool changed() override {
        bool relevant = false;
        alignas(inotify_event) char buffer[8192];
        for (;;) {
            const ssize_t got = ::read(fd_.get(), buffer, sizeof buffer);
            if (got < 0 && errno == EINTR) {
                continue;
            }
            if (got < 0 && errno == EAGAIN) {
                return relevant;
            }
            if (got <= 0) {
                net::throw_errno("read inotify");
            }
            for (ssize_t at = 0; at < got;) {
                const auto* event = reinterpret_cast<const inotify_event*>(buffer + at);
                if ((event->mask & IN_Q_OVERFLOW) != 0) {
                    relevant = true;
                } else if ((event->mask & (IN_IGNORED | IN_DELETE_SELF | IN_MOVE_SELF)) != 0) {
                    // The folder itself was replaced (a git checkout, say): watch the new one.
                    relevant = true;
                    (void)::inotify_add_watch(fd_.get(), folder_.c_str(), watch_mask);
                } else if (event->len > 0 && is_watched_source(event->name)) {
                    relevant = true;
                }
                at += static_cast<ssize_t>(sizeof(inotify_event) + event->len);
            }
        }
    }

private:
    void add_watch() {
        net::check(::inotify_add_watch(fd_.get(), folder_.c_str(), watch_mask),
                   fmt::format("inotify_add_watch {}", folder_.string()));
    }

    std::filesystem::path folder_;
    net::Fd fd_;
};

class PollingWatcher final : public ChangeWatcher {
public:
    explicit PollingWatcher(std::filesystem::path folder) : folder_(std::move(folder)), last_(snapshot()) {}

    [[nodiscard]] int fd() const override { return -1; }

    [[nodiscard]] bool changed() override {
        auto now = snapshot();
        const bool different = now != last_;
        last_ = std::move(now);
        return different;
    }

private:
    using Stamp = std::tuple<long long, long long, long long, unsigned long long>;  // mtime s, ns, size, inode

    [[nodiscard]] std::map<std::string, Stamp> snapshot() const {
        std::map<std::string, Stamp> files;
        std::error_code error;
        for (const auto& entry : std::filesystem::directory_iterator(folder_, error)) {
            const std::string name = entry.path().filename().string();
            struct stat info {};
            if (is_watched_source(name) && ::stat(entry.path().c_str(), &info) == 0) {
                files[name] = Stamp{info.st_mtim.tv_sec, info.st_mtim.tv_nsec, info.st_size, info.st_ino};
            }
        }
        return files;
    }

    std::filesystem::path folder_;
    std::map<std::string, Stamp> last_;
};

}  // namespace

std::unique_ptr<ChangeWatcher> watch_with_inotify(const std::filesystem::path& folder) {
    return std::make_unique<InotifyWatcher>(folder);
}

std::unique_ptr<ChangeWatcher> watch_by_polling(const std::filesystem::path& folder) {
    return std::make_unique<PollingWatcher>(folder);
}

}  // namespace workbook
