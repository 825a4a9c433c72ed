// Tests of the harness's seeded lossy UDP proxy: the lesson tests that use it
// trust it to lose, duplicate and reorder exactly what its plan says, and to
// forward everything else intact. The test plays both the client and the
// server with UdpPeer sockets, so nothing runs on a thread but the proxy.
#include <doctest/doctest.h>

#include <chrono>
#include <cstdlib>
#include <optional>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "harness.hpp"
#include "net/address.hpp"
#include "udp_peer.hpp"
#include "udp_proxy.hpp"

using namespace std::chrono_literals;
using harness::UdpFate;

namespace {

constexpr auto wait = 2s;  // the deadline of every receive

// The address a datagram came from, to answer it ("127.0.0.1:port").
net::Address sender(const harness::UdpDatagram& datagram) {
    const auto colon = datagram.from.rfind(':');
    return harness::udp_address(static_cast<std::uint16_t>(std::stoul(datagram.from.substr(colon + 1))));
}

std::uint16_t port_of(const harness::UdpPeer& peer) { return net::local_port(peer.fd()); }

std::vector<std::string> bytes_of(const std::vector<harness::UdpDatagram>& datagrams) {
    std::vector<std::string> bytes;
    for (const auto& datagram : datagrams) {
        bytes.push_back(datagram.bytes);
    }
    return bytes;
}

// Polls the proxy's counter (not a clock) until it has taken in n client datagrams.
void wait_until_received(const harness::UdpProxy& proxy, std::size_t n) {
    const harness::Deadline deadline(wait);
    while (proxy.client_to_server().received < n && !deadline.expired()) {
        std::this_thread::yield();
    }
    REQUIRE(proxy.client_to_server().received == n);
}

// Sets WORKBOOK_SEED for one scope and puts the old value back afterwards.
class SeedVariable {
public:
    SeedVariable() {
        const char* saved = std::getenv("WORKBOOK_SEED");
        if (saved != nullptr) {
            previous_ = saved;
        }
    }
    ~SeedVariable() {
        if (previous_) {
            ::setenv("WORKBOOK_SEED", previous_->c_str(), 1);
        } else {
            ::unsetenv("WORKBOOK_SEED");
        }
    }
    SeedVariable(const SeedVariable&) = delete;
    SeedVariable& operator=(const SeedVariable&) = delete;

private:
    std::optional<std::string> previous_;
};

}  // namespace

TEST_CASE("harness: with an empty plan the UDP proxy forwards both ways intact, in order, to the latest client") {
    harness::UdpPeer server("127.0.0.1", "server");
    harness::UdpProxy proxy(port_of(server));
    INFO(proxy);
    harness::UdpPeer client;
    INFO(client);
    INFO(server);
    const std::vector<std::string> requests = {"one", "", "three", harness::random_bytes(1400, 61)};
    for (const std::string& request : requests) {
        client.send_to(proxy.address(), request);
    }
    net::Address back;
    for (const std::string& request : requests) {
        const harness::UdpDatagram datagram = server.receive(wait, "the server receiving a request");
        CHECK(datagram.size == request.size());
        CHECK(harness::first_difference(request, datagram.bytes) == "");
        back = sender(datagram);
    }
    for (const std::string_view reply : {"re: one", "re: three"}) {
        server.send_to(back, reply);
    }
    for (const std::string_view reply : {"re: one", "re: three"}) {
        const harness::UdpDatagram datagram = client.receive(wait, "the client receiving a reply");
        CHECK(datagram.bytes == reply);
        CHECK(datagram.from == net::to_string(proxy.address()));
    }

    // A second client speaks: the server's replies now go to it.
    harness::UdpPeer other("127.0.0.1", "second client");
    INFO(other);
    other.send_to(proxy.address(), "me too");
    CHECK(server.receive(wait, "the server receiving the second client").bytes == "me too");
    server.send_to(back, "re: me too");
    CHECK(other.receive(wait, "the second client receiving its reply").bytes == "re: me too");

    const harness::UdpProxyCounts up = proxy.client_to_server();
    CHECK(up.received == 5);
    CHECK(up.forwarded == 5);
    CHECK(up.dropped + up.duplicated + up.reordered == 0);
    const harness::UdpProxyCounts down = proxy.server_to_client();
    CHECK(down.received == 3);
    CHECK(down.forwarded == 3);
    CHECK(down.dropped + down.duplicated + down.reordered == 0);
}

