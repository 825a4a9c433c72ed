#include "files.hpp"

#include <cerrno>
#include <chrono>
#include <ctime>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <fmt/core.h>

#include "net/error.hpp"
#include "net/fd.hpp"

namespace workbook {

std::string read_file(const std::filesystem::path& path) {
    const net::Fd file{::open(path.c_str(), O_RDONLY | O_CLOEXEC)};
    if (!file) {
        net::throw_errno(fmt::format("open {}", path.string()));
    }
    std::string content;
    char buffer[65536];
    for (;;) {
        const ssize_t got = ::read(file.get(), buffer, sizeof buffer);
        if (got < 0 && errno == EINTR) {
            continue;
        }
        if (got < 0) {
            net::throw_errno(fmt::format("read {}", path.string()));
        }
        if (got == 0) {
            return content;
        }
        content.append(buffer, static_cast<std::size_t>(got));
    }
}

namespace {

void write_all(int fd, std::string_view data, const std::filesystem::path& path) {
    while (!data.empty()) {
        const ssize_t wrote = ::write(fd, data.data(), data.size());
        if (wrote < 0 && errno == EINTR) {
            continue;
        }
        if (wrote < 0) {
            net::throw_errno(fmt::format("write {}", path.string()));
        }
        data.remove_prefix(static_cast<std::size_t>(wrote));
    }
}

}  // namespace

void write_file_atomically(const std::filesystem::path& path, std::string_view content) {
    if (path.has_parent_path()) {
        std::filesystem::create_directories(path.parent_path());
    }
    const std::filesystem::path temporary = path.string() + fmt::format(".tmp-{}", ::getpid());
    {
        const net::Fd file{::open(temporary.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644)};
        if (!file) {
            net::throw_errno(fmt::format("open {}", temporary.string()));
        }
        try {
            write_all(file.get(), content, temporary);
            // Without fsync a power cut after the rename can leave an empty file.
            net::check(::fsync(file.get()), fmt::format("fsync {}", temporary.string()));
        } catch (...) {
            ::unlink(temporary.c_str());
            throw;
        }
    }
    if (::rename(temporary.c_str(), path.c_str()) != 0) {
        const int err = errno;
        ::unlink(temporary.c_str());
        net::throw_errno(fmt::format("rename {} to {}", temporary.string(), path.string()), err);
    }
}

namespace {

std::string format_time(const char* pattern, bool utc) {
    const std::time_t now = std::chrono::system_clock::to_time_t(std::chrono::system_clock::now());
    std::tm parts{};
    if (utc) {
        ::gmtime_r(&now, &parts);
    } else {
        ::localtime_r(&now, &parts);
    }
    char text[64];
    const std::size_t length = std::strftime(text, sizeof text, pattern, &parts);
    return std::string(text, length);
}

}  // namespace

std::string timestamp_for_path() { return format_time("%Y%m%d-%H%M%S", false); }

std::string iso_time_now() { return format_time("%Y-%m-%dT%H:%M:%SZ", true); }

std::filesystem::path unused_path(const std::filesystem::path& wanted) {
    std::filesystem::path candidate = wanted;
    for (int suffix = 2; std::filesystem::exists(candidate); ++suffix) {
        candidate = wanted.string() + fmt::format("-{}", suffix);
    }
    return candidate;
}

}  // namespace workbook
