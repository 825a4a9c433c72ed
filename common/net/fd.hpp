#pragma once
// net::Fd — owns one file descriptor and closes it exactly once.

#include <utility>

namespace net {

// A move-only owner of a file descriptor (socket, pipe, file). The descriptor is
// closed when the Fd is destroyed or reset; moving transfers ownership.
//
//     net::Fd sock{net::check(::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0), "socket")};
//     ::send(sock.get(), ...);          // borrow it
//     // closed here, even if an exception is thrown
class Fd {
public:
    Fd() noexcept = default;
    explicit Fd(int fd) noexcept : fd_(fd) {}
    Fd(Fd&& other) noexcept : fd_(std::exchange(other.fd_, -1)) {}
    Fd& operator=(Fd&& other) noexcept {
        if (this != &other) {
            reset(std::exchange(other.fd_, -1));
        }
        return *this;
    }
    Fd(const Fd&) = delete;
    Fd& operator=(const Fd&) = delete;
    ~Fd() { reset(); }

    [[nodiscard]] int get() const noexcept { return fd_; }
    [[nodiscard]] bool valid() const noexcept { return fd_ >= 0; }
    explicit operator bool() const noexcept { return valid(); }

    // Gives up ownership without closing; the caller must close the result.
    [[nodiscard]] int release() noexcept { return std::exchange(fd_, -1); }

    // Closes the current descriptor (if any) and takes ownership of `fd`.
    // close() is not retried on EINTR: on Linux the descriptor is gone either way.
    void reset(int fd = -1) noexcept;

private:
    int fd_ = -1;
};

}  // namespace net
