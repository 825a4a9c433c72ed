// Exercise 17 — the verifying connect (see tls.hpp for the contract).
#include <string>
#include <system_error>

#include <arpa/inet.h>
#include <fcntl.h>
#include <poll.h>

#include <fmt/core.h>
#include <openssl/err.h>
#include <openssl/x509v3.h>

#include "net/error.hpp"
#include "net/tcp.hpp"
#include "tls.hpp"

namespace tls {

Context make_client_context(const ClientOptions& options) {
    static_cast<void>(options);
    net::todo("make_client_context: SSL_CTX_new(TLS_client_method()), the minimum version, the CAs, the verify mode (tls.hpp)");
}

Connection connect(SSL_CTX* context, std::string_view host, std::uint16_t port, const ClientOptions& options) {
    static_cast<void>(context);
    static_cast<void>(host);
    static_cast<void>(port);
    static_cast<void>(options);
    net::todo("connect: TCP, non-blocking, SSL_new + SSL_set_fd, SNI, the name to check, SSL_connect until done (tls.hpp)");
}

}  // namespace tls
