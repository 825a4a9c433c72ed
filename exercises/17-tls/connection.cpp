// Exercise 17 — given, complete: the Connection's plumbing (ownership,
// close_notify, the handshake's description) and the two helpers connect.cpp
// and io.cpp share. The exercise is connect.cpp and io.cpp.
#include <cerrno>
#include <utility>

#include <poll.h>

#include <fmt/core.h>
#include <openssl/err.h>
#include <openssl/x509.h>

#include "net/error.hpp"
#include "tls.hpp"

namespace tls {

Connection::Connection(net::Fd socket, SSL* ssl) noexcept : socket_(std::move(socket)), ssl_(ssl) {}

Connection::~Connection() { SSL_free(ssl_); }  // SSL_free(nullptr) does nothing

Connection::Connection(Connection&& other) noexcept
    : socket_(std::move(other.socket_)), ssl_(std::exchange(other.ssl_, nullptr)) {}

Connection& Connection::operator=(Connection&& other) noexcept {
    if (this != &other) {
        SSL_free(ssl_);
        socket_ = std::move(other.socket_);
        ssl_ = std::exchange(other.ssl_, nullptr);
    }
    return *this;
}

void Connection::close() noexcept {
    if (ssl_ != nullptr) {
        ERR_clear_error();
        // 0 means "sent ours, the peer's is still to come": we do not wait for it.
        static_cast<void>(SSL_shutdown(ssl_));
        ERR_clear_error();
    }
}

Handshake Connection::handshake() const {
    Handshake result;
    if (ssl_ == nullptr) {
        return result;
    }
    result.version = SSL_get_version(ssl_);
    result.cipher = SSL_CIPHER_get_name(SSL_get_current_cipher(ssl_));
    // The chain as the server sent it, leaf first (a client's view includes the leaf).
    if (STACK_OF(X509)* chain = SSL_get_peer_cert_chain(ssl_); chain != nullptr) {
        for (int i = 0; i < sk_X509_num(chain); ++i) {
            char subject[512];
            X509_NAME_oneline(X509_get_subject_name(sk_X509_value(chain, i)), subject, sizeof subject);
            result.chain.emplace_back(subject);
        }
    }
    const long verified = SSL_get_verify_result(ssl_);
    result.verified = verified == X509_V_OK ? "ok" : X509_verify_cert_error_string(verified);
    return result;
}

std::string openssl_reason(std::string_view fallback) {
    unsigned long newest = 0;
    while (const unsigned long code = ERR_get_error()) {
        newest = code;
    }
    if (newest == 0) {
        return std::string(fallback);
    }
    const char* reason = ERR_reason_error_string(newest);
    return reason != nullptr ? std::string(reason) : fmt::format("OpenSSL error {:#x}", newest);
}

void wait_for(int fd, short events, Clock::time_point deadline, std::string_view doing) {
    pollfd waiting{fd, events, 0};
    while (true) {
        const auto left = std::chrono::ceil<std::chrono::milliseconds>(deadline - Clock::now());
        if (left.count() <= 0) {
            throw Error(fmt::format("timed out {}", doing));
        }
        const int ready = ::poll(&waiting, 1, static_cast<int>(left.count()));
        if (ready < 0 && errno == EINTR) {
            continue;
        }
        net::check(ready, "poll");
        if (ready > 0) {
            return;  // readable, writable, or an error/hang-up the next call will report
        }
    }
}

}  // namespace tls
