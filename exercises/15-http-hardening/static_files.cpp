// Exercise 15 — static files that stay under their root: see StaticFiles in
// hardening.hpp.
#include "hardening.hpp"

#include "net/error.hpp"

namespace hardening {

std::string relative_path(std::string_view path) {
    (void)path;
    net::todo("relative_path: percent-decode first, then refuse NUL, backslashes and dot segments");
}

std::string_view content_type_for(std::string_view name) {
    (void)name;
    net::todo("content_type_for: the extension after the last '.', in any case");
}

bool not_modified(const http::Request& request, std::string_view etag, std::time_t modified) {
    (void)request;
    (void)etag;
    (void)modified;
    net::todo("not_modified: If-None-Match first (weak comparison), else If-Modified-Since");
}

StaticFiles::StaticFiles(const std::string& root) {
    (void)root;
    net::todo("StaticFiles: open the root with O_PATH | O_DIRECTORY");
}

http::Response StaticFiles::serve(const http::Request& request) const {
    (void)request;
    net::todo("StaticFiles::serve: openat2 with RESOLVE_BENEATH relative to the root's descriptor");
}

}  // namespace hardening
