#pragma once
// Waits that replace sleeps: "that thread is blocked in a system call" and
// "the peer has read everything I sent". Each polls what the kernel reports
// (/proc/self/task/<tid>/..., SIOCOUTQ, SIOCINQ) until it holds or a deadline
// passes, and says exactly what it guarantees.

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <sys/types.h>
#include <vector>

#include "harness.hpp"

namespace harness {

// The kernel's id of the calling thread (gettid()), the name under which
// /proc/self/task/<tid> describes it. LoopbackServer::thread_id(),
// CodeUnderTest::thread_id() and BackgroundServer::thread_id() give theirs.
[[nodiscard]] pid_t thread_id() noexcept;

// One look at a thread of this process, as the kernel reports it.
struct ThreadState {
    // Asleep inside a system call (not running, not runnable): what
    // /proc/self/task/<tid>/syscall shows as a number rather than "running".
    bool asleep = false;
    long syscall = -1;                // that call's number (SYS_recvfrom…) while asleep, else -1
    std::uint64_t sleeps = 0;         // voluntary context switches so far: +1 each time it blocks
    [[nodiscard]] std::string describe() const;  // "asleep in recvfrom (45)", "running"
};
[[nodiscard]] ThreadState thread_state(pid_t tid);

// The system calls a thread sleeps in while it waits for input:
// read/readv/recv*/poll/select/epoll_wait and their variants.
[[nodiscard]] const std::vector<long>& input_calls();

// What wait_until_blocked waits for.
struct Blocked {
    // One of these system calls; empty means any call but futex (a lock is
    // not what a test waits for).
    std::vector<long> in = {};
    // A sleep that began after this mark (a ThreadState::sleeps). Take the
    // mark while the thread is ALREADY asleep in the call, before the event
    // that wakes it: its next sleep then began after that event. (A mark
    // taken after the event can miss a quick reader that already slept again;
    // a mark taken while it runs can count a sleep from before the event.)
    std::uint64_t after = 0;
};

// Waits until thread `tid` is asleep in a system call as `what` describes;
// Timeout naming `step` otherwise. Like every harness wait it re-throws a
// failure of the code under test at once.
//
// Guarantees: at the moment it returns, the thread was asleep in that call,
// and (with `after`) had gone to sleep since the mark. A thread spinning in
// user space, or runnable after a wake-up, never counts.
//
// "The reader took the first piece" for a reader the test can see blocked:
//
//     harness::wait_until_blocked(reader, "reader waits", {.in = harness::input_calls()});
//     const auto mark = harness::thread_state(reader).sleeps;
//     peer.send(first_piece);
//     harness::wait_until_blocked(reader, "reader took the first piece",
//                                 {.in = harness::input_calls(), .after = mark});
//     peer.send(second_piece);   // arrives in a separate recv
//
// (A signal that wakes the reader between the mark and the send breaks the
// reasoning; use wait_until_taken when the reader's socket is in this process.)
void wait_until_blocked(pid_t tid, std::string_view step, const Blocked& what = {},
                        milliseconds timeout = default_timeout);

// Bytes in `fd`'s send queue that the peer's kernel has not acknowledged yet
// (SIOCOUTQ): on loopback it drops to 0 once the peer's KERNEL holds them,
// whether or not the peer PROGRAM has read them.
[[nodiscard]] std::size_t unacknowledged_bytes(int fd);
// Bytes waiting in `fd`'s receive queue, unread by the program (SIOCINQ).
[[nodiscard]] std::size_t unread_bytes(int fd);

// Waits until the peer's kernel has every byte sent on `fd` (SIOCOUTQ == 0).
// It says nothing about the peer program: pair it with wait_until_blocked
// (a reader asleep in recv with nothing queued has read it all) or use
// wait_until_read when the test holds the peer's socket.
void wait_until_acknowledged(int fd, std::string_view step, milliseconds timeout = default_timeout);

// Waits until the program owning `peer_fd` (a socket of this process, the
// other end of `fd`) has read every byte sent on `fd`: our send queue and its
// receive queue are both empty.
void wait_until_read(int fd, int peer_fd, std::string_view step, milliseconds timeout = default_timeout);

// The socket of this process that is the other end of the TCP connection
// `fd` (matched by address with getsockname/getpeername over /proc/self/fd):
// the code under test's socket, which the test never sees otherwise. -1 if
// the other end is not in this process.
[[nodiscard]] int peer_socket(int fd);
// The same, waiting until that socket exists (the server has accepted it).
[[nodiscard]] int wait_for_peer_socket(int fd, std::string_view step, milliseconds timeout = default_timeout);

// Waits until thread `reader`, which reads from `peer_fd` (the other end of
// `fd`), has taken every byte sent on `fd` out of its socket AND is asleep in
// an input call since: the recv that took them has returned (or, with
// MSG_WAITALL, is waiting for more), so whatever the test sends next arrives
// in a later recv. No window: the emptied queue proves the reader ran after
// the bytes arrived, so the sleep seen after it is a new one.
void wait_until_taken(int fd, int peer_fd, pid_t reader, std::string_view step,
                      milliseconds timeout = default_timeout);

}  // namespace harness
