// chat-server — many clients, one thread: a poll() loop.
//
//     chat-server --port 5000        then, in two or more terminals:  nc 127.0.0.1 5000
//
// Type a nick first, then chat: every line goes to everyone else. --select
// runs the same loop on select() (and shows its FD_SETSIZE limit with
// --open-files 1100); --echo serves plain echo instead of the chat, for the
// benchmarks; --quiet stops the per-call narration. Ctrl-C stops it at once,
// through the self-pipe (self-pipe.hpp).
#include <cerrno>
#include <fcntl.h>
#include <memory>
#include <string>
#include <sys/resource.h>
#include <vector>

#include "chat-room.hpp"
#include "echo.hpp"
#include "loops.hpp"
#include "net/address.hpp"
#include "net/args.hpp"
#include "net/error.hpp"
#include "net/fd.hpp"
#include "net/log.hpp"
#include "net/tcp.hpp"
#include "self-pipe.hpp"

namespace {

// Opens /dev/null `count` times, so that the sockets accepted from now on get
// descriptor numbers above `count`: how a busy server looks to select().
std::vector<net::Fd> open_files(long long count) {
    rlimit limit{};
    net::check(::getrlimit(RLIMIT_NOFILE, &limit), "getrlimit");
    const auto needed = static_cast<rlim_t>(count + 64);
    if (limit.rlim_cur < needed) {
        limit.rlim_cur = needed;  // the soft limit may be raised up to the hard one
        net::check(::setrlimit(RLIMIT_NOFILE, &limit), "setrlimit RLIMIT_NOFILE");
    }
    std::vector<net::Fd> files;
    for (long long i = 0; i < count; ++i) {
        files.emplace_back(net::check(::open("/dev/null", O_RDONLY | O_CLOEXEC), "open /dev/null"));
    }
    net::log::info("holding {} open: the next descriptor is {}", net::plural(count, "file"), files.back().get() + 1);
    return files;
}

int serve(const net::Args& args) {
    const chat::Narration say{.on = !args.flag("--quiet")};
    const chat::SelfPipe wake;  // before anything blocks: Ctrl-C is never missed
    const net::Fd listener = net::listen_tcp(args.host(), args.port());
    say.step("self-pipe: fd {}; listening socket: fd {}", wake.read_fd(), listener.get());
    net::log::info("listening on {}  (try: nc {} {})", net::to_string(net::local_address(listener.get())),
                   args.host(), net::local_port(listener.get()));

    std::vector<net::Fd> ballast;
    if (const long long count = args.integer("--open-files", 0, 1 << 20); count > 0) {
        ballast = open_files(count);
    }

    std::unique_ptr<chat::Service> service;
    if (args.flag("--echo")) {
        service = std::make_unique<chat::Echo>(say);
    } else {
        service = std::make_unique<chat::ChatRoom>(say);
    }
    if (args.flag("--select")) {
        chat::run_select_loop(listener.get(), wake, *service, say);
    } else {
        chat::run_poll_loop(listener.get(), wake, *service, say);
    }
    return 0;
}

}  // namespace

int main(int argc, char** argv) {
    const net::Usage usage{
        .program = "chat-server",
        .summary = "A line chat for any number of clients on one thread: the first line a client\n"
                   "sends is its nick, every later line goes to everyone else. Stop it with Ctrl-C.",
        .options = {
            {"--select", "", "wait with select() instead of poll() (descriptors must stay below 1024)"},
            {"--echo", "", "serve plain echo instead of the chat (for tools/bench)"},
            {"--quiet", "", "print no per-call narration"},
            {"--open-files", "N", "hold N files open first, so clients get descriptors above N", "0"},
        },
    };
    return net::run_main(argc, argv, usage, serve);
}
