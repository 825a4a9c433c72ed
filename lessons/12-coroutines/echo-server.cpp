// echo-server — asyncio's echo server, line for line, in C++20 coroutines.
//
//     echo-server --port 5000          then:  nc -N 127.0.0.1 5000
//
// One thread, one net::EventLoop. Each client is a task: it reads, writes
// every byte back, and waits (co_await) whenever the socket has nothing to
// give or no room to take; while it waits, the loop runs the other tasks.
// Chapter 12 puts this file beside the Python it copies:
//
//     async def handle_echo(reader, writer):
//         while data := await reader.read(16384):
//             writer.write(data)
//             await writer.drain()
//         writer.close()
//
//     server = await asyncio.start_server(handle_echo, host, port)
#include <chrono>
#include <cstddef>
#include <string>
#include <system_error>
#include <vector>

#include "net/address.hpp"
#include "net/args.hpp"
#include "net/awaitables.hpp"
#include "net/event_loop.hpp"
#include "net/log.hpp"
#include "net/signals.hpp"
#include "net/task.hpp"
#include "net/tcp.hpp"
#include "stream.hpp"

namespace {

bool quiet = false;

net::Task<void> handle_echo(net::EventLoop& loop, net::Accepted client) {
    lesson12::Stream stream(loop, std::move(client.connection));  // reader, writer
    const std::string peer = net::to_string(client.peer);         // writer.get_extra_info('peername')
    try {
        char data[16 * 1024];
        while (const std::size_t n = co_await stream.read(data)) {  // while data := await reader.read(16384):
            if (!quiet) {
                net::log::step("{}: read {}, writing it back", peer, net::plural(n, "byte"));
            }
            co_await stream.write_all({data, n});  // writer.write(data); await writer.drain()
        }
    } catch (const std::system_error& e) {  // except ConnectionError: a reset ends only this client
        if (!quiet) {
            net::log::warn("{}: {}", peer, e.what());
        }
    }
    if (!quiet) {
        net::log::info("{}: closed", peer);  // writer.close(): ~Stream unwatches and closes
    }
}

// asyncio.start_server(handle_echo, host, port) and serve_forever().
net::Task<void> start_server(net::EventLoop& loop, net::AsyncListener& listener, std::vector<net::Spawned>& clients) {
    for (;;) {
        bool out_of_descriptors = false;
        try {
            net::Accepted client = co_await listener.accept();
            if (!quiet) {
                net::log::step("accept4() = {}  {}", client.connection.get(), net::to_string(client.peer));
            }
            if (clients.size() == clients.capacity()) {  // forget the finished ones before the vector grows
                std::erase_if(clients, [](const net::Spawned& task) { return task.done(); });
            }
            clients.push_back(net::spawn(handle_echo(loop, std::move(client))));
        } catch (const std::system_error& e) {  // EMFILE: out of descriptors; the queue keeps the clients
            net::log::warn("{}; accepting again in 100 ms", e.what());
            out_of_descriptors = true;
        }
        if (out_of_descriptors) {  // (no co_await inside a catch block: C++ forbids it)
            co_await net::sleep(loop, std::chrono::milliseconds(100));
        }
    }
}

int serve(const net::Args& args) {
    quiet = args.flag("--quiet");
    net::stop_on_signals();
    net::EventLoop loop;
    net::AsyncListener listener(loop, net::listen_tcp(args.host(), args.port()));
    net::log::info("listening on {}  (try: nc -N {} {})", net::to_string(net::local_address(listener.fd())),
                   args.host(), net::local_port(listener.fd()));
    std::vector<net::Spawned> clients;
    net::Spawned server = net::spawn(start_server(loop, listener, clients));
    loop.run();  // until Ctrl-C
    // Like asyncio.run at its end: cancel what is still running. Each frame's
    // Stream unwatches and closes its socket as the frame is destroyed.
    std::size_t cancelled = 0;
    for (net::Spawned& client : clients) {
        cancelled += client.done() ? 0U : 1U;
        client.cancel();
    }
    server.cancel();
    net::log::info("stopped: {} cancelled, {} turns of the loop", net::plural(cancelled, "client"), loop.wakeups());
    return 0;
}

}  // namespace

int main(int argc, char** argv) {
    const net::Usage usage{
        .program = "echo-server",
        .summary = "asyncio's echo server in C++20 coroutines: one task per client on one\n"
                   "epoll loop. Stop it with Ctrl-C.",
        .options = {
            {"--quiet", "", "print no per-call narration"},
        },
    };
    return net::run_main(argc, argv, usage, serve);
}
