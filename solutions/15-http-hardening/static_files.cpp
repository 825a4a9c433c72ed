// Exercise 15 — static files that stay under their root (solution).
//
// Two walls, because one is not enough: relative_path refuses what no file
// name needs ("..", dotfiles, NUL, backslashes) after decoding, and the kernel
// itself, through openat2(RESOLVE_BENEATH), refuses any resolution that
// leaves the root — including through a symlink no string check can see.
#include <fcntl.h>
#include <linux/openat2.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cctype>
#include <cerrno>
#include <cstdint>
#include <string>
#include <utility>

#include <fmt/core.h>

#include "hardening.hpp"
#include "net/error.hpp"

namespace hardening {
namespace {

// glibc before 2.39 has no wrapper for openat2: the system call itself.
int openat2(int dir, const std::string& path, std::uint64_t flags, std::uint64_t resolve) {
    open_how how{};
    how.flags = flags;
    how.resolve = resolve;
    return static_cast<int>(::syscall(SYS_openat2, dir, path.c_str(), &how, sizeof how));
}

http::Response status_only(int status) {
    return http::Response::text(fmt::format("{} {}\n", status, http::reason_phrase(status)), status);
}

std::string read_all(int fd, std::size_t size) {
    std::string bytes(size, '\0');
    std::size_t got = 0;
    while (got < size) {
        const ssize_t n = ::read(fd, bytes.data() + got, size - got);
        if (n < 0 && errno == EINTR) {
            continue;
        }
        if (n <= 0) {
            net::check(n, "read");
            break;  // the file shrank while we read it
        }
        got += static_cast<std::size_t>(n);
    }
    bytes.resize(got);
    return bytes;
}

// The entity tags of an If-None-Match list match `etag`, weakly (§8.8.3.2):
// W/"x" and "x" are the same tag.
bool matches_weakly(std::string_view list, std::string_view etag) {
    const auto opaque = [](std::string_view tag) { return tag.substr(0, 2) == "W/" ? tag.substr(2) : tag; };
    bool found = false;
    http::for_each_token(list, [&](std::string_view tag) { found = found || tag == "*" || opaque(tag) == opaque(etag); });
    return found;
}

}  // namespace

std::string relative_path(std::string_view path) {
    // Decode first: every check below is on the name the file system will see.
    std::string decoded = http::percent_decode(path);
    if (decoded.find('\0') != std::string::npos || decoded.find('\\') != std::string::npos) {
        throw http::RequestError(400, "a NUL or a backslash in the path");
    }
    std::string relative;
    std::string_view rest = decoded;
    while (!rest.empty()) {
        const std::size_t slash = rest.find('/');
        const std::string_view segment = rest.substr(0, slash);
        if (!segment.empty() && segment.front() == '.') {
            throw http::RequestError(404, "a dot segment or a dotfile");  // "..", ".", ".git"
        }
        if (!segment.empty()) {
            relative += relative.empty() ? "" : "/";
            relative += segment;
        }
        rest = slash == std::string_view::npos ? std::string_view() : rest.substr(slash + 1);
    }
    if (relative.empty() || decoded.back() == '/') {
        relative += relative.empty() ? "index.html" : "/index.html";
    }
    return relative;
}

std::string_view content_type_for(std::string_view name) {
    static constexpr std::array<std::pair<std::string_view, std::string_view>, 14> types = {{
        {"html", "text/html; charset=utf-8"}, {"htm", "text/html; charset=utf-8"},
        {"css", "text/css; charset=utf-8"}, {"js", "text/javascript; charset=utf-8"},
        {"json", "application/json"}, {"txt", "text/plain; charset=utf-8"},
        {"svg", "image/svg+xml"}, {"png", "image/png"}, {"jpg", "image/jpeg"}, {"jpeg", "image/jpeg"},
        {"gif", "image/gif"}, {"ico", "image/x-icon"}, {"wasm", "application/wasm"}, {"pdf", "application/pdf"},
    }};
    const std::size_t dot = name.rfind('.');
    const std::size_t slash = name.rfind('/');
    if (dot != std::string_view::npos && (slash == std::string_view::npos || dot > slash)) {
        const std::string_view extension = name.substr(dot + 1);
        for (const auto& [known, type] : types) {
            if (http::iequals(extension, known)) {
                return type;
            }
        }
    }
    return "application/octet-stream";
}

bool not_modified(const http::Request& request, std::string_view etag, std::time_t modified) {
    if (const std::string* if_none_match = request.header("If-None-Match")) {
        return matches_weakly(*if_none_match, etag);  // and If-Modified-Since is not looked at (§13.1.3)
    }
    if (const std::string* if_modified_since = request.header("If-Modified-Since")) {
        const std::optional<std::time_t> since = http::parse_http_date(*if_modified_since);
        return since && modified <= *since;
    }
    return false;
}

StaticFiles::StaticFiles(const std::string& root) {
    root_.reset(net::check(::open(root.c_str(), O_PATH | O_DIRECTORY | O_CLOEXEC), fmt::format("open {}", root)));
}

http::Response StaticFiles::serve(const http::Request& request) const {
    if (request.method != "GET" && request.method != "HEAD") {
        http::Response response = status_only(405);
        response.headers.push_back({"Allow", "GET, HEAD"});
        return response;
    }
    std::string relative;
    try {
        relative = relative_path(request.path);
    } catch (const http::RequestError& error) {
        return status_only(error.status());
    }
    // O_NONBLOCK: opening a FIFO for reading would otherwise wait for a writer.
    const int fd = openat2(root_.get(), relative, O_RDONLY | O_CLOEXEC | O_NONBLOCK | O_NOCTTY,
                           RESOLVE_BENEATH | RESOLVE_NO_MAGICLINKS);
    if (fd < 0) {
        switch (errno) {
        case ENOSYS: net::throw_errno("openat2 (Linux 5.6 or newer is needed)");
        case EACCES: return status_only(403);
        default: return status_only(404);  // ENOENT, ENOTDIR, EXDEV (it would leave the root), ELOOP
        }
    }
    const net::Fd file(fd);
    struct stat info {};
    net::check(::fstat(file.get(), &info), "fstat");
    if (S_ISDIR(info.st_mode)) {
        http::Response moved = status_only(301);
        moved.headers.push_back({"Location", request.path + "/"});
        return moved;
    }
    if (!S_ISREG(info.st_mode)) {
        return status_only(404);
    }
    const auto mtime_ns = static_cast<std::uint64_t>(info.st_mtim.tv_sec) * 1'000'000'000U +
                          static_cast<std::uint64_t>(info.st_mtim.tv_nsec);
    const std::string etag = fmt::format("\"{:x}-{:x}\"", static_cast<std::uint64_t>(info.st_size), mtime_ns);
    const std::string last_modified = http::format_http_date(info.st_mtim.tv_sec);
    http::Response response;
    if (not_modified(request, etag, info.st_mtim.tv_sec)) {
        response.status = 304;
        response.content_type = "";
    } else {
        response.content_type = content_type_for(relative);
        response.body = read_all(file.get(), static_cast<std::size_t>(info.st_size));
    }
    response.headers.push_back({"ETag", etag});
    response.headers.push_back({"Last-Modified", last_modified});
    return response;
}

}  // namespace hardening
