#pragma once
// Errors: every failing system call becomes a std::system_error that names the call.

#include <concepts>
#include <stdexcept>
#include <string>
#include <string_view>
#include <system_error>

namespace net {

// Throws std::system_error for `err` (default: the current errno); what() reads
// "<call>: <strerror text>", e.g. "connect 127.0.0.1:9: Connection refused".
// When the message is built at run time, copy errno first: building a string
// allocates, and any library call on the way may change errno.
//
//     if (::bind(fd, addr, len) < 0) {
//         const int err = errno;
//         net::throw_errno(fmt::format("bind {}", net::to_string(address)), err);
//     }
[[noreturn]] void throw_errno(std::string_view call);
[[noreturn]] void throw_errno(std::string_view call, int err);

// Returns `result` unchanged unless it is negative (the POSIX failure value, with
// errno set), in which case it throws as throw_errno(call) does.
//
//     int fd = net::check(::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0), "socket");
template <std::signed_integral T>
T check(T result, std::string_view call) {
    if (result < 0) {
        throw_errno(call);
    }
    return result;
}

// The error category for getaddrinfo's EAI_* codes; message() is gai_strerror's text.
const std::error_category& gai_category() noexcept;

// Thrown by net::todo(): the part of an exercise the learner has not written yet.
class NotImplemented : public std::logic_error {
public:
    explicit NotImplemented(std::string_view what);
};

// Marks an unfinished exercise: throws NotImplemented("not started: <what>").
// The tests and ./workbook report it as "not started" rather than as a failure.
[[noreturn]] void todo(std::string_view what);

}  // namespace net
