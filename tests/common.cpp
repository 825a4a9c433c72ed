// Unit tests of common/: the helpers every lesson leans on, including their error paths.
#include <doctest/doctest.h>

#include <arpa/inet.h>
#include <cerrno>
#include <cstdlib>
#include <fcntl.h>
#include <future>
#include <netinet/in.h>
#include <pthread.h>
#include <string>
#include <sys/socket.h>
#include <system_error>
#include <thread>
#include <unistd.h>
#include <vector>

#include "harness.hpp"
#include "interrupts.hpp"
#include "net/address.hpp"
#include "net/args.hpp"
#include "net/error.hpp"
#include "net/fd.hpp"
#include "net/log.hpp"
#include "net/stream.hpp"
#include "net/tcp.hpp"

namespace {

bool is_open(int fd) { return ::fcntl(fd, F_GETFD) != -1; }

std::string message_of(auto&& fn) {
    try {
        fn();
    } catch (const std::exception& error) {
        return error.what();
    }
    return "(nothing thrown)";
}

// Connects to 127.0.0.1:port with short timeouts until one times out: from then
// on the accept queue is full and further SYNs are dropped silently.
std::vector<net::Fd> fill_accept_queue(const std::string& host, std::uint16_t port) {
    std::vector<net::Fd> queued;
    for (int i = 0; i < 16; ++i) {
        try {
            queued.push_back(net::connect_tcp(host, port, std::chrono::milliseconds(100)));
        } catch (const std::system_error& error) {
            REQUIRE(error.code().value() == ETIMEDOUT);
            return queued;
        }
    }
    FAIL("the accept queue of " << host << " never filled up");
    return queued;
}

// Runs accept_client on a thread of its own while SIGUSR1 interrupts that thread
// every half millisecond (a handler without SA_RESTART: each lands as EINTR).
class AcceptUnderInterrupts {
public:
    AcceptUnderInterrupts(int listener, bool (*stop)())
        : result_(std::async(std::launch::async, [listener, stop] {
              const harness::InterruptStorm storm(::pthread_self(), std::chrono::microseconds(500));
              return net::accept_client(listener, stop);
          })) {}

    net::Accepted get(std::chrono::milliseconds timeout) {
        if (result_.wait_for(timeout) != std::future_status::ready) {
            harness::fatal_timeout("accept_client did not return");
        }
        return result_.get();
    }

private:
    std::future<net::Accepted> result_;
};

std::atomic<bool> stop_flag{false};
bool stop_flag_set() { return stop_flag.load(); }

}  // namespace

TEST_CASE("Fd closes its descriptor exactly once and moves ownership") {
    int raw = -1;
    {
        net::Fd first{::dup(0)};
        raw = first.get();
        REQUIRE(is_open(raw));
        net::Fd second = std::move(first);
        CHECK_FALSE(first.valid());
        CHECK(second.get() == raw);
        net::Fd third;
        third = std::move(second);
        CHECK(third.get() == raw);
        CHECK(is_open(raw));
    }
    CHECK_FALSE(is_open(raw));

    net::Fd kept{::dup(0)};
    const int released = kept.release();
    CHECK_FALSE(kept.valid());
    CHECK(is_open(released));
    ::close(released);
}

TEST_CASE("check() passes results through and names the failing call") {
    CHECK(net::check(5, "fine") == 5);
    CHECK(net::check(static_cast<ssize_t>(0), "fine") == 0);
    errno = EBADF;
    try {
        net::check(-1, "close 99");
        FAIL("check(-1) did not throw");
    } catch (const std::system_error& error) {
        CHECK(error.code().value() == EBADF);
        CHECK(std::string(error.what()).find("close 99") == 0);
    }
    const std::string message = message_of([] { net::throw_errno("connect 127.0.0.1:9", ECONNREFUSED); });
    CHECK(message == "connect 127.0.0.1:9: Connection refused");
}

TEST_CASE("todo() throws NotImplemented, which reads as not started") {
    CHECK_THROWS_AS(net::todo("resolve_all"), net::NotImplemented);
    CHECK(message_of([] { net::todo("resolve_all"); }) == "not started: resolve_all");
}

