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
    // SSL_read in a loop: data, close_notify (0), WANT_READ/WANT_WRITE (wait_for, again), or the end.
    net::todo("tls::Connection::read_some");
}

void Connection::write_all(std::string_view bytes, Clock::time_point deadline) {
    static_cast<void>(bytes);
    static_cast<void>(deadline);
    // SSL_write until every byte is out; on WANT_WRITE/WANT_READ wait and retry with the same bytes.
    net::todo("tls::Connection::write_all");
}

}  // namespace tls
