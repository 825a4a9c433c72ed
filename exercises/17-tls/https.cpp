// Exercise 17 — given, complete: lesson 13's HTTP/1.1, unchanged, over a TLS
// Connection instead of a socket. Only the byte pipe differs: SSL_write for
// send, SSL_read for recv, and "the server closed" now comes in two kinds.
#include <algorithm>
#include <array>
#include <cctype>
#include <charconv>

#include <fmt/core.h>

#include "tls.hpp"

namespace tls {

http::Url parse_https_url(std::string_view text) {
    const std::string_view scheme = "https://";
    if (text.size() < scheme.size() ||
        !std::equal(scheme.begin(), scheme.end(), text.begin(),
                    [](char a, char b) { return a == std::tolower(static_cast<unsigned char>(b)); })) {
        throw Error(fmt::format("{}: not an https:// URL", text));
    }
    // The rest is lesson 13's grammar; only the default port differs.
    const std::string_view rest = text.substr(scheme.size());
    const std::string_view authority = rest.substr(0, rest.find_first_of("/?#"));
    const std::size_t bracket = authority.rfind(']');
    const bool has_port =
        authority.find(':', bracket == std::string_view::npos ? 0 : bracket) != std::string_view::npos;
    try {
        http::Url url = http::parse_url(fmt::format("http://{}", rest));
        if (!has_port) {
            url.port = 443;
        }
        return url;
    } catch (const http::Error& error) {
        throw Error(fmt::format("{}: {}", text, error.what()));
    }
}

http::Response get(std::string_view url_text, const ClientOptions& options, std::chrono::milliseconds total) {
    const Clock::time_point deadline = Clock::now() + total;
    const http::Url url = parse_https_url(url_text);
    const auto trace = [&options](std::string_view line) {
        if (options.trace) {
            options.trace(line);
        }
    };

    const Context context = make_client_context(options);
    ClientOptions connecting = options;
    connecting.timeout = std::min(options.timeout, std::chrono::ceil<std::chrono::milliseconds>(deadline - Clock::now()));
    Connection connection = connect(context.get(), url.host, url.port, connecting);

    const std::string host = url.host.find(':') != std::string::npos ? "[" + url.host + "]" : url.host;
    const std::string request =
        fmt::format("GET {} HTTP/1.1\r\nHost: {}{}\r\nConnection: close\r\n\r\n", url.target, host,
                    url.port == 443 ? std::string() : fmt::format(":{}", url.port));
    for (std::string_view rest = request; rest.size() > 2;) {
        const std::size_t end = rest.find("\r\n");
        trace(fmt::format("> {}", rest.substr(0, end)));
        rest.remove_prefix(end + 2);
    }
    connection.write_all(request, deadline);

    http::ResponseParser parser("GET");
    std::array<char, 16384> buffer;
    while (!parser.done()) {
        const std::size_t got = connection.read_some(buffer, deadline);
        if (got == 0) {
            parser.finish();  // close_notify: a body that runs until close ends here
            break;
        }
        static_cast<void>(parser.feed(std::string_view(buffer.data(), got)));
    }
    http::Response response = parser.take();
    trace(fmt::format("< HTTP/1.{} {} {}", response.minor_version, response.status, response.reason));
    for (const http::Field& field : response.headers) {
        trace(fmt::format("< {}: {}", field.name, field.value));
    }
    connection.close();
    return response;
}

}  // namespace tls