TEST_CASE("resolve() returns numeric IPv4 and IPv6 addresses as text") {
    const auto v4 = net::resolve("127.0.0.1", "8080");
    REQUIRE_FALSE(v4.empty());
    CHECK(v4.front().family == AF_INET);
    CHECK(v4.front().socktype == SOCK_STREAM);
    CHECK(net::to_string(v4.front().address) == "127.0.0.1:8080");

    const auto v6 = net::resolve("::1", "443");
    REQUIRE_FALSE(v6.empty());
    CHECK(v6.front().family == AF_INET6);
    CHECK(net::to_string(v6.front().address) == "[::1]:443");

    const auto udp = net::resolve("127.0.0.1", "53", net::udp_hints());
    CHECK(udp.front().socktype == SOCK_DGRAM);
}

TEST_CASE("resolve() turns getaddrinfo errors into exceptions with gai's message") {
    try {
        (void)net::resolve("not-an-address", "80", net::tcp_hints(AI_NUMERICHOST));
        FAIL("resolve did not throw");
    } catch (const std::system_error& error) {
        CHECK(error.code().category() == net::gai_category());
        CHECK(error.code().value() == EAI_NONAME);
        CHECK(std::string(error.what()).find("not-an-address") != std::string::npos);
        CHECK(std::string(error.what()).find(::gai_strerror(EAI_NONAME)) != std::string::npos);
    }
    CHECK_THROWS_AS((void)net::resolve("127.0.0.1", "no-such-service-here"), std::system_error);
}

TEST_CASE("to_string() handles both families and says so for others") {
    sockaddr_in v4{};
    v4.sin_family = AF_INET;
    v4.sin_port = htons(5000);
    v4.sin_addr.s_addr = htonl(0x7f000001);
    CHECK(net::to_string(reinterpret_cast<const sockaddr&>(v4)) == "127.0.0.1:5000");

    sockaddr_in6 v6{};
    v6.sin6_family = AF_INET6;
    v6.sin6_port = htons(80);
    ::inet_pton(AF_INET6, "2001:db8::1", &v6.sin6_addr);
    CHECK(net::to_string(reinterpret_cast<const sockaddr&>(v6)) == "[2001:db8::1]:80");

    sockaddr other{};
    other.sa_family = AF_UNIX;
    CHECK(net::to_string(other).find("family") != std::string::npos);
}

TEST_CASE("listen_tcp() binds loopback, port 0 gets a real port, SO_REUSEADDR is on") {
    const int before = harness::open_fd_count();
    {
        net::Fd listener = net::listen_tcp("127.0.0.1", 0);
        const std::uint16_t port = net::local_port(listener.get());
        CHECK(port != 0);
        CHECK(net::to_string(net::local_address(listener.get())) == "127.0.0.1:" + std::to_string(port));
        int reuse = 0;
        socklen_t length = sizeof reuse;
        REQUIRE(::getsockopt(listener.get(), SOL_SOCKET, SO_REUSEADDR, &reuse, &length) == 0);
        CHECK(reuse != 0);

        net::Fd client = net::connect_tcp("127.0.0.1", port, harness::default_timeout);
        net::Fd accepted = harness::accept_within(listener.get());
        CHECK(net::to_string(net::peer_address(accepted.get())) == net::to_string(net::local_address(client.get())));
    }
    CHECK(harness::open_fd_count() == before);
}

TEST_CASE("listen_tcp() on ::1 works over IPv6") {
    net::Fd listener = net::listen_tcp("::1", 0);
    const std::uint16_t port = net::local_port(listener.get());
    CHECK(net::to_string(net::local_address(listener.get())) == "[::1]:" + std::to_string(port));
    net::Fd client = net::connect_tcp("::1", port, harness::default_timeout);
    CHECK(client.valid());
}

TEST_CASE("listen_tcp() reports a port in use with the address") {
    net::Fd first = net::listen_tcp("127.0.0.1", 0);
    const std::uint16_t port = net::local_port(first.get());
    const std::string message = message_of([port] { (void)net::listen_tcp("127.0.0.1", port); });
    CHECK(message == "bind 127.0.0.1:" + std::to_string(port) + ": Address already in use");
}

TEST_CASE("connect_tcp() fails fast on a closed port") {
    std::uint16_t port = 0;
    {
        net::Fd probe = net::listen_tcp("127.0.0.1", 0);
        port = net::local_port(probe.get());
    }  // closed: nothing listens there now
    try {
        (void)net::connect_tcp("127.0.0.1", port, harness::default_timeout);
        FAIL("connect to a closed port succeeded");
    } catch (const std::system_error& error) {
        CHECK(error.code().value() == ECONNREFUSED);
        CHECK(std::string(error.what()).find("connect 127.0.0.1:") == 0);
    }
}

