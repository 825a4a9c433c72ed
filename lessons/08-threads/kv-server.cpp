// kv-server — a key-value store that serves many clients at once (chapter 08).
//
//     kv-server --port 5000                   then:  nc 127.0.0.1 5000
//     SET fruit pear        → OK
//     GET fruit             → VALUE pear
//     INCR visits           → VALUE 1
//     DEL fruit             → DELETED
//     QUIT                  → BYE (and the server closes)
//
// Four ways to serve many clients, one per file:
//   --model one      one client at a time, as in chapters 02-07 (the others wait)
//   --model thread   a thread per client (thread-model.hpp)
//   --model fork     a process per client (fork-model.hpp): each has its own store!
//   --model pool     N worker threads and a bounded queue (pool-model.hpp), the default
//
// --echo serves plain echo instead (the same models, for tools/bench), --quiet
// stops the per-call narration, --unlocked drops the store's mutex (lost updates),
// --no-collect drops fork's SIGCHLD handler (zombies).
// Ctrl-C stops accepting, lets the clients in flight finish (up to --grace-ms),
// joins every thread, collects every child, and exits 0.
#include <chrono>
#include <cstddef>
#include <string>

#include "fork-model.hpp"
#include "kv-store.hpp"
#include "net/address.hpp"
#include "net/args.hpp"
#include "net/log.hpp"
#include "net/signals.hpp"
#include "net/tcp.hpp"
#include "pool-model.hpp"
#include "session.hpp"
#include "thread-model.hpp"

namespace {

void serve_one_at_a_time(int listener, const kv::Service& service) {
    while (!net::stop_requested()) {
        net::Accepted client = net::accept_client(listener);
        if (!client) {
            continue;
        }
        const std::string who = net::to_string(client.peer);
        if (!service.quiet) {
            net::log::step("accept() from {}: everyone else waits until it leaves", who);
        }
        try {
            kv::serve(client.connection.get(), service, who);
        } catch (const std::exception& error) {
            if (!service.quiet) {
                net::log::warn("client {}: {}", who, error.what());
            }
        }
    }
}

int run(const net::Args& args) {
    const std::string model = args.value("--model");
    if (model != "one" && model != "thread" && model != "fork" && model != "pool") {
        throw net::UsageError("--model must be one, thread, fork or pool");
    }
    const auto workers = static_cast<std::size_t>(args.integer("--workers", 1, 1024));
    const auto queue = static_cast<std::size_t>(args.integer("--queue", 1, 1'000'000));
    const std::chrono::milliseconds grace{args.integer("--grace-ms", 0, 3'600'000)};

    net::stop_on_signals();
    kv::Store store(!args.flag("--unlocked"));
    const kv::Service service{.store = &store, .echo = args.flag("--echo"), .quiet = args.flag("--quiet")};
    const net::Fd listener = net::listen_tcp(args.host(), args.port());
    net::log::info("listening on {}  ({} {}; try: nc {} {})", net::to_string(net::local_address(listener.get())),
                   service.echo ? "echo" : "key-value store", model == "pool" ? fmt::format("pool of {}", workers) : model,
                   args.host(), net::local_port(listener.get()));
    if (args.flag("--unlocked")) {
        net::log::warn("the store has no lock (--unlocked): concurrent INCRs lose counts");
    }

    if (model == "one") {
        serve_one_at_a_time(listener.get(), service);
    } else if (model == "thread") {
        kv::serve_thread_per_client(listener.get(), service, grace);
    } else if (model == "fork") {
        kv::serve_process_per_client(listener.get(), service, grace, !args.flag("--no-collect"));
    } else {
        kv::serve_pool(listener.get(), service, workers, queue, grace);
    }
    net::log::info("stopped cleanly");
    return 0;
}

}  // namespace

int main(int argc, char** argv) {
    const net::Usage usage{
        .program = "kv-server",
        .summary = "A key-value store (SET k v, GET k, DEL k, INCR k, QUIT; one command per line)\n"
                   "that serves many clients at once: one at a time, a thread or a process per\n"
                   "client, or a bounded pool of worker threads. Ctrl-C stops it cleanly.",
        .options = {{"--model", "MODEL", "one, thread, fork or pool", "pool"},
                    {"--workers", "N", "worker threads of the pool", "8"},
                    {"--queue", "N", "clients the pool queues before it answers ERR busy", "64"},
                    {"--grace-ms", "MS", "on Ctrl-C, how long clients in flight may take to finish", "2000"},
                    {"--echo", "", "serve plain echo instead of the store (for tools/bench)"},
                    {"--quiet", "", "no per-call narration"},
                    {"--unlocked", "", "no mutex around the store (shows lost updates)"},
                    {"--no-collect", "", "--model fork without the SIGCHLD handler (shows zombies)"}},
    };
    return net::run_main(argc, argv, usage, run);
}