TEST_CASE("harness: the UDP proxy drops exactly the scripted datagrams and forwards the rest") {
    harness::UdpPeer server("127.0.0.1", "server");
    harness::UdpProxy proxy(port_of(server), {.client_to_server = {UdpFate::drop, UdpFate::drop},
                                              .server_to_client = {UdpFate::forward, UdpFate::drop}});
    INFO(proxy);
    harness::UdpPeer client;
    INFO(client);
    INFO(server);
    for (const std::string_view request : {"0", "1", "2", "3", "4"}) {
        client.send_to(proxy.address(), request);
    }
    std::vector<std::string> received;
    net::Address back;
    for (int i = 0; i < 3; ++i) {
        const harness::UdpDatagram datagram = server.receive(wait, "the server receiving a request");
        received.push_back(datagram.bytes);
        back = sender(datagram);
    }
    CHECK(received == std::vector<std::string>{"2", "3", "4"});
    // The proxy took "4" in after the others and forwarded it last: all are counted.
    const harness::UdpProxyCounts up = proxy.client_to_server();
    CHECK(up.received == 5);
    CHECK(up.dropped == 2);
    CHECK(up.forwarded == 3);
    CHECK(server.drain().empty());

    for (const std::string_view reply : {"a", "b", "c"}) {
        server.send_to(back, reply);
    }
    CHECK(client.receive(wait, "the client receiving reply a").bytes == "a");
    CHECK(client.receive(wait, "the client receiving reply c").bytes == "c");
    const harness::UdpProxyCounts down = proxy.server_to_client();
    CHECK(down.received == 3);
    CHECK(down.dropped == 1);
    CHECK(down.forwarded == 2);
    CHECK(client.drain().empty());
}

TEST_CASE("harness: the UDP proxy's duplicate and reorder fates do what they say") {
    harness::UdpPeer server("127.0.0.1", "server");
    harness::UdpPeer client;
    INFO(client);
    INFO(server);

    SUBCASE("duplicate, both ways") {
        harness::UdpProxy proxy(port_of(server), {.client_to_server = {UdpFate::duplicate},
                                                  .server_to_client = {UdpFate::duplicate}});
        INFO(proxy);
        client.send_to(proxy.address(), "twice");
        client.send_to(proxy.address(), "once");
        const harness::UdpDatagram first = server.receive(wait, "the server receiving the original");
        CHECK(first.bytes == "twice");
        CHECK(server.receive(wait, "the server receiving the copy").bytes == "twice");
        CHECK(server.receive(wait, "the server receiving the next datagram").bytes == "once");
        server.send_to(sender(first), "reply");
        CHECK(client.receive(wait, "the client receiving the reply").bytes == "reply");
        CHECK(client.receive(wait, "the client receiving its copy").bytes == "reply");
        const harness::UdpProxyCounts up = proxy.client_to_server();
        CHECK(up.received == 2);
        CHECK(up.duplicated == 1);
        CHECK(up.forwarded == 3);  // duplicates count twice
        const harness::UdpProxyCounts down = proxy.server_to_client();
        CHECK(down.duplicated == 1);
        CHECK(down.forwarded == 2);
    }

    SUBCASE("reorder: the next datagram overtakes the held one") {
        // A hold far longer than the test: only the overtaking releases it.
        harness::UdpProxy proxy(port_of(server), {.client_to_server = {UdpFate::reorder}, .reorder_hold = 30s});
        INFO(proxy);
        client.send_to(proxy.address(), "first");
        client.send_to(proxy.address(), "second");
        client.send_to(proxy.address(), "third");
        CHECK(server.receive(wait, "the server receiving the overtaking datagram").bytes == "second");
        CHECK(server.receive(wait, "the server receiving the held datagram").bytes == "first");
        CHECK(server.receive(wait, "the server receiving the last datagram").bytes == "third");
        const harness::UdpProxyCounts up = proxy.client_to_server();
        CHECK(up.received == 3);
        CHECK(up.reordered == 1);
        CHECK(up.forwarded == 3);
    }

    SUBCASE("reorder: with nothing to overtake it, the held datagram goes after reorder_hold") {
        harness::UdpProxy proxy(port_of(server), {.client_to_server = {UdpFate::reorder}, .reorder_hold = 20ms});
        INFO(proxy);
        client.send_to(proxy.address(), "alone");
        CHECK(server.receive(wait, "the server receiving the released datagram").bytes == "alone");
        const harness::UdpProxyCounts up = proxy.client_to_server();
        CHECK(up.reordered == 1);
        CHECK(up.forwarded == 1);
    }
}