TEST_CASE("connect_tcp() gives up on time when the accept queue is full") {
    // Backlog 0 leaves room for one queued connection; further SYNs are dropped
    // silently, so only the timeout ends the wait.
    net::Fd listener = net::listen_tcp("127.0.0.1", 0, 0);
    const std::uint16_t port = net::local_port(listener.get());
    std::vector<net::Fd> queued;
    const auto start = std::chrono::steady_clock::now();
    bool timed_out = false;
    for (int i = 0; i < 8 && !timed_out; ++i) {
        try {
            queued.push_back(net::connect_tcp("127.0.0.1", port, std::chrono::milliseconds(300)));
        } catch (const std::system_error& error) {
            CHECK(error.code().value() == ETIMEDOUT);
            timed_out = true;
        }
    }
    CHECK(timed_out);
    CHECK(std::chrono::steady_clock::now() - start < std::chrono::seconds(4));
}

TEST_CASE("connect_tcp() keeps to one budget however many addresses the name has") {
    // An empty host resolves to both loopback addresses, ::1 and 127.0.0.1. With
    // both accept queues full, each address would time out: together they must
    // still take one budget, not one each.
    const auto endpoints = net::resolve("", "80");
    if (endpoints.size() < 2) {
        MESSAGE("skipped: the loopback name resolves to one address here");
        return;
    }
    net::Fd v6 = net::listen_tcp("::1", 0, 0);
    const std::uint16_t port = net::local_port(v6.get());
    net::Fd v4 = net::listen_tcp("127.0.0.1", port, 0);
    const auto queued6 = fill_accept_queue("::1", port);
    const auto queued4 = fill_accept_queue("127.0.0.1", port);

    const auto budget = std::chrono::milliseconds(400);
    const auto start = std::chrono::steady_clock::now();
    try {
        (void)net::connect_tcp("", port, budget);
        FAIL("connected although both accept queues are full");
    } catch (const std::system_error& error) {
        CHECK(error.code().value() == ETIMEDOUT);
    }
    const auto took = std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - start);
    CHECK(took >= budget - std::chrono::milliseconds(5));
    CHECK(took < budget + std::chrono::milliseconds(250));  // two budgets would be 800 ms
}

TEST_CASE("accept_client() returns the connection, close-on-exec, and the peer from accept's sockaddr") {
    const int before = harness::open_fd_count();
    {
        net::Fd listener = net::listen_tcp("127.0.0.1", 0);
        net::Fd client = net::connect_tcp("127.0.0.1", net::local_port(listener.get()), harness::default_timeout);
        harness::wait_readable(listener.get(), harness::Deadline(harness::default_timeout), "a client in the queue");
        net::Accepted accepted = net::accept_client(listener.get());
        REQUIRE(accepted);
        CHECK(accepted.error == 0);
        CHECK(net::to_string(accepted.peer) == net::to_string(net::local_address(client.get())));
        CHECK((::fcntl(accepted.connection.get(), F_GETFD) & FD_CLOEXEC) != 0);
    }
    CHECK(harness::open_fd_count() == before);
}

TEST_CASE("accept_client() survives a client that reset while it waited in the queue") {
    net::Fd listener = net::listen_tcp("127.0.0.1", 0);
    std::string client_address;
    {
        net::Fd client = net::connect_tcp("127.0.0.1", net::local_port(listener.get()), harness::default_timeout);
        client_address = net::to_string(net::local_address(client.get()));
        harness::wait_readable(listener.get(), harness::Deadline(harness::default_timeout), "a client in the queue");
        const linger reset{1, 0};  // close() now sends RST instead of FIN
        REQUIRE(::setsockopt(client.get(), SOL_SOCKET, SO_LINGER, &reset, sizeof reset) == 0);
    }
    net::Accepted accepted = net::accept_client(listener.get());  // must not throw
    if (accepted) {
        // What Linux 6.x does: accept() hands the dead connection over, with the
        // address it had; getpeername() on it fails, which is why the helper
        // takes the address from accept.
        CHECK(net::to_string(accepted.peer) == client_address);
        CHECK_THROWS_WITH((void)net::peer_address(accepted.connection.get()),
                          "getpeername: Transport endpoint is not connected");
        char byte = 0;
        CHECK(::recv(accepted.connection.get(), &byte, 1, 0) == -1);
        CHECK(errno == ECONNRESET);
    } else {
        CHECK(accepted.error == ECONNABORTED);  // what other kernels do: skip this client
    }

    // The listener is fine: the next client is served.
    net::Fd next = net::connect_tcp("127.0.0.1", net::local_port(listener.get()), harness::default_timeout);
    harness::wait_readable(listener.get(), harness::Deadline(harness::default_timeout), "the next client");
    net::Accepted served = net::accept_client(listener.get());
    REQUIRE(served);
    CHECK(net::to_string(served.peer) == net::to_string(net::local_address(next.get())));
}

