// asio-echo — the reference peer for the coroutine lessons: asio's own C++20
// coroutine echo server (asio/src/examples/cpp20/coroutines/echo_server.cpp),
// with the workbook's command line: --host, --port (0: the kernel picks),
// --quiet (it never narrates), "listening on HOST:PORT", Ctrl-C stops it.
// One thread, one io_context, as in the example.
#include <cstdint>
#include <cstdio>
#include <exception>
#include <string>
#include <string_view>

#include <asio.hpp>
#include <fmt/core.h>

namespace {

using asio::ip::tcp;

asio::awaitable<void> echo(tcp::socket socket) {
    try {
        char data[65536];
        for (;;) {
            const std::size_t n = co_await socket.async_read_some(asio::buffer(data), asio::use_awaitable);
            co_await asio::async_write(socket, asio::buffer(data, n), asio::use_awaitable);
        }
    } catch (const std::exception&) {
        // EOF or a reset: this client is done, the server is not.
    }
}

asio::awaitable<void> listen(tcp::acceptor& acceptor) {
    for (;;) {
        tcp::socket socket = co_await acceptor.async_accept(asio::use_awaitable);
        socket.set_option(tcp::no_delay(true));
        asio::co_spawn(acceptor.get_executor(), echo(std::move(socket)), asio::detached);
    }
}

}  // namespace

int main(int argc, char** argv) {
    std::string host = "127.0.0.1";
    std::uint16_t port = 0;
    for (int i = 1; i < argc; ++i) {
        const std::string_view arg = argv[i];
        if (arg == "--host" && i + 1 < argc) {
            host = argv[++i];
        } else if (arg == "--port" && i + 1 < argc) {
            port = static_cast<std::uint16_t>(std::stoi(argv[++i]));
        } else if (arg == "--quiet") {
        } else {
            fmt::print(stderr, "usage: asio-echo [--host HOST] [--port PORT] [--quiet]\n");
            return arg == "--help" ? 0 : 2;
        }
    }
    try {
        asio::io_context context(1);
        tcp::acceptor acceptor(context, tcp::endpoint(asio::ip::make_address(host), port));
        acceptor.listen(4096);
        fmt::print("listening on {}:{}\n", host, acceptor.local_endpoint().port());
        std::fflush(stdout);
        asio::signal_set signals(context, SIGINT, SIGTERM);
        signals.async_wait([&](auto, auto) { context.stop(); });
        asio::co_spawn(context, listen(acceptor), asio::detached);
        context.run();
    } catch (const std::exception& error) {
        fmt::print(stderr, "error: {}\n", error.what());
        return 1;
    }
    return 0;
}
