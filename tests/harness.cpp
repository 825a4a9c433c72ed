// Tests of the test harness: deadlines fire, transcripts record, servers re-throw.
#include <doctest/doctest.h>

#include <atomic>
#include <cerrno>
#include <chrono>
#include <stdexcept>
#include <string>
#include <sys/socket.h>
#include <thread>
#include <unistd.h>

#include "background.hpp"
#include "harness.hpp"
#include "interrupts.hpp"
#include "net/address.hpp"
#include "net/error.hpp"
#include "net/tcp.hpp"
#include "udp_peer.hpp"
#include "waits.hpp"

TEST_CASE("escape() shows control bytes and cuts long strings") {
    CHECK(harness::escape("hi\n") == "hi\\n");
    CHECK(harness::escape(std::string("\0\x7f\"", 3)) == "\\x00\\x7f\\\"");
    CHECK(harness::escape(std::string(300, 'a')) == "[a x 300]");
    CHECK(harness::escape("hi" + std::string(20, '\0') + "!") == "hi[\\x00 x 20]!");
    CHECK(harness::escape(std::string(50, 'x') + std::string("abcdefg") + std::string(300, 'y'), 20) ==
          "[x x 50]abcdefg[y x 300]");
    CHECK(harness::escape("abcdefghij", 4) == "abcd... (10 bytes in all)");
}

TEST_CASE("random_bytes() is reproducible from its seed") {
    CHECK(harness::random_bytes(64, 7) == harness::random_bytes(64, 7));
    CHECK(harness::random_bytes(64, 7) != harness::random_bytes(64, 8));
}

TEST_CASE("LoopbackServer serves on a kernel-chosen loopback port and the client keeps a transcript") {
    harness::LoopbackServer server([](int listener) {
        harness::Client peer(harness::accept_within(listener), "client");
        const std::string got = peer.recv_exact(5);
        peer.send(got);
    });
    CHECK(server.port() != 0);
    auto client = harness::Client::connect(server.port());
    client.send("hello");
    CHECK(client.recv_exact(5) == "hello");
    client.expect_eof();
    server.join();
    const std::string transcript = client.transcript().str();
    CHECK(transcript.find("test sent     \"hello\" (5 bytes)") != std::string::npos);
    CHECK(transcript.find("closed the connection") != std::string::npos);
}

TEST_CASE("a silent peer makes recv_exact time out, naming the step") {
    harness::LoopbackServer server([](int listener) {
        harness::Client peer(harness::accept_within(listener), "client");
        (void)peer.recv_until_eof();
    });
    auto client = harness::Client::connect(server.port());
    const auto start = std::chrono::steady_clock::now();
    try {
        (void)client.recv_exact(3, std::chrono::milliseconds(200));
        FAIL("no timeout");
    } catch (const harness::Timeout& timeout) {
        CHECK(std::string(timeout.what()) == "timed out after 200 ms: waiting for 3 bytes from the server, 0 arrived so far");
    }
    CHECK(std::chrono::steady_clock::now() - start < std::chrono::seconds(1));
    client.close();
    server.join();
}

TEST_CASE("a peer that closes early is an error, not a hang") {
    harness::LoopbackServer server([](int listener) {
        harness::Client peer(harness::accept_within(listener), "client");
        peer.send("ab");
    });
    auto client = harness::Client::connect(server.port());
    CHECK_THROWS_WITH(client.recv_exact(5), "the server closed the connection after 2 of the 5 bytes expected");
    server.join();
}

TEST_CASE("LoopbackServer re-throws what the server function threw") {
    harness::LoopbackServer server([](int) { throw std::runtime_error("server broke"); });
    CHECK_THROWS_WITH(server.join(), "server broke");
}

TEST_CASE("LoopbackServer unblocks a server stuck in accept and reports the timeout") {
    harness::LoopbackServer server([](int listener) { (void)::accept(listener, nullptr, nullptr); });
    CHECK_THROWS_AS(server.join(std::chrono::milliseconds(100)), harness::Timeout);
}