TEST_CASE("accept_client() sorts accept's errors: per-client ones are skipped, the rest thrown") {
    for (const int err : {ECONNABORTED, EPROTO, EPERM, ENETDOWN, ENOPROTOOPT, EHOSTDOWN, ENONET, EHOSTUNREACH,
                          EOPNOTSUPP, ENETUNREACH}) {
        CHECK(net::is_per_client_accept_error(err));
    }
    for (const int err : {EBADF, EINVAL, ENOTSOCK, EMFILE, ENFILE, ENOBUFS, ENOMEM, EFAULT, EINTR}) {
        CHECK_FALSE(net::is_per_client_accept_error(err));
    }
    // Not a listener: the server's own bug, thrown naming the call.
    net::Fd unconnected{net::check(::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0), "socket")};
    CHECK_THROWS_WITH((void)net::accept_client(unconnected.get()), "accept: Invalid argument");
}

TEST_CASE("accept_client() retries EINTR, and returns it once a stop is requested") {
    net::Fd listener = net::listen_tcp("127.0.0.1", 0);
    stop_flag = false;
    SUBCASE("other signals: it keeps waiting, and the next client is accepted") {
        const std::size_t before = harness::interrupts_delivered();
        AcceptUnderInterrupts accepting(listener.get(), stop_flag_set);
        const harness::Deadline deadline(harness::default_timeout);
        while (harness::interrupts_delivered() - before < 20 && !deadline.expired()) {
            std::this_thread::yield();
        }
        REQUIRE(harness::interrupts_delivered() - before >= 20);
        net::Fd client = net::connect_tcp("127.0.0.1", net::local_port(listener.get()), harness::default_timeout);
        net::Accepted accepted = accepting.get(harness::default_timeout);
        CHECK(accepted.error == 0);
        CHECK(accepted);
    }
    SUBCASE("a stop requested: the next EINTR is returned, no client needed") {
        stop_flag = true;
        AcceptUnderInterrupts accepting(listener.get(), stop_flag_set);
        net::Accepted accepted = accepting.get(harness::default_timeout);
        CHECK_FALSE(accepted);
        CHECK(accepted.error == EINTR);
        stop_flag = false;
    }
}

TEST_CASE("Args parses --host and --port and rejects bad values clearly") {
    const net::Usage usage{.program = "demo", .summary = "a demo",
                           .options = {{"--count", "N", "how many", "3"}, {"--verbose", "", "say more"}}};
    SUBCASE("defaults: loopback host, kernel-chosen port") {
        const char* argv[] = {"demo"};
        const net::Args args(1, argv, usage);
        CHECK(args.host() == "127.0.0.1");
        CHECK(args.port() == 0);
        CHECK(args.integer("--count", 1, 10) == 3);
        CHECK_FALSE(args.flag("--verbose"));
    }
    SUBCASE("values") {
        const char* argv[] = {"demo", "--host", "::1", "--port", "8080", "--count", "7", "--verbose"};
        const net::Args args(8, argv, usage);
        CHECK(args.host() == "::1");
        CHECK(args.port() == 8080);
        CHECK(args.integer("--count", 1, 10) == 7);
        CHECK(args.flag("--verbose"));
    }
    SUBCASE("errors") {
        auto error_for = [&](std::vector<const char*> argv) {
            argv.insert(argv.begin(), "demo");
            return message_of([&] { net::Args(static_cast<int>(argv.size()), argv.data(), usage); });
        };
        CHECK(error_for({"--port", "abc"}) == "--port must be a whole number, got 'abc'");
        CHECK(error_for({"--port", "70000"}) == "--port must be between 0 and 65535, got 70000");
        CHECK(error_for({"--port", "-1"}) == "--port must be between 0 and 65535, got -1");
        CHECK(error_for({"--port"}) == "--port needs a value");
        CHECK(error_for({"--frobnicate"}) == "unknown option --frobnicate");
        CHECK(error_for({"extra"}) == "unexpected argument 'extra'");
    }
}