TEST_CASE("harness: the UDP proxy's random drops lose the same bytes at most max_random_drops_of_same_bytes times") {
    for (const int cap : {1, 2}) {
        CAPTURE(cap);
        harness::UdpPeer server("127.0.0.1", "server");
        harness::UdpProxy proxy(port_of(server), {.drop = 1.0, .max_random_drops_of_same_bytes = cap, .seed = 5});
        INFO(proxy);
        harness::UdpPeer client;
        INFO(client);
        INFO(server);
        // Every send is a retransmission of "again" until one gets through;
        // "other" is different bytes, so it has a cap of its own.
        for (int i = 0; i <= cap; ++i) {
            client.send_to(proxy.address(), "again");
        }
        for (int i = 0; i <= cap; ++i) {
            client.send_to(proxy.address(), "other");
        }
        CHECK(server.receive(wait, "the server receiving the retransmission").bytes == "again");
        CHECK(server.receive(wait, "the server receiving the other retransmission").bytes == "other");
        const harness::UdpProxyCounts up = proxy.client_to_server();
        CHECK(up.received == 2 * static_cast<std::size_t>(cap + 1));
        CHECK(up.dropped == 2 * static_cast<std::size_t>(cap));
        CHECK(up.forwarded == 2);
        CHECK(server.drain().empty());
    }
}

TEST_CASE("harness: WORKBOOK_SEED overrides the UDP proxy's seed and replays its fates") {
    const SeedVariable restore;
    const std::uint16_t nowhere = harness::closed_udp_port();
    ::setenv("WORKBOOK_SEED", "42", 1);
    CHECK(harness::test_seed(7) == 42);
    CHECK(harness::UdpProxy(nowhere, {.seed = 7}).seed() == 42);
    CHECK(harness::UdpProxy(nowhere).seed() == 42);

    // What got through a 50% lossy proxy with the plan's seed `seed`.
    auto survivors = [](std::uint64_t seed) {
        harness::UdpPeer server("127.0.0.1", "server");
        harness::UdpProxy proxy(port_of(server), {.drop = 0.5, .seed = seed});
        INFO(proxy);
        harness::UdpPeer client;
        constexpr std::size_t count = 32;
        for (std::size_t i = 0; i < count; ++i) {
            client.send_to(proxy.address(), std::to_string(i));
        }
        wait_until_received(proxy, count);
        // Forwarded datagrams were sent before the count went up, and loopback
        // delivers at once: whatever got through is queued at the server.
        const std::vector<std::string> received = bytes_of(server.drain());
        CHECK(received.size() == proxy.client_to_server().forwarded);
        return received;
    };
    const std::vector<std::string> first = survivors(1);
    CHECK(first == survivors(2));  // WORKBOOK_SEED=42 for both: the same fates
    CHECK(!first.empty());
    CHECK(first.size() < 32);

    ::unsetenv("WORKBOOK_SEED");
    CHECK(harness::UdpProxy(nowhere, {.seed = 7}).seed() == 7);
    CHECK(survivors(1) == survivors(1));
    CHECK(survivors(1) != survivors(2));
}

TEST_CASE("harness: the UDP proxy's destructor returns promptly, even while it holds a datagram back") {
    harness::UdpPeer server("127.0.0.1", "server");
    harness::UdpPeer client;
    INFO(client);
    {
        const auto start = std::chrono::steady_clock::now();
        { const harness::UdpProxy idle(port_of(server)); }
        CHECK(std::chrono::steady_clock::now() - start < 1s);
    }
    std::optional<harness::UdpProxy> proxy;
    proxy.emplace(port_of(server), harness::UdpLossPlan{.client_to_server = {UdpFate::forward, UdpFate::reorder},
                                                         .reorder_hold = 60s});
    client.send_to(proxy->address(), "through");
    client.send_to(proxy->address(), "held");
    REQUIRE(server.receive(wait, "the server receiving the forwarded datagram").bytes == "through");
    wait_until_received(*proxy, 2);  // "held" now waits out its 60 s hold in the proxy's poll
    const auto start = std::chrono::steady_clock::now();
    proxy.reset();
    CHECK(std::chrono::steady_clock::now() - start < 1s);
}
