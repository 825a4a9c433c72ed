// Tests for exercise 02 — the echo server's and client's halves
// (exercises/02-tcp-client-server/echo.hpp). The test plays the other side
// over real loopback sockets; every wait has a deadline.
#include <doctest/doctest.h>

#include <atomic>
#include <cerrno>
#include <chrono>
#include <dlfcn.h>
#include <exception>
#include <netdb.h>
#include <netinet/in.h>
#include <optional>
#include <pthread.h>
#include <string>
#include <string_view>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <system_error>
#include <thread>
#include <unistd.h>
#include <utility>

#include "echo.hpp"
#include "harness.hpp"
#include "interrupts.hpp"
#include "net/address.hpp"
#include "net/error.hpp"
#include "waits.hpp"
#include "wire.hpp"

using namespace std::chrono_literals;

// ---- localhost as a stock dual-stack machine resolves it ---------------------
//
// On a stock Debian or Ubuntu machine getaddrinfo("localhost") gives ::1
// first, then 127.0.0.1 (RFC 6724 ranks IPv6 loopback first). Whether this
// machine's /etc/hosts says so is not the test's to choose, so while a
// DualStackLocalhost lives, "localhost" resolves exactly that way. The
// getaddrinfo below replaces the C library's in this test program (the
// linker takes the program's own definition first); every other call goes
// on to the real one.

namespace {

std::atomic<bool> dual_stack_localhost{false};

struct DualStackLocalhost {
    DualStackLocalhost() { dual_stack_localhost = true; }
    ~DualStackLocalhost() { dual_stack_localhost = false; }
    DualStackLocalhost(const DualStackLocalhost&) = delete;
    DualStackLocalhost& operator=(const DualStackLocalhost&) = delete;
};

using GetaddrinfoFunction = int (*)(const char*, const char*, const addrinfo*, addrinfo**);

GetaddrinfoFunction real_getaddrinfo() {
    static const auto real = reinterpret_cast<GetaddrinfoFunction>(::dlsym(RTLD_NEXT, "getaddrinfo"));
    return real;
}

}  // namespace

extern "C" int getaddrinfo(const char* node, const char* service, const addrinfo* hints, addrinfo** result) {
    if (!dual_stack_localhost.load() || node == nullptr || std::string_view(node) != "localhost") {
        return real_getaddrinfo()(node, service, hints, result);
    }
    // ::1's entries, then 127.0.0.1's, as one list (glibc's freeaddrinfo frees
    // a list entry by entry, so two lists joined are freed like one).
    addrinfo* six = nullptr;
    addrinfo* four = nullptr;
    const int six_error = real_getaddrinfo()("::1", service, hints, &six);
    const int four_error = real_getaddrinfo()("127.0.0.1", service, hints, &four);
    if (six_error != 0) {
        *result = four;  // the hints asked for IPv4 only, say
        return four_error;
    }
    if (four_error == 0) {
        addrinfo* last = six;
        while (last->ai_next != nullptr) {
            last = last->ai_next;
        }
        last->ai_next = four;
    }
    *result = six;
    return 0;
}

namespace {

// Holds a TCP port on ::1 without listening: a connect there is refused (the
// kernel answers the SYN with a reset), and nothing else can listen there
// meanwhile. An invalid Fd if something on ::1 has that port already.
net::Fd refusing_ipv6(std::uint16_t port) {
    net::Fd sock{net::check(::socket(AF_INET6, SOCK_STREAM | SOCK_CLOEXEC, 0), "test's socket AF_INET6")};
    const net::Address address = net::resolve("::1", std::to_string(port), net::tcp_hints(AI_NUMERICHOST)).front().address;
    if (::bind(sock.get(), address.get(), address.length) < 0) {
        if (errno == EADDRINUSE) {
            return net::Fd{};
        }
        net::throw_errno("test's bind [::1]");
    }
    return sock;
}

// Sends `data` on `fd` from a thread of its own, then shuts down the sending
// side, while the test reads the echo: sending it all before reading would
// fill every buffer on the way and block both ends (chapter 02 says why).
class BackgroundSend {
public:
    BackgroundSend(int fd, std::string data)
        : fd_(fd), thread_([this, data = std::move(data)] {
              try {
                  std::size_t sent = 0;
                  while (sent < data.size()) {
                      const ssize_t n = ::send(fd_, data.data() + sent, data.size() - sent, MSG_NOSIGNAL);
                      if (n < 0) {
                          net::throw_errno("test's send");
                      }
                      sent += static_cast<std::size_t>(n);
                  }
                  net::check(::shutdown(fd_, SHUT_WR), "test's shutdown");
              } catch (...) {
                  error_ = std::current_exception();
              }
          }) {}
    ~BackgroundSend() {
        if (thread_.joinable()) {
            ::shutdown(fd_, SHUT_RDWR);  // the test failed early: wake a blocked send
            thread_.join();
        }
    }
    BackgroundSend(const BackgroundSend&) = delete;
    BackgroundSend& operator=(const BackgroundSend&) = delete;

