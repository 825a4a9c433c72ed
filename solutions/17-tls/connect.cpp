// Exercise 17 — the verifying connect: a client context, then per connection
// SNI, the name to check and the handshake on a non-blocking socket.
#include <cerrno>
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

namespace {

bool is_ip_literal(const std::string& host) {
    unsigned char address[sizeof(in6_addr)];
    return ::inet_pton(AF_INET, host.c_str(), address) == 1 || ::inet_pton(AF_INET6, host.c_str(), address) == 1;
}

void make_nonblocking(int fd) {
    const int flags = net::check(::fcntl(fd, F_GETFL), "fcntl F_GETFL");
    net::check(::fcntl(fd, F_SETFL, flags | O_NONBLOCK), "fcntl F_SETFL");
}

// Why the handshake failed, in the most specific words there are: a refused
// certificate says which check refused it; anything else is OpenSSL's reason
// (or the socket's, when OpenSSL has none: the server reset the connection).
[[noreturn]] void handshake_failed(SSL* ssl, int result, std::string_view host) {
    const int error = SSL_get_error(ssl, result);
    const int saved_errno = errno;
    if (const long verified = SSL_get_verify_result(ssl); verified != X509_V_OK) {
        ERR_clear_error();
        throw Error(fmt::format("certificate verify failed for {}: {}", host, X509_verify_cert_error_string(verified)));
    }
    std::string reason = openssl_reason("");
    if (reason.empty()) {
        reason = error == SSL_ERROR_SYSCALL && saved_errno != 0
                     ? std::system_category().message(saved_errno)
                     : std::string("the server closed the connection during the handshake");
    }
    throw Error(fmt::format("TLS handshake with {} failed: {}", host, reason));
}

}  // namespace

Context make_client_context(const ClientOptions& options) {
    Context context(SSL_CTX_new(TLS_client_method()));
    if (!context) {
        throw Error(fmt::format("SSL_CTX_new: {}", openssl_reason("out of memory")));
    }
    // TLS 1.0 and 1.1 are broken (RFC 8996). OpenSSL 3's default security
    // level refuses them too, but a system's openssl.cnf can lower that.
    if (SSL_CTX_set_min_proto_version(context.get(), TLS1_2_VERSION) != 1) {
        throw Error(fmt::format("SSL_CTX_set_min_proto_version: {}", openssl_reason("failed")));
    }
    const int loaded = options.ca_file.empty()
                           ? SSL_CTX_set_default_verify_paths(context.get())
                           : SSL_CTX_load_verify_locations(context.get(), options.ca_file.c_str(), nullptr);
    if (loaded != 1) {
        throw Error(fmt::format("cannot load the CAs to trust from {}: {}",
                                options.ca_file.empty() ? "the system's store" : options.ca_file,
                                openssl_reason("no certificates found")));
    }
    // With SSL_VERIFY_PEER the handshake itself fails on a bad certificate;
    // with SSL_VERIFY_NONE it succeeds and only SSL_get_verify_result knows.
    SSL_CTX_set_verify(context.get(), options.verify ? SSL_VERIFY_PEER : SSL_VERIFY_NONE, nullptr);
    return context;
}

Connection connect(SSL_CTX* context, std::string_view host_view, std::uint16_t port, const ClientOptions& options) {
    const std::string host(host_view);
    const auto trace = [&options](std::string_view line) {
        if (options.trace) {
            options.trace(line);
        }
    };
    const Clock::time_point deadline = Clock::now() + options.timeout;

    net::Fd socket;
    try {
        socket = net::connect_tcp(host, port, options.timeout);
    } catch (const std::system_error& error) {
        throw Error(error.what());  // "connect 127.0.0.1:8443: Connection refused"
    }
    make_nonblocking(socket.get());
    trace(fmt::format("* connected to {} port {}", host, port));

    SSL* raw = SSL_new(context);
    if (raw == nullptr) {
        throw Error(fmt::format("SSL_new: {}", openssl_reason("out of memory")));
    }
    const int fd = socket.get();
    Connection connection(std::move(socket), raw);  // owns both from here on
    SSL* ssl = connection.native();
    if (SSL_set_fd(ssl, fd) != 1) {
        throw Error(fmt::format("SSL_set_fd: {}", openssl_reason("failed")));
    }

    const bool address = is_ip_literal(host);
    if (!address) {
        // SNI: the name goes out in the ClientHello, in the clear.
        if (SSL_set_tlsext_host_name(ssl, host.c_str()) != 1) {
            throw Error(fmt::format("SNI {}: {}", host, openssl_reason("rejected")));
        }
    }
    if (options.verify) {
        // Without this, any certificate a trusted CA signed for ANY name passes.
        const int named = address ? X509_VERIFY_PARAM_set1_ip_asc(SSL_get0_param(ssl), host.c_str())
                                  : SSL_set1_host(ssl, host.c_str());
        if (named != 1) {
            throw Error(fmt::format("cannot check the certificate against {}: {}", host, openssl_reason("failed")));
        }
    }

    trace(fmt::format("* TLS handshake with {}{}", host, address ? " (an address: no SNI)" : ""));
    while (true) {
        ERR_clear_error();
        const int result = SSL_connect(ssl);
        if (result == 1) {
            break;
        }
        const int error = SSL_get_error(ssl, result);
        if (error == SSL_ERROR_WANT_READ) {
            wait_for(fd, POLLIN, deadline, fmt::format("in the TLS handshake with {}", host));
        } else if (error == SSL_ERROR_WANT_WRITE) {
            wait_for(fd, POLLOUT, deadline, fmt::format("in the TLS handshake with {}", host));
        } else {
            handshake_failed(ssl, result, host);
        }
    }

    const Handshake done = connection.handshake();
    trace(fmt::format("* TLS handshake done: {}, {}", done.version, done.cipher));
    for (const std::string& subject : done.chain) {
        trace(fmt::format("*   certificate: {}", subject));
    }
    trace(fmt::format("* certificate check: {}", options.verify ? done.verified : "OFF (" + done.verified + ")"));
    return connection;
}

}  // namespace tls
