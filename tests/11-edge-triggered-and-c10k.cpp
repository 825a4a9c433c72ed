// Tests for exercise 11 — edge-triggered handlers (exercises/11-edge-triggered-and-c10k/edge_triggered.hpp).
// First each handler on its own, called directly, where an edge that is not
// drained shows at once; then the loop around them
// (11-edge-triggered-and-c10k/et_loop.hpp) with real loopback clients, up to
// 10,000 of them. Every wait has a deadline.
#include <doctest/doctest.h>

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstddef>
#include <exception>
#include <string>
#include <thread>
#include <vector>

#include <fmt/core.h>

#include "10-event-loop/clients.hpp"
#include "11-edge-triggered-and-c10k/et_loop.hpp"
#include "edge_triggered.hpp"
#include "harness.hpp"
#include "net/error.hpp"
#include "net/fd.hpp"
#include "net/tcp.hpp"
#include "printers.hpp"
#include "waits.hpp"

using namespace std::chrono_literals;
using fixtures::EtEchoServer;
using lesson11::Connection;
using lesson11::Status;

namespace {

sockaddr_in loopback(std::uint16_t port) {
    sockaddr_in address{};
    address.sin_family = AF_INET;
    address.sin_port = htons(port);
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    return address;
}

net::Fd tcp_socket() {
    return net::Fd{net::check(::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0), "socket")};
}

// A blocking connect: it completes once the server's kernel queues the
// connection, whether or not anyone accepts it.
void connect_to(int fd, std::uint16_t port) {
    const sockaddr_in address = loopback(port);
    net::check(::connect(fd, reinterpret_cast<const sockaddr*>(&address), sizeof address), "connect");
}

// True if the server closed `fd`'s connection within `timeout` without sending anything.
bool closed_by_server(int fd, std::chrono::milliseconds timeout) {
    pollfd readable{fd, POLLIN, 0};
    if (::poll(&readable, 1, static_cast<int>(timeout.count())) != 1) {
        return false;
    }
    char byte = 0;
    const ssize_t n = ::recv(fd, &byte, 1, MSG_DONTWAIT);
    return n == 0 || (n < 0 && errno == ECONNRESET);
}

// Lowers RLIMIT_NOFILE so that exactly `free` more descriptors can be opened,
// and puts it back at the end of the scope. It first fills every hole below
// the highest open descriptor (open() takes the lowest free number), so that
// the limit alone decides. Nothing else in the process may open descriptors meanwhile.
class DescriptorsLeft {
public:
    explicit DescriptorsLeft(int free) {
        net::check(::getrlimit(RLIMIT_NOFILE, &saved_), "getrlimit");
        const int highest = highest_open();
        for (;;) {
            net::Fd plug{::open("/dev/null", O_RDONLY | O_CLOEXEC)};
            REQUIRE(plug.valid());
            if (plug.get() > highest) {
                break;  // every number up to `highest` is taken; this one closes again
            }
            plugs_.push_back(std::move(plug));
        }
        rlimit lowered = saved_;
        lowered.rlim_cur = static_cast<rlim_t>(highest + 1 + free);
        net::check(::setrlimit(RLIMIT_NOFILE, &lowered), "setrlimit");
    }
    ~DescriptorsLeft() { ::setrlimit(RLIMIT_NOFILE, &saved_); }
    DescriptorsLeft(const DescriptorsLeft&) = delete;
    DescriptorsLeft& operator=(const DescriptorsLeft&) = delete;

private:
    static int highest_open() {
        int highest = 2;
        for (int fd = 3; fd < 65536; ++fd) {
            if (::fcntl(fd, F_GETFD) != -1) {
                highest = fd;
            }
        }
        return highest;
    }

    rlimit saved_{};
    std::vector<net::Fd> plugs_;
};