    // Call once the peer has closed: the sending is over by then, one way or another.
    void join() {
        thread_.join();
        if (error_) {
            std::rethrow_exception(error_);
        }
    }

private:
    int fd_;
    std::exception_ptr error_;
    std::thread thread_;
};

}  // namespace

TEST_CASE("serve_client echoes a message byte for byte, then closes when the client does") {
    std::size_t echoed = 0;
    harness::LoopbackServer server([&](int listener) { echoed = lesson02::serve_client(harness::accept_within(listener)); });
    auto client = harness::Client::connect(server.port());
    INFO(client);
    client.send("hello, echo\n");
    REQUIRE(client.recv_exact(12) == "hello, echo\n");
    client.shutdown_write();
    client.expect_eof();  // nothing extra, and the socket was closed
    server.join();
    CHECK(echoed == 12);
}

TEST_CASE("serve_client keeps echoing: several messages, with pauses between them") {
    harness::LoopbackServer server([](int listener) { (void)lesson02::serve_client(harness::accept_within(listener)); });
    auto client = harness::Client::connect(server.port());
    INFO(client);
    for (const std::string message : {"one\n", "two two\n", "three three three\n"}) {
        client.send(message);
        REQUIRE(client.recv_exact(message.size()) == message);
    }
    client.shutdown_write();
    client.expect_eof();
    server.join();
}