TEST_CASE("run_main() maps outcomes to exit statuses") {
    const net::Usage usage{.program = "demo", .summary = "a demo"};
    const char* help[] = {"demo", "--help"};
    CHECK(net::run_main(2, help, usage, [](const net::Args&) { return 5; }) == 0);
    const char* bad[] = {"demo", "--port", "x"};
    CHECK(net::run_main(3, bad, usage, [](const net::Args&) { return 0; }) == 2);
    const char* fine[] = {"demo"};
    CHECK(net::run_main(1, fine, usage, [](const net::Args&) { return 0; }) == 0);
    CHECK(net::run_main(1, fine, usage, [](const net::Args&) -> int { net::throw_errno("socket", EMFILE); }) == 1);
    CHECK(net::run_main(1, fine, usage, [](const net::Args&) -> int {
              (void)net::resolve("x y", "80", net::tcp_hints(AI_NUMERICHOST));
              return 0;
          }) == 2);
}

TEST_CASE("help text lists --host with its loopback default and the extra options") {
    const net::Usage usage{.program = "demo", .summary = "a demo", .options = {{"--count", "N", "how many", "3"}}};
    const std::string help = net::help_text(usage);
    CHECK(help.find("usage: demo [options]") == 0);
    CHECK(help.find("default 127.0.0.1") != std::string::npos);
    CHECK(help.find("--count N") != std::string::npos);
    CHECK(help.find("(default 3)") != std::string::npos);

    const net::Usage client{.program = "client", .summary = "a client", .port_help = "the server's port (required)"};
    CHECK(net::help_text(client).find("--port PORT      the server's port (required)") != std::string::npos);
}

TEST_CASE("colour is off when NO_COLOR is set or the stream is not a terminal") {
    ::setenv("NO_COLOR", "1", 1);
    CHECK_FALSE(net::log::color_enabled(stdout));
    ::unsetenv("NO_COLOR");
    std::FILE* file = std::tmpfile();
    REQUIRE(file != nullptr);
    CHECK_FALSE(net::log::color_enabled(file));
    net::log::write_line(file, net::log::Style::error, "plain");
    std::rewind(file);
    char line[64] = {};
    CHECK(std::fgets(line, sizeof line, file) != nullptr);
    CHECK(std::string(line) == "error: plain\n");
    std::fclose(file);
}

TEST_CASE("logging leaves errno alone, so a warning between a failed call and throw_errno is harmless") {
    ::setenv("NO_COLOR", "1", 1);
    std::FILE* file = std::tmpfile();
    REQUIRE(file != nullptr);
    errno = ECONNREFUSED;
    net::log::write_line(file, net::log::Style::warning, "ICMP port unreachable");  // isatty() sets ENOTTY inside
    CHECK(errno == ECONNREFUSED);
    std::fclose(file);
    ::unsetenv("NO_COLOR");
}

TEST_CASE("plural() counts one byte and many bytes") {
    CHECK(net::plural(1, "byte") == "1 byte");
    CHECK(net::plural(0, "byte") == "0 bytes");
    CHECK(net::plural(4096, "byte") == "4096 bytes");
}

TEST_CASE("send_all() delivers every byte however many sends it takes, and reports a vanished peer") {
    int fds[2];
    REQUIRE(::socketpair(AF_UNIX, SOCK_STREAM, 0, fds) == 0);
    net::Fd mine{fds[0]};
    net::Fd theirs{fds[1]};
    const int small = 4096;  // a small buffer forces several partial sends
    REQUIRE(::setsockopt(mine.get(), SOL_SOCKET, SO_SNDBUF, &small, sizeof small) == 0);
    const std::string data = harness::random_bytes(1 << 20, 11);
    harness::Client reader(std::move(theirs), "sender");
    std::string received;
    std::thread drain([&] { received = reader.recv_until_eof(std::chrono::seconds(5)); });
    net::send_all(mine.get(), data);
    mine.reset();
    drain.join();
    CHECK(harness::first_difference(data, received) == "");

    REQUIRE(::socketpair(AF_UNIX, SOCK_STREAM, 0, fds) == 0);
    net::Fd writer{fds[0]};
    ::close(fds[1]);
    CHECK_THROWS_WITH(net::send_all(writer.get(), "hello"), "send: Broken pipe");  // EPIPE, no SIGPIPE
}
