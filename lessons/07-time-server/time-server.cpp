// time-server — RFC 868 time and RFC 867 daytime over TCP, one client at a
// time, with a timeout on every client. (udp-time-server serves them over UDP.)
//
//     time-server --port 3700                      then:  rdate -p -o 3700 127.0.0.1
//     time-server --port 1300 --service daytime    then:  nc -d 127.0.0.1 1300
//
// daytime sends a line and closes. time sends 4 bytes, then waits for the
// client to close first, at most --timeout ms: the order of RFC 868's dialogue
// (its prose has the server close at once). This book's choice: TIME_WAIT
// then stays with the client, not with the busy server. How it waits
// (wait-for-close.hpp):
//   --timeout-style poll     one deadline for the whole wait (the default)
//   --timeout-style sockopt  SO_RCVTIMEO, Python's settimeout: per recv call
//   --timeout 0              for ever: one silent client freezes the server
#include <cerrno>
#include <chrono>
#include <cstring>
#include <string>
#include <system_error>

#include <fmt/core.h>

#include "net/address.hpp"
#include "net/args.hpp"
#include "net/fd.hpp"
#include "net/log.hpp"
#include "net/signals.hpp"
#include "net/stream.hpp"
#include "net/tcp.hpp"
#include "time-service.hpp"
#include "wait-for-close.hpp"

namespace {

using std::chrono::milliseconds;
using time_service::Service;

struct Settings {
    Service service = Service::time;
    milliseconds timeout{0};
    bool sockopt_style = false;
};

void serve_client(int client, const Settings& settings) {
    const std::string reply = time_service::answer(settings.service);
    net::send_all(client, reply);  // chapter 03: even 4 bytes may go out in pieces
    net::log::step("send() = {}", net::plural(static_cast<long long>(reply.size()), "byte"));
    if (settings.service == Service::daytime) {
        return;  // RFC 867: the server closes first
    }
    // RFC 868's dialogue: the client closes first. How long will we wait for it?
    if (settings.timeout.count() == 0) {
        (void)wait_for_close::for_ever(client);
    } else if (settings.sockopt_style) {
        wait_for_close::with_sockopt(client, settings.timeout);
    } else {
        wait_for_close::with_deadline(client, settings.timeout);
    }
}

int run(const net::Args& args) {
    Settings settings;
    settings.service = time_service::service_option(args);
    settings.timeout = milliseconds(args.integer("--timeout", 0, 3'600'000));
    const std::string style = args.value("--timeout-style");
    if (style != "poll" && style != "sockopt") {
        throw net::UsageError(fmt::format("--timeout-style must be poll or sockopt, got '{}'", style));
    }
    settings.sockopt_style = style == "sockopt";

    net::stop_on_signals();
    const net::Fd listener = net::listen_tcp(args.host(), args.port());
    const auto port = net::local_port(listener.get());
    net::log::info("listening on TCP {}  (try: {})", net::to_string(net::local_address(listener.get())),
                   settings.service == Service::daytime ? fmt::format("nc -d {} {}", args.host(), port)
                                                        : fmt::format("rdate -p -o {} {}", port, args.host()));
    while (!net::stop_requested()) {
        // accept4() through net::accept_client (chapter 04): a client lost in the
        // queue is skipped, a signal lets the loop condition decide.
        const net::Accepted client = net::accept_client(listener.get());
        if (!client) {
            if (client.error != EINTR) {
                net::log::warn("accept: {}: skipping that client", std::strerror(client.error));
            }
            continue;
        }
        const std::string who = net::to_string(client.peer);
        net::log::step("accept() = fd {} from {}", client.connection.get(), who);
        try {
            serve_client(client.connection.get(), settings);
        } catch (const std::system_error& error) {
            net::log::warn("client {}: {}", who, error.what());  // its trouble, not the server's
        }
        net::log::step("close(fd {})", client.connection.get());
    }
    net::log::info("stopping: signal received");
    return 0;
}

}  // namespace

int main(int argc, char** argv) {
    const net::Usage usage{
        .program = "time-server",
        .summary = "Tells the time over TCP: RFC 868 (4 bytes, seconds since 1900) or RFC 867 (a line\n"
                   "of text), one client at a time, never waiting on a client for ever.",
        .options = {{"--service", "NAME", "time (RFC 868) or daytime (RFC 867)", "time"},
                    {"--timeout", "MS", "how long a time client may take to close; 0: for ever", "5000"},
                    {"--timeout-style", "STYLE", "poll (one deadline) or sockopt (SO_RCVTIMEO, per recv)", "poll"}},
    };
    return net::run_main(argc, argv, usage, run);
}