TEST_CASE("serve_client echoes binary data exactly: zero bytes, all byte values, 100 KB") {
    std::size_t echoed = 0;
    harness::LoopbackServer server([&](int listener) { echoed = lesson02::serve_client(harness::accept_within(listener)); });
    auto client = harness::Client::connect(server.port());
    const std::string data = harness::random_bytes(100'000, 2);
    client.send(data);
    client.shutdown_write();
    const std::string back = client.recv_until_eof();
    CHECK(back.size() == data.size());
    CHECK(back == data);
    server.join();
    CHECK(echoed == data.size());
}

TEST_CASE("serve_client returns 0 for a client that connects and leaves without sending") {
    std::size_t echoed = 99;
    harness::LoopbackServer server([&](int listener) { echoed = lesson02::serve_client(harness::accept_within(listener)); });
    {
        auto client = harness::Client::connect(server.port());
        client.close();
    }
    server.join();
    CHECK(echoed == 0);
}

TEST_CASE("serve_client sends back every byte when send takes only part of them (a signal every 300 us, a late reader)") {
    harness::Wire wire;
    INFO(wire.peer());
    const int small = 8192;  // a small send buffer: the echo's send blocks, and a signal cuts it short
    net::check(::setsockopt(wire.mine(), SOL_SOCKET, SO_SNDBUF, &small, sizeof small), "setsockopt SO_SNDBUF");
    const std::string data = harness::random_bytes(1 << 20, 22);
    std::size_t echoed = 0;
    harness::CodeUnderTest code(wire.mine(), [&] {
        const harness::InterruptStorm storm(::pthread_self());
        echoed = lesson02::serve_client(net::Fd{net::check(::dup(wire.mine()), "dup")});
        ::shutdown(wire.mine(), SHUT_WR);  // serve_client closed its copy; the EOF goes out now
    });
    BackgroundSend sending(wire.peer().fd(), data);
    harness::wait_until_blocked(code.thread_id(), "serve_client blocked in send: nobody reads its echo yet",
                                {.in = {SYS_sendto, SYS_sendmsg, SYS_write, SYS_writev}});
    code.await_interrupts(10);  // signals land on that send
    const std::string back = wire.peer().recv_until_eof(5s);
    const std::string diff = harness::first_difference(data, back);
    INFO(diff);
    CHECK(diff.empty());
    sending.join();
    code.join(1s, "serve_client returning once the client closed");
    CHECK(echoed == data.size());
}

TEST_CASE("a server loop around serve_client serves clients one after another") {
    const int before = harness::open_fd_count();
    {
        harness::LoopbackServer server([](int listener) {
            for (int i = 0; i < 3; ++i) {
                (void)lesson02::serve_client(harness::accept_within(listener));
            }
        });
        {
            auto silent = harness::Client::connect(server.port());  // leaves without a word
        }
        for (const std::string name : {"first", "second"}) {
            auto client = harness::Client::connect(server.port());
            INFO(client);
            client.send(name);
            CHECK(client.recv_exact(name.size()) == name);
        }
        server.join();
    }
    CHECK(harness::open_fd_count() == before);  // every accepted socket was closed
}

namespace {

// An echo server the test controls: replies in `pieces` separate sends, each
// sent only once the client has taken the one before and waits in recv again,
// so every piece arrives in a recv of its own, as a slow network might deliver it.
struct TestEchoServer {
    explicit TestEchoServer(std::size_t pieces = 1, bool answer = true, std::string_view host = "127.0.0.1")
        : server([this, pieces, answer](int listener) {
              harness::Client peer(harness::accept_within(listener), "client");
              accepted = peer.fd();
              const std::string got = peer.recv_some();
              received = got;
              if (!answer) {
                  return;
              }
              const std::size_t step = (got.size() + pieces - 1) / pieces;
              for (std::size_t at = 0; at < got.size(); at += step) {
                  peer.send(got.substr(at, step));
                  if (at + step < got.size()) {
                      const int client_socket = harness::peer_socket(peer.fd());
                      if (client_socket < 0) {
                          return;  // the client has left already: the test says what it got
                      }
                      harness::wait_until_taken(peer.fd(), client_socket, client_thread.load(),
                                                "the client taking one piece of the echo before the next is sent");
                  }
              }
              (void)peer.recv_until_eof();
          }, host) {}

    std::atomic<int> accepted{-1};
    std::atomic<pid_t> client_thread{0};  // set before the client connects
    std::string received;
    harness::LoopbackServer server;
};

// echo_once to host:port, where every address refuses: it must throw
// std::system_error ECONNREFUSED naming connect, and close every socket it made.
void expect_refused(const std::string& host, std::uint16_t port) {
    const int before = harness::open_fd_count();
    try {
        (void)harness::within(3s, "echo_once connecting to " + host + " where nothing listens",
                              [&] { return lesson02::echo_once(host, port, "x"); });
        FAIL("echo_once returned from " << host << ", where nothing listens");
    } catch (const std::system_error& error) {
        INFO("what(): " << error.what());
        CHECK(error.code().value() == ECONNREFUSED);
        CHECK(std::string(error.what()).find("connect") != std::string::npos);
    }
    CHECK(harness::open_fd_count() == before);  // every socket was closed on the error path
}

std::string echo_within_deadline(TestEchoServer& echo, const std::string& host, const std::string& message) {
    return harness::within(3s, "echo_once waiting for its echo", [&] {
        echo.client_thread.store(harness::thread_id());
        return lesson02::echo_once(host, echo.server.port(), message);
    }, [&] { ::shutdown(echo.accepted.load(), SHUT_RDWR); });
}

}  // namespace

TEST_CASE("echo_once sends the message and returns the echo") {
    TestEchoServer echo;
    REQUIRE(echo_within_deadline(echo, "127.0.0.1", "ping\n") == "ping\n");
    echo.server.join();
    CHECK(echo.received == "ping\n");
}

TEST_CASE("echo_once waits for the whole echo when it arrives in pieces") {
    TestEchoServer echo(3);
    const std::string message = "one recv is not one message";
    REQUIRE(echo_within_deadline(echo, "127.0.0.1", message) == message);
    echo.server.join();
}

TEST_CASE("echo_once reports a server that closes before answering, rather than hanging") {
    TestEchoServer echo(1, false);
    REQUIRE_THROWS_AS(echo_within_deadline(echo, "127.0.0.1", "anyone there?"), std::runtime_error);
    echo.server.join();
}

TEST_CASE("echo_once throws std::system_error naming connect when nothing listens") {
    std::uint16_t closed_port = 0;
    {
        harness::LoopbackServer probe([](int) {});
        closed_port = probe.port();
    }
    expect_refused("127.0.0.1", closed_port);
}

TEST_CASE("echo_once works over IPv6") {
    TestEchoServer echo(1, true, "::1");
    REQUIRE(echo_within_deadline(echo, "::1", "six") == "six");
    echo.server.join();
}

TEST_CASE("echo_once tries every address in order: localhost is ::1 first (refused), then 127.0.0.1 (the server)") {
    const DualStackLocalhost stock_localhost;
    std::optional<TestEchoServer> echo;  // on 127.0.0.1, with its port held on ::1 where nothing listens
    net::Fd refusing;
    for (int attempt = 0; attempt < 20 && !refusing.valid(); ++attempt) {
        echo.emplace();
        refusing = refusing_ipv6(echo->server.port());
    }
    REQUIRE(refusing.valid());
    const int before = harness::open_fd_count();
    INFO("\"localhost\" resolves to [::1]:" << echo->server.port() << " (refuses), then 127.0.0.1:" << echo->server.port());
    REQUIRE(echo_within_deadline(*echo, "localhost", "hello, dual stack\n") == "hello, dual stack\n");
    echo->server.join();
    CHECK(echo->received == "hello, dual stack\n");
    CHECK(harness::open_fd_count() == before);  // the refused attempt's socket was closed too
}

TEST_CASE("echo_once throws the connect error when every address refuses, and closes every socket") {
    const DualStackLocalhost stock_localhost;
    net::Fd four;
    net::Fd six;
    std::uint16_t port = 0;
    for (int attempt = 0; attempt < 20 && !six.valid(); ++attempt) {
        four = net::Fd{net::check(::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0), "test's socket")};
        const net::Address any_port = net::resolve("127.0.0.1", "0", net::tcp_hints(AI_NUMERICHOST)).front().address;
        net::check(::bind(four.get(), any_port.get(), any_port.length), "test's bind 127.0.0.1");
        port = net::local_port(four.get());
        six = refusing_ipv6(port);
    }
    REQUIRE(six.valid());
    expect_refused("localhost", port);
}