// A connected pair of non-blocking AF_UNIX stream sockets: `connection` takes
// one end, the test plays the client on the other.
struct SocketPair {
    net::Fd ours;
    net::Fd theirs;
    SocketPair() {
        int fds[2];
        net::check(::socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0, fds), "socketpair");
        ours.reset(fds[0]);
        theirs.reset(fds[1]);
    }
};

void send_whole(int fd, const std::string& data) {
    REQUIRE(::send(fd, data.data(), data.size(), MSG_NOSIGNAL) == static_cast<ssize_t>(data.size()));
}

// Round trips of one 64-byte message; returns each one's duration.
std::vector<std::chrono::microseconds> round_trips(harness::Client& client, int count) {
    std::vector<std::chrono::microseconds> took;
    const std::string message(63, 'x');
    for (int i = 0; i < count; ++i) {
        const std::string line = message + "\n";
        const auto start = std::chrono::steady_clock::now();
        client.send(line);
        const std::string answer = client.recv_exact(line.size(), 2s);
        REQUIRE(answer == line);
        took.push_back(std::chrono::duration_cast<std::chrono::microseconds>(std::chrono::steady_clock::now() - start));
    }
    return took;
}

// Polls `holds` until it is true or `timeout` passes (a wait with a deadline,
// for figures the loop thread updates).
template <typename Predicate>
bool eventually(Predicate holds, std::chrono::milliseconds timeout) {
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    while (!holds()) {
        harness::rethrow_server_failure();
        if (std::chrono::steady_clock::now() > deadline) {
            return false;
        }
        std::this_thread::sleep_for(2ms);
    }
    return true;
}

}  // namespace

TEST_CASE("accept_all takes every queued client in one call: a listener's edge comes once for all of them") {
    const net::Fd listener = net::listen_tcp("127.0.0.1", 0);
    net::check(::fcntl(listener.get(), F_SETFL, O_NONBLOCK), "fcntl O_NONBLOCK");
    std::vector<net::Fd> clients;
    for (int i = 0; i < 5; ++i) {
        clients.push_back(tcp_socket());
        connect_to(clients.back().get(), net::local_port(listener.get()));
    }
    lesson11::ReserveFd reserve;
    std::vector<net::Fd> accepted;
    const auto counts = lesson11::accept_all(listener.get(), reserve, [&](net::Fd socket) { accepted.push_back(std::move(socket)); });
    CHECK_MESSAGE(accepted.size() == 5, "5 clients were queued and accept_all handed ", accepted.size(),
                  " to on_client: with EPOLLET the listener is not reported again for the others; accept until EAGAIN");
    CHECK(counts.accepted == accepted.size());
    CHECK(counts.shed == 0);
    for (const auto& socket : accepted) {
        CHECK_MESSAGE((::fcntl(socket.get(), F_GETFL) & O_NONBLOCK) != 0, "accepted sockets must be non-blocking (SOCK_NONBLOCK)");
    }
    CHECK(lesson11::accept_all(listener.get(), reserve, [&](net::Fd) { FAIL("nobody is queued"); }).accepted == 0);
}

