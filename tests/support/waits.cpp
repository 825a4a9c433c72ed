#include "waits.hpp"

#include <algorithm>
#include <charconv>
#include <dirent.h>
#include <chrono>
#include <fstream>
#include <linux/sockios.h>
#include <sstream>
#include <sys/ioctl.h>
#include <sys/syscall.h>
#include <thread>
#include <unistd.h>

#include <fmt/core.h>

#include "net/address.hpp"
#include "net/error.hpp"

namespace harness {

pid_t thread_id() noexcept { return ::gettid(); }

namespace {

std::string read_proc(pid_t tid, std::string_view file) {
    std::ifstream in(fmt::format("/proc/self/task/{}/{}", tid, file));
    if (!in) {
        throw std::runtime_error(fmt::format("cannot read /proc/self/task/{}/{}: no such thread in this process",
                                             tid, file));
    }
    std::ostringstream text;
    text << in.rdbuf();
    return text.str();
}

std::uint64_t voluntary_switches(pid_t tid) {
    const std::string status = read_proc(tid, "status");
    constexpr std::string_view key = "\nvoluntary_ctxt_switches:";
    const auto at = status.find(key);
    if (at == std::string::npos) {
        throw std::runtime_error("/proc/self/task/<tid>/status has no voluntary_ctxt_switches");
    }
    std::istringstream value(status.substr(at + key.size()));
    std::uint64_t count = 0;
    value >> count;
    return count;
}

std::string_view call_name(long number) {
    switch (number) {
    case SYS_read: return "read";
    case SYS_readv: return "readv";
    case SYS_write: return "write";
    case SYS_writev: return "writev";
    case SYS_recvfrom: return "recvfrom";
    case SYS_recvmsg: return "recvmsg";
    case SYS_sendto: return "sendto";
    case SYS_sendmsg: return "sendmsg";
    case SYS_accept: return "accept";
    case SYS_accept4: return "accept4";
    case SYS_connect: return "connect";
    case SYS_ppoll: return "ppoll";
    case SYS_pselect6: return "pselect6";
    case SYS_epoll_pwait: return "epoll_pwait";
    case SYS_futex: return "futex";
    case SYS_nanosleep: return "nanosleep";
    case SYS_clock_nanosleep: return "clock_nanosleep";
#ifdef SYS_poll
    case SYS_poll: return "poll";
#endif
#ifdef SYS_select
    case SYS_select: return "select";
#endif
#ifdef SYS_epoll_wait
    case SYS_epoll_wait: return "epoll_wait";
#endif
    default: return "system call";
    }
}

}  // namespace

std::string ThreadState::describe() const {
    if (!asleep) {
        return "running or runnable";
    }
    return fmt::format("asleep in {} ({})", call_name(syscall), syscall);
}

ThreadState thread_state(pid_t tid) {
    ThreadState state;
    // The count first: a sleep in progress when the call is read below was
    // already counted, so "sleeps > mark and asleep" means a sleep after the mark.
    state.sleeps = voluntary_switches(tid);
    // "running" while the thread runs or is runnable; "-1 …" when it is
    // blocked outside a system call; "<number> <args…>" asleep in one.
    const std::string call = read_proc(tid, "syscall");
    long number = -1;
    const auto [end, error] = std::from_chars(call.data(), call.data() + call.size(), number);
    if (error == std::errc{} && end != call.data() && number >= 0) {
        state.asleep = true;
        state.syscall = number;
    }
    return state;
}

const std::vector<long>& input_calls() {
    static const std::vector<long> calls = {
        SYS_read, SYS_readv, SYS_recvfrom, SYS_recvmsg, SYS_ppoll, SYS_pselect6, SYS_epoll_pwait,
#ifdef SYS_poll
        SYS_poll,
#endif
#ifdef SYS_select
        SYS_select,
#endif
#ifdef SYS_epoll_wait
        SYS_epoll_wait,
#endif
#ifdef SYS_epoll_pwait2
        SYS_epoll_pwait2,
#endif
    };
    return calls;
}

namespace {

bool matches(const ThreadState& state, const Blocked& what) {
    if (!state.asleep || state.sleeps <= what.after) {
        return false;
    }
    if (what.in.empty()) {
        return state.syscall != SYS_futex;
    }
    return std::find(what.in.begin(), what.in.end(), state.syscall) != what.in.end();
}

// Polls `holds` until it is true; between looks the thread yields the CPU for
// a few microseconds (two cores are shared by everything that runs).
template <typename Condition>
void poll_until(Condition holds, const Deadline& deadline, const std::function<std::string()>& step) {
    auto pause = std::chrono::microseconds(20);
    for (;;) {
        rethrow_server_failure();
        if (holds()) {
            return;
        }
        if (deadline.expired()) {
            throw Timeout(step(), deadline.budget());
        }
        std::this_thread::sleep_for(pause);  // between two looks at the kernel's state, not a guess at timing
        pause = std::min(pause * 2, std::chrono::microseconds(1000));
    }
}

int queued(int fd, unsigned long request, const char* name) {
    int bytes = 0;
    net::check(::ioctl(fd, request, &bytes), name);
    return bytes;
}

}  // namespace

void wait_until_blocked(pid_t tid, std::string_view step, const Blocked& what, milliseconds timeout) {
    ThreadState last;
    poll_until([&] {
        last = thread_state(tid);
        return matches(last, what);
    }, Deadline(timeout), [&] {
        return fmt::format("{} (waiting for thread {} to block in a system call; last seen {}, {} sleeps, "
                           "needed more than {})",
                           step, tid, last.describe(), last.sleeps, what.after);
    });
}

std::size_t unacknowledged_bytes(int fd) { return static_cast<std::size_t>(queued(fd, SIOCOUTQ, "ioctl SIOCOUTQ")); }

std::size_t unread_bytes(int fd) { return static_cast<std::size_t>(queued(fd, SIOCINQ, "ioctl SIOCINQ")); }

void wait_until_acknowledged(int fd, std::string_view step, milliseconds timeout) {
    std::size_t left = 0;
    poll_until([&] { return (left = unacknowledged_bytes(fd)) == 0; }, Deadline(timeout),
               [&] { return fmt::format("{} ({} bytes still unacknowledged by the peer)", step, left); });
}

void wait_until_read(int fd, int peer_fd, std::string_view step, milliseconds timeout) {
    std::size_t in_flight = 0;
    std::size_t unread = 0;
    poll_until([&] {
        // In this order: once our queue is empty every byte is in the peer's
        // receive queue or already read, so an empty receive queue after it
        // means read.
        in_flight = unacknowledged_bytes(fd);
        unread = unread_bytes(peer_fd);
        return in_flight == 0 && unread == 0;
    }, Deadline(timeout), [&] {
        return fmt::format("{} ({} bytes not yet at the peer, {} waiting unread in its socket)", step, in_flight,
                           unread);
    });
}

int peer_socket(int fd) {
    const net::Address want_local = net::peer_address(fd);
    const net::Address want_peer = net::local_address(fd);
    DIR* dir = ::opendir("/proc/self/fd");
    if (dir == nullptr) {
        net::throw_errno("opendir /proc/self/fd");
    }
    int found = -1;
    while (const dirent* entry = ::readdir(dir)) {
        int candidate = -1;
        const std::string_view name = entry->d_name;
        if (std::from_chars(name.data(), name.data() + name.size(), candidate).ec != std::errc{} ||
            candidate == fd || candidate == ::dirfd(dir)) {
            continue;
        }
        net::Address local;
        net::Address peer;
        local.length = sizeof local.storage;
        peer.length = sizeof peer.storage;
        if (::getsockname(candidate, local.get(), &local.length) != 0 ||
            ::getpeername(candidate, peer.get(), &peer.length) != 0) {
            continue;  // not a socket, or not a connected one
        }
        if (net::to_string(local) == net::to_string(want_local) && net::to_string(peer) == net::to_string(want_peer)) {
            found = candidate;
            break;
        }
    }
    ::closedir(dir);
    return found;
}

int wait_for_peer_socket(int fd, std::string_view step, milliseconds timeout) {
    int found = -1;
    poll_until([&] { return (found = peer_socket(fd)) >= 0; }, Deadline(timeout),
               [&] { return fmt::format("{} (the other end of socket {} is not open in this process)", step, fd); });
    return found;
}

void wait_until_taken(int fd, int peer_fd, pid_t reader, std::string_view step, milliseconds timeout) {
    const Deadline deadline(timeout);
    wait_until_read(fd, peer_fd, step, deadline.remaining());
    wait_until_blocked(reader, step, {.in = input_calls()}, std::max(deadline.remaining(), milliseconds(1)));
}

}  // namespace harness