TEST_CASE("within() returns the result, re-throws, and times out naming the step") {
    CHECK(harness::within(std::chrono::milliseconds(500), "adding", [] { return 2 + 2; }) == 4);
    CHECK_THROWS_WITH(harness::within(std::chrono::milliseconds(500), "failing",
                                      []() -> int { throw std::runtime_error("inner"); }),
                      "inner");
    int fds[2];
    REQUIRE(::socketpair(AF_UNIX, SOCK_STREAM, 0, fds) == 0);
    net::Fd mine{fds[0]};
    net::Fd theirs{fds[1]};
    CHECK_THROWS_WITH(harness::within(
                          std::chrono::milliseconds(100), "reading from a silent peer",
                          [&] {
                              char byte;
                              return ::recv(theirs.get(), &byte, 1, 0);
                          },
                          [&] { ::shutdown(theirs.get(), SHUT_RDWR); }),
                      "timed out after 100 ms: reading from a silent peer");
}

TEST_CASE("open_fd_count() sees a descriptor come and go") {
    const int before = harness::open_fd_count();
    {
        net::Fd extra{::dup(0)};
        CHECK(harness::open_fd_count() == before + 1);
    }
    CHECK(harness::open_fd_count() == before);
}

// ---- waits: blocked threads and drained sockets ------------------------------

namespace {

// A connected pair of loopback TCP sockets.
struct SocketPair {
    SocketPair() {
        const net::Fd listener = net::listen_tcp("127.0.0.1", 0);
        a = net::connect_tcp("127.0.0.1", net::local_port(listener.get()), std::chrono::seconds(2));
        b = harness::accept_within(listener.get());
    }
    net::Fd a;
    net::Fd b;
};

// A thread that recv()s from `fd` into got() until EOF. Made with
// Start::on_release it spins in user space (running, never blocked) until
// release(). The destructor releases it, shuts `writer` down and joins it.
class RecordingReader {
public:
    enum class Start { now, on_release };

    RecordingReader(int fd, int writer, Start start = Start::now)
        : writer_(writer), may_read_(start == Start::now), thread_([this, fd] { run(fd); }) {
        while (tid_.load() == 0) {
            std::this_thread::yield();
        }
    }
    ~RecordingReader() {
        release();
        ::shutdown(writer_, SHUT_RDWR);
        thread_.join();
    }
    RecordingReader(const RecordingReader&) = delete;
    RecordingReader& operator=(const RecordingReader&) = delete;

    [[nodiscard]] pid_t tid() const { return tid_.load(); }
    void release() { may_read_.store(true); }
    [[nodiscard]] const std::string& got() const { return got_; }

private:
    void run(int fd) {
        tid_.store(harness::thread_id());
        while (!may_read_.load()) {
        }
        char buffer[64];
        for (;;) {
            const ssize_t n = ::recv(fd, buffer, sizeof buffer, 0);
            if (n <= 0) {
                return;
            }
            got_.append(buffer, static_cast<std::size_t>(n));
        }
    }

    int writer_;
    std::atomic<pid_t> tid_{0};
    std::atomic<bool> may_read_;
    std::string got_;
    std::thread thread_;  // last: it uses everything above
};

}  // namespace

TEST_CASE("wait_until_blocked: a thread spinning in user space never counts as blocked") {
    std::atomic<bool> stop{false};
    std::atomic<pid_t> tid{0};
    std::thread spinner([&] {
        tid.store(harness::thread_id());
        while (!stop.load()) {
        }
    });
    while (tid.load() == 0) {
        std::this_thread::yield();
    }
    CHECK_THROWS_AS(harness::wait_until_blocked(tid.load(), "a spinning thread", {}, std::chrono::milliseconds(300)),
                    harness::Timeout);
    stop.store(true);
    spinner.join();
}