TEST_CASE("accept_all sheds clients while no descriptor is free, three times running, and serves again once one is") {
    const net::Fd listener = net::listen_tcp("127.0.0.1", 0);
    net::check(::fcntl(listener.get(), F_SETFL, O_NONBLOCK), "fcntl O_NONBLOCK");
    const std::uint16_t port = net::local_port(listener.get());
    std::vector<net::Fd> clients;  // made now: under the lowered limit only the server side may open more
    for (int i = 0; i < 6; ++i) {
        clients.push_back(tcp_socket());
    }
    lesson11::ReserveFd reserve;
    REQUIRE(reserve.held());
    std::vector<net::Fd> served;
    auto keep = [&](net::Fd socket) { served.push_back(std::move(socket)); };

    const DescriptorsLeft room(2);
    connect_to(clients[0].get(), port);
    connect_to(clients[1].get(), port);
    auto counts = lesson11::accept_all(listener.get(), reserve, keep);
    REQUIRE_MESSAGE(counts.accepted == 2, "two descriptors were free for two clients; accept_all accepted ", counts.accepted);

    // One client queued, then two at once: each call sheds every one of them.
    for (const auto& queued : {std::vector<std::size_t>{2}, std::vector<std::size_t>{3, 4}}) {
        for (const std::size_t i : queued) {
            connect_to(clients[i].get(), port);
        }
        counts = lesson11::accept_all(listener.get(), reserve, keep);
        CHECK_MESSAGE(counts.shed == queued.size(), queued.size(), " client(s) came with no descriptor free (EMFILE); "
                      "accept_all shed ", counts.shed, " and accepted ", counts.accepted,
                      " (release the reserve, accept4 the client, close it, restore the reserve, and go on until EAGAIN)");
        CHECK(counts.accepted == 0);
        for (const std::size_t i : queued) {
            CAPTURE(i);
            CHECK_MESSAGE(closed_by_server(clients[i].get(), 500ms),
                          "a shed client must see its connection closed at once, not hang in the queue");
        }
        CHECK_MESSAGE(reserve.held(), "the reserve descriptor must be restored after shedding, for the next time");
    }

    served.erase(served.begin());  // one client leaves: its descriptor is free again
    connect_to(clients[5].get(), port);
    counts = lesson11::accept_all(listener.get(), reserve, keep);
    CHECK_MESSAGE(counts.accepted == 1, "a descriptor is free again and the client waiting was not accepted (accepted ",
                  counts.accepted, ", shed ", counts.shed, ")");
}

TEST_CASE("on_ready reads until EAGAIN: 200 KiB waiting are all echoed by one call") {
    SocketPair pair;
    Connection connection(std::move(pair.ours));
    const std::string data = harness::random_bytes(200 * 1024, 1101);
    send_whole(pair.theirs.get(), data);
    CHECK(connection.on_ready(EPOLLIN) == Status::open);
    CHECK_MESSAGE(harness::unread_bytes(connection.fd()) == 0,
                  harness::unread_bytes(connection.fd()), " bytes were left unread after an EPOLLIN edge: with EPOLLET "
                  "no second report comes for them (read until recv says EAGAIN)");
    const std::string back = fixtures::read_available(pair.theirs.get());
    CHECK_MESSAGE(back.size() == data.size(), "one on_ready echoed ", back.size(), " of ", data.size(), " bytes");
    CHECK(back == data.substr(0, back.size()));
}

TEST_CASE("on_ready stops reading at the output limit and reads again on the EPOLLOUT edge, with no EPOLLIN") {
    SocketPair pair;
    const int small = 4096;  // the connection's send buffer fills at once: the client is "not reading"
    net::check(::setsockopt(pair.ours.get(), SOL_SOCKET, SO_SNDBUF, &small, sizeof small), "setsockopt SO_SNDBUF");
    constexpr std::size_t limit = 8 * 1024;
    Connection connection(std::move(pair.ours), limit);
    const std::string data = harness::random_bytes(96 * 1024, 1102);
    send_whole(pair.theirs.get(), data);

    CHECK(connection.on_ready(EPOLLIN) == Status::open);
    CHECK_MESSAGE(connection.buffered() <= limit + Connection::read_chunk, "on_ready buffered ", connection.buffered(),
                  " bytes for a client that is not reading; the limit is ", limit,
                  " (draining until EAGAIN stops at the limit: backpressure)");
    CHECK_MESSAGE(harness::unread_bytes(connection.fd()) > 0, "everything was read although the output was over its limit");

    // The client reads what came; the kernel reports EPOLLOUT (an edge: room
    // again), and no EPOLLIN: the bytes still waiting made their edge long ago.
    std::string back = fixtures::read_available(pair.theirs.get());
    for (int turn = 0; turn < 500 && back.size() < data.size(); ++turn) {
        if (connection.on_ready(EPOLLOUT) != Status::open) {
            FAIL("on_ready closed a healthy connection");
        }
        CHECK(connection.buffered() <= limit + Connection::read_chunk);
        back += fixtures::read_available(pair.theirs.get());
    }
    CHECK_MESSAGE(back.size() == data.size(), "the client got back ", back.size(), " of ", data.size(),
                  " bytes: after stopping at the limit, on_ready must read again once the output drained, "
                  "even on an edge that holds only EPOLLOUT");
    CHECK(back == data.substr(0, back.size()));
}

