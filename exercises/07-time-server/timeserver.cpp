// Exercise 07 — RFC 867/868 time over TCP and UDP, with timeouts. The
// contract is in timeserver.hpp. Replace each net::todo(...) with your code,
// then run: ./workbook check 07
#include "timeserver.hpp"

#include <cerrno>
#include <ctime>
#include <poll.h>
#include <sys/socket.h>
#include <sys/time.h>

#include "net/address.hpp"
#include "net/error.hpp"
#include "net/tcp.hpp"

namespace lesson07 {

std::string daytime_line([[maybe_unused]] Clock::time_point now) {
    net::todo("daytime_line: gmtime_r, then strftime \"%A, %B %d, %Y %H:%M:%S-UTC\\r\\n\"");
}

std::array<std::uint8_t, 4> time_bytes([[maybe_unused]] Clock::time_point now) {
    net::todo("time_bytes: Unix seconds + 2208988800, most significant byte first");
}

Clock::time_point time_from_bytes([[maybe_unused]] std::span<const std::uint8_t, 4> bytes) {
    net::todo("time_from_bytes: big-endian 32 bits, minus 2208988800; below 2^31 means after 2036 (SNTP)");
}

void serve_tcp_client([[maybe_unused]] net::Fd client, [[maybe_unused]] Service service,
                      [[maybe_unused]] std::chrono::milliseconds timeout) {
    net::todo("serve_tcp_client: send the answer; for time, wait (at most timeout in all) for the client to close");
}

std::size_t serve_udp([[maybe_unused]] int fd, [[maybe_unused]] Service service,
                      [[maybe_unused]] const std::atomic<bool>& stop) {
    net::todo("serve_udp: recvfrom, sendto the answer back to that address, until stop");
}

Clock::time_point ask_time([[maybe_unused]] const std::string& host, [[maybe_unused]] std::uint16_t port,
                           [[maybe_unused]] Transport transport, [[maybe_unused]] std::chrono::milliseconds timeout) {
    net::todo("ask_time: connect, receive 4 bytes (TCP) or send an empty datagram and receive one (UDP), within timeout");
}

}  // namespace lesson07
