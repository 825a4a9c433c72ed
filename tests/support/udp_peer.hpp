#pragma once
// The UDP side of the harness: a bound socket for the test to play a peer
// (with a transcript and deadlines), and a fixture that runs a server
// function on a thread.

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <future>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "net/address.hpp"
#include "net/fd.hpp"

namespace harness {

// One datagram a UdpPeer received.
struct UdpDatagram {
    std::string bytes;
    std::size_t size = 0;  // its real length (more than bytes.size() only past 65,536 bytes)
    std::string from;      // the sender, as net::to_string writes it
    net::Address sender;   // the sender, to answer it: peer.send_to(datagram.sender, reply)
};

// A UDP socket bound to 127.0.0.1 (or ::1) on a kernel-chosen port, for a test
// to play a client or a server. Everything it sends and receives goes into a
// transcript: INFO(peer) shows it when a check fails.
class UdpPeer {
public:
    explicit UdpPeer(std::string_view host = "127.0.0.1", std::string name = "test client");

    [[nodiscard]] int fd() const noexcept { return fd_.get(); }
    [[nodiscard]] const net::Address& address() const noexcept { return address_; }
    [[nodiscard]] std::string where() const { return net::to_string(address_); }

    void send_to(const net::Address& to, std::string_view bytes);
    // One datagram within `timeout`, or Timeout naming `step`. Like every
    // harness wait it re-throws a UdpServer's failure at once.
    [[nodiscard]] UdpDatagram receive(std::chrono::milliseconds timeout, std::string_view step);
    // The datagrams already waiting, without waiting for more.
    [[nodiscard]] std::vector<UdpDatagram> drain();
    [[nodiscard]] std::string transcript() const;

private:
    [[nodiscard]] bool take(UdpDatagram& datagram);

    net::Fd fd_;
    net::Address address_;
    std::string name_;
    std::string transcript_;
};

std::ostream& operator<<(std::ostream& out, const UdpPeer& peer);

// Runs a server function on its own thread with a UDP socket bound to
// 127.0.0.1 (or ::1) on a kernel-chosen port. If the function throws, waits
// in the test (UdpPeer::receive, wait_readable) re-throw it at once. join()
// waits with a deadline; a server still blocked then is woken by shutdown()
// on its socket, which makes a blocked recvfrom return 0.
//
//     harness::UdpServer server([](int fd) { (void)lesson06::echo_one(fd, 1024); });
//     harness::UdpPeer client;
//     client.send_to(server.address(), "ping");
class UdpServer {
public:
    explicit UdpServer(std::function<void(int fd)> body, std::string_view host = "127.0.0.1");
    // The same, with the body playing a scripted server through the
    // fixture's own UdpPeer (deadlines, transcript): a fake server for a
    // client under test.
    //
    //     harness::UdpServer fake([](harness::UdpPeer& socket) {
    //         const auto asked = socket.receive(2s, "waiting for the client's request");
    //         socket.send_to(asked.sender, std::string("\x83\xaa\x7e\x80", 4));
    //     });
    //     ... run the client against fake.address() ...
    //     fake.join();
    //     INFO(fake.socket());   // what the fake server sent and received
    explicit UdpServer(std::function<void(UdpPeer& socket)> body, std::string_view host = "127.0.0.1");
    ~UdpServer();
    UdpServer(const UdpServer&) = delete;
    UdpServer& operator=(const UdpServer&) = delete;

    [[nodiscard]] const net::Address& address() const noexcept { return socket_.address(); }
    [[nodiscard]] std::string where() const { return socket_.where(); }
    // The server's socket; read its transcript after join().
    [[nodiscard]] const UdpPeer& socket() const noexcept { return socket_; }
    // Waits for the server function to return and re-throws its exception.
    void join(std::chrono::milliseconds timeout = std::chrono::milliseconds(2000));

private:
    void unblock();

    UdpPeer socket_;
    std::future<void> done_;
    std::thread thread_;
    bool joined_ = false;
};

// host:port as an address (host must be numeric: no DNS in tests).
[[nodiscard]] net::Address udp_address(std::uint16_t port, std::string_view host = "127.0.0.1");
// A UDP port on which nothing listens: bound a moment ago, and closed.
[[nodiscard]] std::uint16_t closed_udp_port(std::string_view host = "127.0.0.1");

}  // namespace harness