TEST_CASE("wait_until_blocked: a thread in recv counts; with a mark, only a sleep after it counts") {
    SocketPair pair;
    const RecordingReader reader(pair.b.get(), pair.a.get());
    harness::wait_until_blocked(reader.tid(), "reader blocked in recv", {.in = harness::input_calls()});
    const harness::ThreadState before = harness::thread_state(reader.tid());
    CHECK(before.asleep);
    CHECK(before.describe().find("recvfrom") != std::string::npos);
    for (int round = 0; round < 50; ++round) {
        const auto mark = harness::thread_state(reader.tid()).sleeps;
        REQUIRE(::send(pair.a.get(), "x", 1, MSG_NOSIGNAL) == 1);
        harness::wait_until_blocked(reader.tid(), "reader took the byte", {.in = harness::input_calls(), .after = mark});
        // Asleep in recv after the byte was queued: it has read it.
        CHECK(harness::unread_bytes(pair.b.get()) == 0);
        CHECK(reader.got().size() == static_cast<std::size_t>(round + 1));
    }
}

TEST_CASE("peer_socket finds the other end; wait_until_taken waits for the reader to take it all and block again") {
    SocketPair pair;
    CHECK(harness::peer_socket(pair.a.get()) == pair.b.get());
    CHECK(harness::peer_socket(pair.b.get()) == pair.a.get());
    RecordingReader reader(pair.b.get(), pair.a.get(), RecordingReader::Start::on_release);
    REQUIRE(::send(pair.a.get(), "abc", 3, MSG_NOSIGNAL) == 3);
    CHECK_THROWS_AS(harness::wait_until_taken(pair.a.get(), pair.b.get(), reader.tid(), "a reader that spins",
                                              std::chrono::milliseconds(200)),
                    harness::Timeout);
    reader.release();
    for (int round = 0; round < 50; ++round) {
        harness::wait_until_taken(pair.a.get(), pair.b.get(), reader.tid(), "the reader took it all");
        CHECK(reader.got().size() == static_cast<std::size_t>(3 + round));
        REQUIRE(::send(pair.a.get(), "x", 1, MSG_NOSIGNAL) == 1);
    }
}

TEST_CASE("wait_until_read waits for the peer program, not just its kernel") {
    SocketPair pair;
    REQUIRE(::send(pair.a.get(), "hello", 5, MSG_NOSIGNAL) == 5);
    harness::wait_until_acknowledged(pair.a.get(), "the peer's kernel has the bytes");
    CHECK(harness::unread_bytes(pair.b.get()) == 5);
    CHECK_THROWS_AS(harness::wait_until_read(pair.a.get(), pair.b.get(), "nobody reads", std::chrono::milliseconds(100)),
                    harness::Timeout);
    char buffer[5];
    REQUIRE(::recv(pair.b.get(), buffer, sizeof buffer, 0) == 5);
    harness::wait_until_read(pair.a.get(), pair.b.get(), "read now");
}

TEST_CASE("InterruptStorm: only signals that hit a blocked call count as landed") {
    std::atomic<bool> stop{false};
    std::size_t sent = 0;
    std::size_t landed = 0;
    std::thread spinner([&] {
        const harness::InterruptStorm storm(::pthread_self());
        while (storm.sent() < 20) {
        }
        sent = storm.sent();
        landed = storm.landed();
    });
    spinner.join();
    CHECK(sent >= 20);
    CHECK(landed == 0);

    SocketPair pair;
    const std::size_t at_start = harness::interrupts_landed();
    std::atomic<int> eintr{0};
    std::thread reader([&] {
        const harness::InterruptStorm storm(::pthread_self());
        char byte = 0;
        for (;;) {
            const ssize_t n = ::recv(pair.b.get(), &byte, 1, 0);
            if (n < 0 && errno == EINTR) {
                ++eintr;
                continue;
            }
            return;
        }
    });
    const harness::Deadline deadline(std::chrono::milliseconds(2000));
    // Each landed signal interrupts the recv (EINTR), but the last one may
    // race with the shutdown below: wait for the reader's own count too.
    while ((harness::interrupts_landed() < at_start + 10 || eintr.load() < 10) && !deadline.expired()) {
        std::this_thread::sleep_for(std::chrono::microseconds(200));  // polls two counters
    }
    ::shutdown(pair.a.get(), SHUT_WR);
    reader.join();
    CHECK(harness::interrupts_landed() >= at_start + 10);
    CHECK(eintr.load() >= 10);
}

