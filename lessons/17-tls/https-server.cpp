// https-server — a local HTTPS hello world: the server's side of chapter 17.
// Each client gets a thread (chapter 08) that runs the TLS handshake with the
// certificate you give it, reads one request head, answers "Hello, TLS!" and
// ends with close_notify. Every step has a 5 s deadline, so a client that
// stalls, resets, or speaks plain HTTP costs one thread for at most that long.
//
//   https-server --cert localhost.pem --key localhost.key --port 8443
//   curl --cacert ca.pem https://localhost:8443/
//   openssl s_client -connect localhost:8443 -servername localhost -CAfile ca.pem
#include <atomic>
#include <condition_variable>
#include <csignal>
#include <memory>
#include <mutex>
#include <string>
#include <thread>

#include <sys/socket.h>
#include <sys/time.h>

#include <fmt/core.h>
#include <openssl/err.h>
#include <openssl/ssl.h>

#include "net/address.hpp"
#include "net/args.hpp"
#include "net/error.hpp"
#include "net/log.hpp"
#include "net/signals.hpp"
#include "net/tcp.hpp"

namespace {

const net::Usage usage{
    .program = "https-server",
    .summary = "A local HTTPS hello world: the TLS handshake narrated, one answer per connection, close_notify.",
    .options = {
        {"--cert", "FILE", "the server's certificate chain (PEM), leaf first (required)"},
        {"--key", "FILE", "the certificate's private key (PEM) (required)"},
        {"--max-clients", "N", "connections served at once; more wait in the accept queue", "64"},
        {"--quiet", "", "no per-connection narration"},
    },
};

constexpr int step_timeout_seconds = 5;

struct ContextFree {
    void operator()(SSL_CTX* context) const noexcept { SSL_CTX_free(context); }
};
struct SslFree {
    void operator()(SSL* ssl) const noexcept { SSL_free(ssl); }
};

std::string openssl_reason() {
    unsigned long newest = 0;
    while (const unsigned long code = ERR_get_error()) {
        newest = code;
    }
    const char* reason = newest != 0 ? ERR_reason_error_string(newest) : nullptr;
    return reason != nullptr ? reason : "the connection ended";
}

std::unique_ptr<SSL_CTX, ContextFree> make_server_context(const std::string& cert, const std::string& key) {
    std::unique_ptr<SSL_CTX, ContextFree> context(SSL_CTX_new(TLS_server_method()));
    if (!context || SSL_CTX_set_min_proto_version(context.get(), TLS1_2_VERSION) != 1) {
        throw std::runtime_error(fmt::format("SSL_CTX_new: {}", openssl_reason()));
    }
    if (SSL_CTX_use_certificate_chain_file(context.get(), cert.c_str()) != 1) {
        throw std::runtime_error(fmt::format("cannot load the certificate {}: {}", cert, openssl_reason()));
    }
    if (SSL_CTX_use_PrivateKey_file(context.get(), key.c_str(), SSL_FILETYPE_PEM) != 1 ||
        SSL_CTX_check_private_key(context.get()) != 1) {
        throw std::runtime_error(fmt::format("cannot use the key {}: {}", key, openssl_reason()));
    }
    return context;
}

// One client, start to end. Blocking calls with SO_RCVTIMEO/SO_SNDTIMEO: the
// thread is this client's alone, so waiting is fine as long as it ends.
void serve(SSL_CTX* context, net::Fd connection, const net::Address& peer, bool quiet) {
    const auto say = [&](std::string_view line) {
        if (!quiet) {
            net::log::info("[{}] {}", net::to_string(peer), line);
        }
    };
    const timeval limit{step_timeout_seconds, 0};
    net::check(::setsockopt(connection.get(), SOL_SOCKET, SO_RCVTIMEO, &limit, sizeof limit), "setsockopt SO_RCVTIMEO");
    net::check(::setsockopt(connection.get(), SOL_SOCKET, SO_SNDTIMEO, &limit, sizeof limit), "setsockopt SO_SNDTIMEO");

    std::unique_ptr<SSL, SslFree> ssl(SSL_new(context));
    if (!ssl || SSL_set_fd(ssl.get(), connection.get()) != 1) {
        say(fmt::format("SSL_new: {}", openssl_reason()));
        return;
    }
    ERR_clear_error();
    if (SSL_accept(ssl.get()) != 1) {
        say(fmt::format("TLS handshake failed: {}", openssl_reason()));  // "http request", "unsupported protocol"
        return;
    }
    const char* sni = SSL_get_servername(ssl.get(), TLSEXT_NAMETYPE_host_name);
    say(fmt::format("TLS handshake done: {}, {}, SNI {}", SSL_get_version(ssl.get()),
                    SSL_CIPHER_get_name(SSL_get_current_cipher(ssl.get())), sni != nullptr ? sni : "(none)"));

    std::string head;
    char buffer[4096];
    while (head.find("\r\n\r\n") == std::string::npos) {
        const int got = SSL_read(ssl.get(), buffer, sizeof buffer);
        if (got <= 0) {
            say(fmt::format("no request: {}", SSL_get_error(ssl.get(), got) == SSL_ERROR_ZERO_RETURN
                                                  ? "close_notify before a whole request head"
                                                  : openssl_reason()));
            return;
        }
        head.append(buffer, static_cast<std::size_t>(got));
        if (head.size() > 16384) {
            say("a request head over 16 KiB: closed");
            return;
        }
    }
    say(fmt::format("< {}", head.substr(0, head.find("\r\n"))));

    const std::string body = "Hello, TLS!\n";
    const std::string answer = fmt::format(
        "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{}",
        body.size(), body);
    ERR_clear_error();
    if (SSL_write(ssl.get(), answer.data(), static_cast<int>(answer.size())) <= 0) {
        say(fmt::format("SSL_write: {}", openssl_reason()));
        return;
    }
    static_cast<void>(SSL_shutdown(ssl.get()));  // close_notify: "that was all of it"
    ERR_clear_error();
    say(fmt::format("> 200 OK, {} body bytes, close_notify sent", body.size()));
}

int serve_forever(const net::Args& args) {
    if (args.value("--cert").empty() || args.value("--key").empty()) {
        throw net::UsageError("--cert and --key are required (chapter 17 shows how to make them with openssl)");
    }
    const auto max_clients = static_cast<int>(args.integer("--max-clients", 1, 10000));
    const bool quiet = args.flag("--quiet");
    const auto context = make_server_context(args.value("--cert"), args.value("--key"));

    // OpenSSL writes with write(2): a client that vanished would raise SIGPIPE.
    std::signal(SIGPIPE, SIG_IGN);
    net::stop_on_signals();
    const net::Fd listener = net::listen_tcp(args.host(), args.port());
    net::log::info("listening on {}", net::to_string(net::local_address(listener.get())));

    std::mutex mutex;
    std::condition_variable changed;
    int active = 0;
    while (!net::stop_requested()) {
        {
            std::unique_lock lock(mutex);
            changed.wait(lock, [&] { return active < max_clients; });
        }
        net::Accepted client = net::accept_client(listener.get());
        if (!client) {
            continue;
        }
        {
            const std::lock_guard lock(mutex);
            ++active;
        }
        std::thread([&, connection = std::move(client.connection), peer = client.peer]() mutable {
            try {
                serve(context.get(), std::move(connection), peer, quiet);
            } catch (const std::exception& error) {
                net::log::warn("[{}] {}", net::to_string(peer), error.what());
            }
            ERR_clear_error();
            const std::lock_guard lock(mutex);
            --active;
            changed.notify_all();
        }).detach();
    }
    net::log::info("stopping: waiting for {} connection(s) to end", active);
    std::unique_lock lock(mutex);
    changed.wait(lock, [&] { return active == 0; });
    return 0;
}

}  // namespace

int main(int argc, char** argv) { return net::run_main(argc, argv, usage, serve_forever); }
