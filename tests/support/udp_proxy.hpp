#pragma once
// A seeded lossy UDP proxy (the UDP peer and server fixtures are in udp_peer.hpp).
//
// UDP promises nothing about delivery, yet on loopback a receiver that keeps up
// loses nothing (a full receive buffer does drop datagrams: chapter 06).
// The proxy loses, duplicates and reorders datagrams on purpose, reproducibly,
// so that a client's timeouts, retries and reply matching are tested for real.

#include <chrono>
#include <functional>
#include <future>
#include <map>
#include <cstddef>
#include <cstdint>
#include <mutex>
#include <ostream>
#include <random>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "net/address.hpp"
#include "net/fd.hpp"
#include "udp_peer.hpp"

namespace harness {

// What the proxy does with one datagram.
enum class UdpFate {
    forward,    // pass it on
    drop,       // lose it
    duplicate,  // pass it on twice
    reorder,    // hold it back until the next datagram in the same direction has
                // gone past it (or until reorder_hold has passed), then pass it on
};

// Which datagrams meet which fate. Datagrams are counted from 0 in each
// direction separately. The scripted fates come first; the rest are drawn
// with the probabilities below from a generator seeded with `seed`.
//
//     // lose the first two requests, duplicate the first reply
//     harness::UdpLossPlan plan{.client_to_server = {UdpFate::drop, UdpFate::drop},
//                               .server_to_client = {UdpFate::duplicate}};
struct UdpLossPlan {
    std::vector<UdpFate> client_to_server{};
    std::vector<UdpFate> server_to_client{};
    double drop = 0.0;       // probability of each unscripted datagram's fate
    double duplicate = 0.0;
    double reorder = 0.0;
    // Random drops lose the same bytes (a retransmission is the same bytes) at
    // most this many times in each direction, so a client that retries enough
    // always gets through and a test with random loss never flakes.
    int max_random_drops_of_same_bytes = 1;
    // The longest a reordered datagram is held when nothing else comes by.
    std::chrono::milliseconds reorder_hold{15};
    // 0: a fresh random seed. WORKBOOK_SEED in the environment overrides
    // either, to replay a failing run.
    std::uint64_t seed = 0;
};

// What happened to the datagrams of one direction.
struct UdpProxyCounts {
    std::size_t received = 0;
    std::size_t forwarded = 0;  // datagrams sent on, duplicates counted twice
    std::size_t dropped = 0;
    std::size_t duplicated = 0;
    std::size_t reordered = 0;
};

// Binds 127.0.0.1 (or ::1) on a kernel-chosen port and forwards datagrams to
// server_port on the same host, and the server's datagrams back to the client
// (the address the latest client datagram came from). Runs on its own thread;
// the destructor stops it. It never blocks on a send and never throws from
// its thread: trouble is written to the report.
//
//     harness::UdpProxy proxy(server_port, {.drop = 0.3, .duplicate = 0.2});
//     INFO(proxy);   // on failure: the seed (replay with WORKBOOK_SEED=...) and every datagram's fate
//     // ... the client sends to proxy.address() instead of the server ...
class UdpProxy {
public:
    explicit UdpProxy(std::uint16_t server_port, UdpLossPlan plan = {}, std::string_view host = "127.0.0.1");
    ~UdpProxy();
    UdpProxy(const UdpProxy&) = delete;
    UdpProxy& operator=(const UdpProxy&) = delete;

    [[nodiscard]] std::uint16_t port() const noexcept { return port_; }
    [[nodiscard]] const net::Address& address() const noexcept { return address_; }
    [[nodiscard]] std::uint64_t seed() const noexcept { return seed_; }

    [[nodiscard]] UdpProxyCounts client_to_server() const;
    [[nodiscard]] UdpProxyCounts server_to_client() const;
    // Sends `bytes` to the client as if the server had, past the plan: frees a
    // client under test that is still waiting after the test's deadline.
    void send_to_client(std::string_view bytes);
    // The seed, how to replay it, and the fate of every datagram so far.
    [[nodiscard]] std::string report() const;

private:
    struct Direction {
        std::string_view name;  // "client>server" or "server>client"
        const std::vector<UdpFate>* script = nullptr;
        UdpProxyCounts counts;
        std::map<std::string, int, std::less<>> random_drops;  // bytes → times lost at random
        bool holding = false;  // a reordered datagram waits in `held`
        std::string held;
        std::size_t held_index = 0;
        std::chrono::steady_clock::time_point release_at;
    };

    void run();
    void receive_all(int fd, Direction& direction);
    void handle(Direction& direction, std::string bytes);
    UdpFate decide(Direction& direction, const std::string& bytes);
    void pass_on(Direction& direction, const std::string& bytes);
    void release_held(Direction& direction, std::string_view why);
    void note(std::string line);

    UdpLossPlan plan_;
    std::uint64_t seed_ = 0;
    std::mt19937_64 random_;
    net::Fd front_;  // the client talks to this one
    net::Fd back_;   // connected to the server
    net::Fd wake_read_;
    net::Fd wake_write_;
    net::Address address_;
    net::Address server_;
    std::uint16_t port_ = 0;

    // The proxy's thread changes these while holding the mutex; the test
    // thread reads the counts and the log through it.
    mutable std::mutex mutex_;
    Direction to_server_;
    Direction to_client_;
    net::Address client_;  // where server datagrams go: unknown (length 0) until the client speaks
    std::vector<std::string> log_;
    std::size_t log_left_off_ = 0;

    std::thread thread_;
};

std::ostream& operator<<(std::ostream& out, const UdpProxy& proxy);

}  // namespace harness