// ---- BackgroundServer: Ctrl-C for a server on a thread -----------------------

TEST_CASE("BackgroundServer: stop() sets the flag, signals the blocked thread, returns the body's result") {
    harness::BackgroundTcpServer server([](int listener, const std::atomic<bool>& stop) {
        std::size_t accepted = 0;
        while (!stop.load()) {
            const int client = ::accept4(listener, nullptr, nullptr, SOCK_CLOEXEC);
            if (client < 0) {
                if (errno == EINTR) {
                    continue;  // the stop signal: look at the flag again
                }
                net::throw_errno("accept");
            }
            ::close(client);
            ++accepted;
        }
        return accepted;
    });
    {
        auto client = harness::Client::connect(server.port());
        client.expect_eof();
    }
    harness::wait_until_blocked(server.thread_id(), "server blocked in accept");
    CHECK(server.stop() == 1);
}

TEST_CASE("BackgroundServer: a body that ignores the flag is unblocked by shutdown and reported as a Timeout") {
    harness::BackgroundUdpServer server([](int socket, const std::atomic<bool>&) {
        char byte = 0;
        while (::recv(socket, &byte, 1, 0) < 0) {
        }
        return std::size_t{7};
    });
    CHECK_THROWS_AS((void)server.stop(std::chrono::milliseconds(100)), harness::Timeout);
}

TEST_CASE("BackgroundServer: what the body throws comes back from stop()") {
    harness::BackgroundServer server([](const std::atomic<bool>&) -> std::size_t {
        throw std::runtime_error("not started");
    });
    CHECK_THROWS_WITH_AS((void)server.stop(), "not started", std::runtime_error);
}

TEST_CASE("UdpServer with a UdpPeer body: a scripted fake server answers the sender") {
    harness::UdpServer fake([](harness::UdpPeer& socket) {
        const harness::UdpDatagram asked = socket.receive(std::chrono::milliseconds(2000), "the fake's request");
        socket.send_to(asked.sender, "reply to " + asked.bytes);
    });
    harness::UdpPeer client;
    client.send_to(fake.address(), "ask");
    CHECK(client.receive(std::chrono::milliseconds(2000), "the fake's reply").bytes == "reply to ask");
    fake.join();
    CHECK(fake.socket().transcript().find("\"reply to ask\"") != std::string::npos);
}

TEST_CASE("BackgroundUdpServer: a server loop with an InterruptStorm on its thread answers, then stops") {
    harness::BackgroundUdpServer server([](int socket, const std::atomic<bool>& stop) {
        const harness::InterruptStorm storm(::pthread_self());
        std::size_t answered = 0;
        char buffer[512];
        while (!stop.load()) {
            net::Address from;
            from.length = sizeof from.storage;
            const ssize_t n = ::recvfrom(socket, buffer, sizeof buffer, 0, from.get(), &from.length);
            if (n < 0 && errno == EINTR) {
                continue;
            }
            if (n < 0) {
                net::throw_errno("recvfrom");
            }
            net::check(::sendto(socket, buffer, static_cast<std::size_t>(n), 0, from.get(), from.length), "sendto");
            ++answered;
        }
        return answered;
    });
    harness::UdpPeer client;
    client.send_to(server.address(), "ping");
    CHECK(client.receive(std::chrono::milliseconds(2000), "the echo").bytes == "ping");
    CHECK(server.stop() == 1);
}
