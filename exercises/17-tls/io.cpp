// Exercise 17 — reading and writing through TLS (see tls.hpp for the contract).
#include <cerrno>
#include <climits>
#include <string>
#include <system_error>

#include <poll.h>

#include <fmt/core.h>
#include <openssl/err.h>

#include "net/error.hpp"
#include "tls.hpp"

namespace tls {

std::size_t Connection::read_some(std::span<char> buffer, Clock::time_point deadline) {
    static_cast<void>(buffer);
    static_cast<void>(deadline);
    net::todo("Connection::read_some: SSL_read until data, close_notify (0) or a cut (Truncated); wait_for on WANT_READ/WANT_WRITE (tls.hpp)");
}

void Connection::write_all(std::string_view bytes, Clock::time_point deadline) {
    static_cast<void>(bytes);
    static_cast<void>(deadline);
    net::todo("Connection::write_all: SSL_write until every byte is out; on WANT_WRITE/WANT_READ wait, then the same bytes again (tls.hpp)");
}

}  // namespace tls