TEST_CASE("on_ready sends what it owes a client that half-closed before it closes") {
    SocketPair pair;
    const int small = 4096;  // most of the echo cannot go out at once
    net::check(::setsockopt(pair.ours.get(), SOL_SOCKET, SO_SNDBUF, &small, sizeof small), "setsockopt SO_SNDBUF");
    Connection connection(std::move(pair.ours));
    const std::string data = harness::random_bytes(64 * 1024, 1105);
    send_whole(pair.theirs.get(), data);
    net::check(::shutdown(pair.theirs.get(), SHUT_WR), "shutdown");  // nc -N: "that was all", still reading

    CHECK_MESSAGE(connection.on_ready(EPOLLIN | EPOLLRDHUP) == Status::open,
                  "recv() returned 0 with ", connection.buffered(), " bytes of replies still unsent: a client that "
                  "half-closed still reads, so close only once it has them");
    std::string back = fixtures::read_available(pair.theirs.get());
    Status status = Status::open;
    for (int turn = 0; turn < 500 && status == Status::open; ++turn) {
        status = connection.on_ready(EPOLLOUT);
        back += fixtures::read_available(pair.theirs.get());
    }
    CHECK_MESSAGE(back.size() == data.size(), "the client got back ", back.size(), " of ", data.size(), " bytes");
    CHECK(back == data.substr(0, back.size()));
    CHECK_MESSAGE(status == Status::closed, "once every reply is out, on_ready must say closed");
}

TEST_CASE("on_ready says closed when the client closes, and when it resets") {
    SUBCASE("close") {
        SocketPair pair;
        Connection connection(std::move(pair.ours));
        send_whole(pair.theirs.get(), "last words\n");
        pair.theirs.reset();
        CHECK_MESSAGE(connection.on_ready(EPOLLIN | EPOLLHUP) == Status::closed,
                      "recv() == 0 after the data means the client closed");
    }
    SUBCASE("reset") {
        net::Fd listener = net::listen_tcp("127.0.0.1", 0);
        net::Fd client = tcp_socket();
        connect_to(client.get(), net::local_port(listener.get()));
        net::Fd server{net::check(::accept4(listener.get(), nullptr, nullptr, SOCK_NONBLOCK | SOCK_CLOEXEC), "accept4")};
        Connection connection(std::move(server));
        const linger reset{1, 0};
        net::check(::setsockopt(client.get(), SOL_SOCKET, SO_LINGER, &reset, sizeof reset), "setsockopt SO_LINGER");
        client.reset();  // RST
        pollfd ready{connection.fd(), POLLIN, 0};
        REQUIRE(::poll(&ready, 1, 2000) == 1);
        CHECK(connection.on_ready(EPOLLIN | EPOLLHUP | EPOLLERR) == Status::closed);
    }
}

TEST_CASE("through the edge-triggered loop: 1 MiB sent in one write comes back whole") {
    EtEchoServer server;
    auto client = harness::Client::connect(server.port());
    const std::string data = harness::random_bytes(1 << 20, 1103);
    const std::string back = fixtures::echo_while_sending(client, data, 5s);
    CHECK(back == data);
}

