#include "net/error.hpp"

#include <cerrno>
#include <netdb.h>

namespace net {

void throw_errno(std::string_view call) { throw_errno(call, errno); }

void throw_errno(std::string_view call, int err) {
    throw std::system_error(err, std::generic_category(), std::string(call));
}

namespace {

class GaiCategory final : public std::error_category {
public:
    const char* name() const noexcept override { return "getaddrinfo"; }
    std::string message(int code) const override { return ::gai_strerror(code); }
};

}  // namespace

const std::error_category& gai_category() noexcept {
    static const GaiCategory category;
    return category;
}

NotImplemented::NotImplemented(std::string_view what)
    : std::logic_error("not started: " + std::string(what)) {}

void todo(std::string_view what) { throw NotImplemented(what); }

}  // namespace net
