// https-get — what requests.get('https://...') does, narrated like curl -v:
// the TCP connection, the TLS handshake (version, cipher, the certificate
// chain, the verdict on it), then lesson 13's HTTP/1.1 through TLS. The body
// goes to stdout, the narration to stderr.
//
//   https-get --cafile ca.pem https://localhost:8443/
//   https-get https://127.0.0.1:8443/             (the system's CAs: refused)
//   https-get --insecure https://localhost:8443/  (believes anyone: don't)
#include <chrono>
#include <csignal>
#include <cstdio>

#include <fmt/core.h>

#include "net/args.hpp"
#include "net/log.hpp"
#include "tls.hpp"

namespace {

const net::Usage usage{
    .program = "https-get",
    .summary = "GET one https:// URL like curl -v: the TLS handshake and the headers on stderr, the body on stdout.",
    .positional = "URL",
    .min_positional = 1,
    .max_positional = 1,
    .network = false,
    .options = {
        {"--cafile", "FILE", "trust the CAs in this PEM file instead of the system's (/etc/ssl/certs)", ""},
        {"--insecure", "", "do not verify the certificate (chapter 17 shows why you never want this)"},
        {"--timeout", "MS", "give up after this long, handshake included", "10000"},
        {"--quiet", "", "no narration: only the body (and errors)"},
    },
};

int https_get(const net::Args& args) {
    // OpenSSL writes with write(2): a server that vanished would raise SIGPIPE.
    std::signal(SIGPIPE, SIG_IGN);
    const std::chrono::milliseconds timeout(args.integer("--timeout", 1, 3'600'000));
    tls::ClientOptions options{
        .ca_file = args.value("--cafile"),
        .verify = !args.flag("--insecure"),
        .timeout = timeout,
    };
    if (!args.flag("--quiet")) {
        options.trace = [](std::string_view line) { net::log::write_line(stderr, net::log::Style::step, line); };
    }
    const std::string& url = args.positional()[0];
    try {
        static_cast<void>(tls::parse_https_url(url));  // a bad URL is a usage error (status 2)
    } catch (const tls::Error& error) {
        throw net::UsageError(error.what());
    }
    if (!options.verify) {
        net::log::warn("--insecure: the certificate is not checked; anyone on the path can be this server");
    }

    const http::Response response = tls::get(url, options, timeout);
    std::fwrite(response.body.data(), 1, response.body.size(), stdout);
    std::fflush(stdout);
    if (!args.flag("--quiet")) {
        net::log::write_line(stderr, net::log::Style::plain, fmt::format("* {} body bytes", response.body.size()));
    }
    return response.status >= 400 ? 22 : 0;  // curl --fail's status for an HTTP error
}

}  // namespace

int main(int argc, char** argv) { return net::run_main(argc, argv, usage, https_get); }
