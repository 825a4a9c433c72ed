// Exercise 17 — reading and writing through TLS on a non-blocking socket.
#include <cerrno>
#include <climits>
#include <string>
#include <system_error>

#include <poll.h>

#include <fmt/core.h>
#include <openssl/err.h>

#include "tls.hpp"

namespace tls {

namespace {

// After SSL_read/SSL_write returned `result` <= 0: waits and returns when the
// call should be made again; throws when it should not.
void wait_or_throw(SSL* ssl, int fd, int result, Clock::time_point deadline, std::string_view doing) {
    const int saved_errno = errno;
    switch (SSL_get_error(ssl, result)) {
    case SSL_ERROR_WANT_READ:
        wait_for(fd, POLLIN, deadline, doing);
        return;
    case SSL_ERROR_WANT_WRITE:
        wait_for(fd, POLLOUT, deadline, doing);
        return;
    case SSL_ERROR_SSL:
        if (ERR_GET_REASON(ERR_peek_last_error()) == SSL_R_UNEXPECTED_EOF_WHILE_READING) {
            ERR_clear_error();
            throw Truncated("the connection ended without close_notify: the data may be cut short");
        }
        throw Error(fmt::format("TLS error {}: {}", doing, openssl_reason("protocol error")));
    case SSL_ERROR_SYSCALL:
        if (saved_errno == 0) {  // OpenSSL 1.1.1's way of saying the same unexpected EOF
            throw Truncated("the connection ended without close_notify: the data may be cut short");
        }
        throw Error(fmt::format("{}: {}", doing, std::system_category().message(saved_errno)));
    default:
        throw Error(fmt::format("TLS error {}: {}", doing, openssl_reason("unexpected")));
    }
}

}  // namespace

std::size_t Connection::read_some(std::span<char> buffer, Clock::time_point deadline) {
    const int wanted = static_cast<int>(std::min<std::size_t>(buffer.size(), INT_MAX));
    while (true) {
        ERR_clear_error();
        errno = 0;
        const int got = SSL_read(ssl_, buffer.data(), wanted);
        if (got > 0) {
            return static_cast<std::size_t>(got);
        }
        if (SSL_get_error(ssl_, got) == SSL_ERROR_ZERO_RETURN) {
            return 0;  // close_notify: the peer's data really ended here
        }
        wait_or_throw(ssl_, fd(), got, deadline, "reading");
    }
}

void Connection::write_all(std::string_view bytes, Clock::time_point deadline) {
    while (!bytes.empty()) {
        const int size = static_cast<int>(std::min<std::size_t>(bytes.size(), INT_MAX));
        ERR_clear_error();
        errno = 0;
        const int sent = SSL_write(ssl_, bytes.data(), size);
        if (sent > 0) {
            // All of `size` unless SSL_MODE_ENABLE_PARTIAL_WRITE is on; either way, count.
            bytes.remove_prefix(static_cast<std::size_t>(sent));
            continue;
        }
        // Same bytes next time: OpenSSL has already encrypted part of them
        // into a record it still holds, and checks that the retry matches.
        wait_or_throw(ssl_, fd(), sent, deadline, "writing");
    }
}

}  // namespace tls
