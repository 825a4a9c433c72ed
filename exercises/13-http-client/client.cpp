// Exercise 13 — the rest of the client: URLs, connections, keep-alive,
// redirects and timeouts, on top of ResponseParser (given complete: the
// exercise is response.cpp).
#include <algorithm>
#include <cctype>
#include <cerrno>
#include <charconv>
#include <chrono>
#include <map>
#include <string>
#include <string_view>
#include <system_error>
#include <utility>

#include <poll.h>
#include <sys/socket.h>

#include <fmt/core.h>
#include <nlohmann/json.hpp>

#include "http.hpp"
#include "net/error.hpp"
#include "net/fd.hpp"
#include "net/stream.hpp"
#include "net/tcp.hpp"

namespace http {

using Clock = std::chrono::steady_clock;
using std::chrono::milliseconds;

const std::string* Response::header(std::string_view name) const {
    for (const Field& field : headers) {
        if (field.name.size() == name.size() &&
            std::equal(name.begin(), name.end(), field.name.begin(), [](char a, char b) {
                return std::tolower(static_cast<unsigned char>(a)) == std::tolower(static_cast<unsigned char>(b));
            })) {
            return &field.value;
        }
    }
    return nullptr;
}

nlohmann::json Response::json() const { return nlohmann::json::parse(body); }

std::string Url::authority() const {
    const std::string name = host.find(':') != std::string::npos ? "[" + host + "]" : host;
    return port == 80 ? name : fmt::format("{}:{}", name, port);
}

Url parse_url(std::string_view text) {
    const std::string_view scheme = "http://";
    if (text.size() < scheme.size() ||
        !std::equal(scheme.begin(), scheme.end(), text.begin(),
                    [](char a, char b) { return a == std::tolower(static_cast<unsigned char>(b)); })) {
        if (text.substr(0, 8) == "https://") {
            throw Error(fmt::format("{}: https needs TLS (lesson 17); use http://", text));
        }
        throw Error(fmt::format("{}: not an http:// URL", text));
    }
    std::string_view rest = text.substr(scheme.size());
    const std::string_view authority = rest.substr(0, rest.find_first_of("/?#"));
    rest.remove_prefix(authority.size());
    rest = rest.substr(0, rest.find('#'));  // the fragment never goes on the wire
    if (authority.find('@') != std::string_view::npos) {
        throw Error(fmt::format("{}: user names in URLs are not supported", text));
    }
    Url url;
    std::string_view port;
    if (!authority.empty() && authority.front() == '[') {  // an IPv6 literal: [::1]:8080
        const std::size_t close = authority.find(']');
        if (close == std::string_view::npos || close == 1) {
            throw Error(fmt::format("{}: unterminated [IPv6] host", text));
        }
        url.host = std::string(authority.substr(1, close - 1));
        const std::string_view after = authority.substr(close + 1);
        if (!after.empty() && after.front() != ':') {
            throw Error(fmt::format("{}: junk after the [IPv6] host", text));
        }
        port = after.empty() ? after : after.substr(1);
        if (after == ":") {
            throw Error(fmt::format("{}: empty port", text));
        }
    } else {
        const std::size_t colon = authority.find(':');
        url.host = std::string(authority.substr(0, colon));
        if (colon != std::string_view::npos) {
            port = authority.substr(colon + 1);
            if (port.empty()) {
                throw Error(fmt::format("{}: empty port", text));
            }
        }
    }
    if (url.host.empty()) {
        throw Error(fmt::format("{}: no host", text));
    }
    if (!port.empty()) {
        unsigned value = 0;
        const auto [end, error] = std::from_chars(port.data(), port.data() + port.size(), value);
        if (error != std::errc() || end != port.data() + port.size() || value == 0 || value > 65535) {
            throw Error(fmt::format("{}: port must be a number from 1 to 65535", text));
        }
        url.port = static_cast<std::uint16_t>(value);
    }
    url.target = rest.empty() || rest.front() == '?' ? "/" + std::string(rest) : std::string(rest);
    return url;
}

Url resolve(const Url& base, std::string_view location) {
    if (location.substr(0, 7) == "http://" || location.substr(0, 8) == "https://") {
        return parse_url(location);
    }
    if (location.substr(0, 2) == "//") {
        return parse_url("http:" + std::string(location));
    }
    Url url = base;
    if (!location.empty() && location.front() == '/') {
        url.target = std::string(location);
    } else {  // relative to the base's directory (RFC 3986 §5.2.3, without dot segments)
        const std::string path = base.target.substr(0, base.target.find('?'));
        url.target = path.substr(0, path.rfind('/') + 1) + std::string(location);
    }
    return url;
}

namespace {

milliseconds left(Clock::time_point deadline) {
    return std::max(milliseconds(0), std::chrono::duration_cast<milliseconds>(deadline - Clock::now()));
}

// Waits for the socket to be readable (poll, chapter 07), then one recv.
// "" means the server closed.
std::string recv_before(int fd, Clock::time_point deadline) {
    pollfd waiting{fd, POLLIN, 0};
    while (true) {
        const int ready = ::poll(&waiting, 1, static_cast<int>(left(deadline).count()));
        if (ready == 0) {
            throw Error("timed out waiting for the response");
        }
        if (ready < 0 && errno == EINTR) {
            continue;
        }
        net::check(ready, "poll");
        char buffer[16384];
        const ssize_t got = ::recv(fd, buffer, sizeof buffer, 0);
        if (got < 0 && errno == EINTR) {
            continue;
        }
        net::check(got, "recv");
        return std::string(buffer, static_cast<std::size_t>(got));
    }
}

bool idempotent(std::string_view method) {
    return method == "GET" || method == "HEAD" || method == "PUT" || method == "DELETE" || method == "OPTIONS" ||
           method == "TRACE";
}

// The server closed a kept-alive connection before we used it: it did not see the request.
class StaleConnection : public Error {
public:
    using Error::Error;
};

}  // namespace

struct Session::Pool {
    std::map<std::string, net::Fd> idle;  // "host port" → a kept-alive connection
};

Session::Session(Options options) : options_(std::move(options)), pool_(std::make_unique<Pool>()) {}
Session::~Session() = default;

Response Session::post(std::string_view url, const nlohmann::json& json) {
    return request("POST", url, json.dump(), {{"Content-Type", "application/json"}});
}

Response Session::request(std::string_view method_in, std::string_view url_text, std::string_view body_in,
                          const std::vector<Field>& headers) {
    const auto trace = [this](std::string_view line) {
        if (options_.trace) {
            options_.trace(line);
        }
    };
    const Clock::time_point deadline = Clock::now() + options_.total_timeout;
    std::string method(method_in);
    std::string body(body_in);
    Url url = parse_url(url_text);
    for (int redirects = 0;; ++redirects) {
        std::string request = fmt::format("{} {} HTTP/1.1\r\nHost: {}\r\n", method, url.target, url.authority());
        for (const Field& field : headers) {
            request += fmt::format("{}: {}\r\n", field.name, field.value);
        }
        if (!body.empty() || method == "POST" || method == "PUT") {
            request += fmt::format("Content-Length: {}\r\n", body.size());
        }
        request += "\r\n";

        const std::string key = fmt::format("{} {}", url.host, url.port);
        Response response;
        for (int attempt = 0;; ++attempt) {
            net::Fd connection;
            const bool reused = pool_->idle.count(key) != 0;
            if (reused) {
                connection = std::move(pool_->idle[key]);
                pool_->idle.erase(key);
                trace(fmt::format("* re-using the connection to {} port {}", url.host, url.port));
            } else {
                const milliseconds budget = std::min(options_.connect_timeout, left(deadline));
                try {
                    connection = net::connect_tcp(url.host, url.port, budget);
                } catch (const std::system_error& error) {
                    throw Error(error.what());  // "connect 127.0.0.1:8080: Connection refused"
                }
                ++opened_;
                trace(fmt::format("* connected to {} port {}", url.host, url.port));
            }
            for (std::string_view rest = request; !rest.empty();) {
                const std::size_t end = rest.find("\r\n");
                trace(fmt::format("> {}", rest.substr(0, end)));
                rest.remove_prefix(end + 2);
            }
            try {
                try {
                    net::send_all(connection.get(), request + body);
                } catch (const std::system_error& error) {
                    throw StaleConnection(error.what());
                }
                ResponseParser parser(method, options_.limits);
                bool any = false;
                bool extra = false;
                while (!parser.done()) {
                    std::string bytes;
                    try {
                        bytes = recv_before(connection.get(), deadline);
                    } catch (const std::system_error& error) {
                        if (!any) {
                            throw StaleConnection(error.what());
                        }
                        throw Error(fmt::format("the response broke off: {}", error.what()));
                    }
                    if (bytes.empty()) {
                        if (!any) {
                            throw StaleConnection("the server closed the connection without answering");
                        }
                        parser.finish();
                        break;
                    }
                    any = true;
                    // Bytes after the response: nothing was asked for them, so the
                    // connection is out of step and must not be reused.
                    extra = parser.feed(bytes) < bytes.size();
                }
                response = parser.take();
                response.keep_alive = response.keep_alive && !extra;
            } catch (const StaleConnection& stale) {
                if (reused && attempt == 0 && idempotent(method)) {
                    trace(fmt::format("* the kept-alive connection was closed ({}); sending again", stale.what()));
                    continue;
                }
                throw Error(reused ? fmt::format("the server closed the kept-alive connection ({}); "
                                                 "{} is not idempotent, so it is not sent again",
                                                 stale.what(), method)
                                   : std::string(stale.what()));
            }
            trace(fmt::format("< HTTP/1.{} {} {}", response.minor_version, response.status, response.reason));
            for (const Field& field : response.headers) {
                trace(fmt::format("< {}: {}", field.name, field.value));
            }
            if (response.keep_alive) {
                pool_->idle[key] = std::move(connection);
            }
            break;
        }

        const std::string* location = response.header("Location");
        const bool redirect = response.status == 301 || response.status == 302 || response.status == 303 ||
                              response.status == 307 || response.status == 308;
        if (!redirect || location == nullptr) {
            return response;
        }
        if (redirects == options_.max_redirects) {
            throw Error(fmt::format("more than {} redirects", options_.max_redirects));
        }
        url = resolve(url, *location);
        trace(fmt::format("* following the redirect to {}", url.target));
        // RFC 9110 §15.4.4: 303 means "GET it"; 301/302 after POST do the same in practice.
        if (response.status == 303 || ((response.status == 301 || response.status == 302) && method == "POST")) {
            method = method == "HEAD" ? "HEAD" : "GET";
            body.clear();
        }
    }
}

Response get(std::string_view url, Options options) { return Session(std::move(options)).get(url); }

Response post(std::string_view url, const nlohmann::json& json, Options options) {
    return Session(std::move(options)).post(url, json);
}

}  // namespace http