TEST_CASE("through the edge-triggered loop: 20 clients queued before its first edge are all served") {
    EtEchoServer server({.start_held = true});
    std::vector<harness::Client> clients;
    for (int i = 0; i < 20; ++i) {
        clients.push_back(harness::Client::connect(server.port()));
    }
    server.start();
    for (std::size_t i = 0; i < clients.size(); ++i) {
        clients[i].send(fmt::format("client {}\n", i));
    }
    std::size_t answered = 0;
    try {
        for (; answered < clients.size(); ++answered) {
            const std::string line = fmt::format("client {}\n", answered);
            REQUIRE(clients[answered].recv_exact(line.size(), 2s) == line);
        }
    } catch (const harness::Timeout&) {
        FAIL(answered, " of 20 queued clients were served; with EPOLLET the listener's one edge must be drained "
                       "until accept4 says EAGAIN");
    }
    CHECK(server.figures.accepted.load() == 20);
}

TEST_CASE("through the edge-triggered loop: a client that sends 4 MiB unread is held to the limit, then gets it all back") {
    constexpr std::size_t limit = 64 * 1024;
    EtEchoServer server({.output_limit = limit, .socket_buffer = 16 * 1024});
    auto other = harness::Client::connect(server.port());
    fixtures::NonReader greedy(server.port());
    const std::string data = harness::random_bytes(4 << 20, 1104);
    REQUIRE(greedy.push(data, 300ms) == 0);
    CHECK_MESSAGE(greedy.sent < data.size(), "all 4 MiB went in although the client read nothing: nobody pushed back");

    const auto took = round_trips(other, 20);
    CHECK(*std::max_element(took.begin(), took.end()) < 1s);
    CHECK_MESSAGE(server.figures.most_buffered.load() <= limit + Connection::read_chunk, "the server buffered ",
                  server.figures.most_buffered.load(), " bytes for a client that does not read (limit ", limit, ")");

    int failed = 0;
    std::thread rest([&] { failed = greedy.push(data, 5000ms); });
    const std::string back = greedy.read_back(data.size(), 3s);
    ::shutdown(greedy.socket.get(), SHUT_WR);
    rest.join();
    CHECK(failed == 0);
    CHECK_MESSAGE(back.size() == data.size(), "the client got back ", back.size(), " of ", data.size(),
                  " bytes: reading never resumed after backpressure");
    CHECK(back == data.substr(0, back.size()));
}

namespace {

// `count` connections held open by a child process (its own descriptor
// table and limit), so that neither process needs 20,000 descriptors. The
// child makes only system calls between fork and _exit.
class IdleCrowd {
public:
    IdleCrowd(std::uint16_t port, int count) {
        int ready[2];
        int release[2];
        net::check(::pipe2(ready, O_CLOEXEC), "pipe2");
        net::check(::pipe2(release, O_CLOEXEC), "pipe2");
        const sockaddr_in address = loopback(port);
        rlimit most{};
        net::check(::getrlimit(RLIMIT_NOFILE, &most), "getrlimit");
        most.rlim_cur = most.rlim_max;
        child_ = net::check(::fork(), "fork");
        if (child_ == 0) {
            ::close(ready[0]);
            ::close(release[1]);
            char status = 'y';
            if (::setrlimit(RLIMIT_NOFILE, &most) != 0) {
                status = 'l';
            }
            for (int i = 0; i < count && status == 'y'; ++i) {
                const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
                if (fd < 0 || ::connect(fd, reinterpret_cast<const sockaddr*>(&address), sizeof address) != 0) {
                    status = 'c';
                }
            }
            (void)!::write(ready[1], &status, 1);
            char wait = 0;
            (void)!::read(release[0], &wait, 1);  // returns when the parent closes its end
            ::_exit(0);
        }
        ::close(ready[1]);
        ::close(release[0]);
        ready_.reset(ready[0]);
        release_.reset(release[1]);
    }

