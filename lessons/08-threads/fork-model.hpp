#pragma once
// --model fork: a process per client, like Python's ForkingMixIn (chapter 08).
// Each child has its own copy of everything, the store included: a SET in
// one connection is invisible to the others. And a child that exits stays a
// zombie until its parent collects it with waitpid(): the SIGCHLD handler
// below does that.

#include <cerrno>
#include <chrono>
#include <csignal>
#include <ctime>
#include <exception>
#include <set>
#include <string>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

#include <fmt/core.h>

#include "net/address.hpp"
#include "net/error.hpp"
#include "net/log.hpp"
#include "net/tcp.hpp"
#include "session.hpp"

namespace kv {

// SIGCHLD says "a child ended" (one signal may stand for several), so the
// handler collects every finished child, never waiting for a live one
// (WNOHANG). waitpid is async-signal-safe; errno is saved because the code it
// interrupted may be about to read it.
extern "C" inline void collect_children(int) {
    const int saved_errno = errno;
    while (::waitpid(-1, nullptr, WNOHANG) > 0) {
    }
    errno = saved_errno;
}

inline void install_child_collector() {
    struct sigaction action {};
    action.sa_handler = collect_children;
    sigemptyset(&action.sa_mask);
    // SA_RESTART: a child ending is no reason for accept() to fail with EINTR.
    // SA_NOCLDSTOP: only ended children, not stopped ones.
    action.sa_flags = SA_RESTART | SA_NOCLDSTOP;
    net::check(::sigaction(SIGCHLD, &action, nullptr), "sigaction SIGCHLD");
}

// The child's whole life: serve one client, then _exit (no destructors, no
// atexit handlers: those belong to the parent's copy of the program).
[[noreturn]] inline void run_child(int listener, int client, const Service& service, const std::string& who) {
    ::close(listener);           // the child serves one client; only the parent accepts
    ::signal(SIGINT, SIG_IGN);   // Ctrl-C reaches the whole process group: the parent decides
    ::signal(SIGTERM, SIG_DFL);  // the parent's way to end a child after the grace period
    ::signal(SIGCHLD, SIG_DFL);
    int status = 0;
    try {
        serve(client, service, who);
    } catch (const std::exception& error) {
        if (!service.quiet) {
            net::log::warn("client {} (pid {}): {}", who, ::getpid(), error.what());
        }
        status = 1;
    }
    ::_exit(status);
}

// The children that waitpid(pid, WNOHANG) says are still ours and unfinished
// (a child the handler collected is no longer ours: ECHILD).
inline void forget_collected(std::set<pid_t>& children) {
    std::erase_if(children, [](pid_t child) { return ::waitpid(child, nullptr, WNOHANG) != 0; });
}

// `collect` false (--no-collect) leaves out the SIGCHLD handler, so that
// every child that has ended stays a zombie until the server stops.
inline std::string children_text(std::size_t count) {
    return fmt::format("{} {}", count, count == 1 ? "child" : "children");
}

inline void serve_process_per_client(int listener, const Service& service, std::chrono::milliseconds grace,
                                     bool collect = true) {
    if (collect) {
        install_child_collector();
    } else {
        net::log::warn("no SIGCHLD handler (--no-collect): ended children stay zombies (see: ps --ppid {})", ::getpid());
    }
    std::set<pid_t> children;
    while (!net::stop_requested()) {
        net::Accepted client = net::accept_client(listener);
        if (!client) {
            continue;
        }
        const std::string who = net::to_string(client.peer);
        const pid_t child = ::fork();
        if (child < 0) {
            net::log::warn("fork: {}: dropping client {}", std::strerror(errno), who);
            continue;
        }
        if (child == 0) {
            run_child(listener, client.connection.get(), service, who);
        }
        // The parent: the child has its own copy of the socket; close ours.
        children.insert(child);
        if (collect) {
            forget_collected(children);
        }
        if (!service.quiet) {
            net::log::step("accept() from {}, fork() = pid {} serves it ({} running)", who, child,
                           children.size());
        }
    }

    // The stop. Block SIGCHLD so that only this code collects children from
    // now on, and wait (sigtimedwait) for each SIGCHLD until none is left or
    // the grace period is over.
    sigset_t child_signal;
    sigemptyset(&child_signal);
    sigaddset(&child_signal, SIGCHLD);
    net::check(::sigprocmask(SIG_BLOCK, &child_signal, nullptr), "sigprocmask");
    net::log::info("stopping: no new clients; waiting up to {} ms for {}", grace.count(),
                   children_text(children.size()));
    const auto give_up = std::chrono::steady_clock::now() + grace;
    for (forget_collected(children); !children.empty(); forget_collected(children)) {
        const auto left = give_up - std::chrono::steady_clock::now();
        if (left <= std::chrono::steady_clock::duration::zero()) {
            break;
        }
        const auto nanoseconds = std::chrono::duration_cast<std::chrono::nanoseconds>(left).count();
        const timespec wait{nanoseconds / 1'000'000'000, nanoseconds % 1'000'000'000};
        ::sigtimedwait(&child_signal, nullptr, &wait);  // a child ended, the time is up, or Ctrl-C again
    }
    if (!children.empty()) {
        // Still unfinished, so still ours: the pid cannot belong to anyone else.
        net::log::warn("ending {} still serving after the grace period", children_text(children.size()));
        for (const pid_t child : children) {
            ::kill(child, SIGTERM);
        }
        for (const pid_t child : children) {
            ::waitpid(child, nullptr, 0);
        }
    }
    net::log::info("every child collected: no zombies left");
}

}  // namespace kv
