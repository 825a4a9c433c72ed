#pragma once
// A seeded re-chunking TCP proxy on loopback: TCP promises the bytes and their
// order, never where one recv ends. This proxy makes that visible.

#include <atomic>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <future>
#include <optional>
#include <ostream>
#include <string>
#include <string_view>
#include <thread>

#include "harness.hpp"
#include "net/fd.hpp"

namespace harness {

struct ProxyOptions {
    // Chosen by test_seed(seed): WORKBOOK_SEED overrides whatever is set here.
    std::optional<std::uint64_t> seed{};
    // Each forwarding send is either a piece of min_piece..max_piece bytes, or
    // (with probability coalesce_percent/100) everything that has piled up,
    // several of the sender's writes in one (up to a random 1-16 KiB).
    std::size_t min_piece = 1;
    std::size_t max_piece = 7;
    unsigned coalesce_percent = 25;
    // After each send, wait a random 0..max_delay before the next one in the
    // same direction (0: no pauses).
    std::chrono::microseconds max_delay{0};
};

// Listens on 127.0.0.1 (or ::1) on a kernel-chosen port. Each connection to
// it gets its own connection to target_port on the same host, and bytes are
// forwarded both ways, re-chunked as ProxyOptions says. EOF and shutdown
// (SHUT_WR) pass through in each direction; a reset (RST) on one side resets
// the other. Everything runs on one thread of its own; the destructor stops it
// and closes every connection (the peers see EOF).
//
//     harness::TcpProxy proxy(server.port());
//     INFO(proxy);                                  // the seed, on failure
//     auto client = harness::Client::connect(proxy.port());
class TcpProxy {
public:
    explicit TcpProxy(std::uint16_t target_port, ProxyOptions options = {}, std::string_view host = "127.0.0.1");
    ~TcpProxy();
    TcpProxy(const TcpProxy&) = delete;
    TcpProxy& operator=(const TcpProxy&) = delete;

    [[nodiscard]] std::uint16_t port() const noexcept { return port_; }
    [[nodiscard]] std::uint64_t seed() const noexcept { return seed_; }

    // While paused, the proxy keeps reading (so a sender is not held up) but
    // forwards nothing; resume() lets everything buffered go.
    void pause();
    void resume();

    // Counters over all connections, for reports and self-tests.
    [[nodiscard]] std::size_t bytes_received() const noexcept { return bytes_received_.load(); }
    [[nodiscard]] std::size_t bytes_forwarded() const noexcept { return bytes_forwarded_.load(); }
    [[nodiscard]] std::size_t sends() const noexcept { return sends_.load(); }
    [[nodiscard]] std::size_t largest_send() const noexcept { return largest_send_.load(); }
    // The first thing that went wrong inside the proxy ("" if nothing did).
    [[nodiscard]] std::string error() const;

    // "re-chunking proxy, seed 42 (replay: WORKBOOK_SEED=42 ...), ..."
    [[nodiscard]] std::string describe() const;

private:
    void run(std::uint16_t target_port, std::string host, ProxyOptions options);
    void wake() const noexcept;

    net::Fd listener_;
    net::Fd wake_read_;
    net::Fd wake_write_;
    std::uint16_t port_ = 0;
    std::uint64_t seed_ = 0;
    std::atomic<bool> stop_{false};
    std::atomic<bool> paused_{false};
    std::atomic<std::size_t> bytes_received_{0};
    std::atomic<std::size_t> bytes_forwarded_{0};
    std::atomic<std::size_t> sends_{0};
    std::atomic<std::size_t> largest_send_{0};
    mutable std::atomic<bool> error_set_{false};
    std::string error_;  // written once by the proxy thread before error_set_
    std::thread thread_;
};

// doctest's INFO(proxy) prints describe() when a check fails.
std::ostream& operator<<(std::ostream& out, const TcpProxy& proxy);

}  // namespace harness