    // Empty once every connection is up, else what went wrong. Re-throws a
    // failure of the server at once (then no connect would ever finish).
    std::string wait_until_connected(std::chrono::milliseconds timeout) {
        const auto deadline = std::chrono::steady_clock::now() + timeout;
        pollfd readable{ready_.get(), POLLIN, 0};
        while (::poll(&readable, 1, 50) != 1) {
            harness::rethrow_server_failure();
            if (std::chrono::steady_clock::now() > deadline) {
                return "the connections were not all up in time";
            }
        }
        char status = 0;
        if (::read(ready_.get(), &status, 1) != 1) {
            return "the child process died";
        }
        connected_ = status == 'y';
        return connected_ ? "" : status == 'l' ? "setrlimit failed in the child" : "a connect failed in the child";
    }

    ~IdleCrowd() {
        release_.reset();
        if (!connected_) {
            ::kill(child_, SIGKILL);  // it may be stuck in a connect nobody answers
        }
        for (int i = 0; i < 500; ++i) {  // 5 s for the child to close 10,000 sockets and exit
            if (::waitpid(child_, nullptr, WNOHANG) == child_) {
                return;
            }
            std::this_thread::sleep_for(10ms);
        }
        ::kill(child_, SIGKILL);
        ::waitpid(child_, nullptr, 0);
    }
    IdleCrowd(const IdleCrowd&) = delete;
    IdleCrowd& operator=(const IdleCrowd&) = delete;

private:
    pid_t child_ = -1;
    bool connected_ = false;
    net::Fd ready_;
    net::Fd release_;
};

// Raises this process's soft RLIMIT_NOFILE to at least `wanted` for the scope.
class DescriptorsAtLeast {
public:
    explicit DescriptorsAtLeast(rlim_t wanted) {
        net::check(::getrlimit(RLIMIT_NOFILE, &saved_), "getrlimit");
        REQUIRE_MESSAGE(saved_.rlim_max >= wanted, "this test needs ", wanted, " descriptors and the hard limit is ",
                        saved_.rlim_max, " (raise it: ulimit -Hn, or LimitNOFILE= in systemd)");
        rlimit raised = saved_;
        raised.rlim_cur = std::max(saved_.rlim_cur, wanted);
        net::check(::setrlimit(RLIMIT_NOFILE, &raised), "setrlimit");
    }
    ~DescriptorsAtLeast() { ::setrlimit(RLIMIT_NOFILE, &saved_); }
    DescriptorsAtLeast(const DescriptorsAtLeast&) = delete;
    DescriptorsAtLeast& operator=(const DescriptorsAtLeast&) = delete;

private:
    rlimit saved_{};
};

}  // namespace

TEST_CASE("10,000 idle connections and one active client on one thread: the active client's p99 stays under 100 ms") {
    constexpr int idle = 10'000;
    const DescriptorsAtLeast descriptors(idle + 1'000);
    EtEchoServer server;
    IdleCrowd crowd(server.port(), idle);
    const std::string failed = crowd.wait_until_connected(60s);
    REQUIRE_MESSAGE(failed.empty(), failed);
    REQUIRE_MESSAGE(eventually([&] { return server.figures.accepted.load() >= idle; }, 30s),
                    "the loop accepted ", server.figures.accepted.load(), " of ", idle, " connections in 30 s");

    auto active = harness::Client::connect(server.port());
    auto took = round_trips(active, 1000);
    std::sort(took.begin(), took.end());
    const auto p50 = took[took.size() / 2];
    const auto p99 = took[took.size() * 99 / 100];
    MESSAGE(fmt::format("{} open connections; the active client's round trips: p50 {} us, p99 {} us, slowest {} us",
                        server.figures.open.load(), p50.count(), p99.count(), took.back().count()));
    CHECK(server.figures.open.load() == idle + 1);
    CHECK_MESSAGE(p99 < 100ms, "p99 round trip ", p99.count(), " us with ", idle, " idle connections on the loop");
}
