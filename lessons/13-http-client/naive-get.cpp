// naive-get — the HTTP client everyone writes first: send a GET, then
// recv() until the server closes the connection. Against an HTTP/1.0 server
// that closes after each response it works. Against HTTP/1.1, which keeps the
// connection open for the next request, the close never comes: it hangs.
// Chapter 13 runs it against both; fetch (fetch.cpp) is the fix.
#include <string>
#include <sys/socket.h>

#include <fmt/core.h>

#include "net/args.hpp"
#include "net/error.hpp"
#include "net/log.hpp"
#include "net/stream.hpp"
#include "net/tcp.hpp"

namespace {

const net::Usage usage{
    .program = "naive-get",
    .summary = "GET / and read until the server closes: hangs on a kept-alive connection.",
    .port_help = "the server's port (required)",
    .options = {{"--path", "PATH", "the path to ask for", "/"}},
};

int naive_get(const net::Args& args) {
    if (args.port() == 0) {
        throw net::UsageError("--port is required");
    }
    const net::Fd sock = net::connect_tcp(args.host(), args.port());
    const std::string request =
        fmt::format("GET {} HTTP/1.1\r\nHost: {}:{}\r\n\r\n", args.value("--path"), args.host(), args.port());
    net::send_all(sock.get(), request);
    net::log::step("sent {} bytes: GET {} HTTP/1.1", request.size(), args.value("--path"));
    std::string response;
    while (true) {
        char buffer[4096];
        // The bug: HTTP says where the response ends (Content-Length), and
        // this loop ignores it, waiting for recv() to return 0 instead.
        const ssize_t got = ::recv(sock.get(), buffer, sizeof buffer, 0);
        if (got < 0 && errno == EINTR) {
            continue;
        }
        net::check(got, "recv");
        net::log::step("recv() = {}", got);
        if (got == 0) {
            break;
        }
        response.append(buffer, static_cast<std::size_t>(got));
    }
    net::log::good("the server closed: the response is {} bytes", response.size());
    return 0;
}

}  // namespace

int main(int argc, char** argv) { return net::run_main(argc, argv, usage, naive_get); }
