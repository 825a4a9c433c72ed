// Exercise 06 — UDP: receive a datagram whole, echo it to its sender, and a
// client that retries. The contract is in udp.hpp.
// Replace each net::todo(...) with your code, then run: ./workbook check 06
#include "udp.hpp"

#include <sys/socket.h>

#include "net/address.hpp"
#include "net/error.hpp"

namespace lesson06 {

Datagram receive_datagram([[maybe_unused]] int fd, [[maybe_unused]] std::size_t capacity) {
    net::todo("receive_datagram: recvfrom with MSG_TRUNC, so a cut datagram shows its real length");
}

Echo echo_one([[maybe_unused]] int fd, [[maybe_unused]] std::size_t max_size) {
    net::todo("echo_one: receive_datagram, then sendto the address it came from (unless it was cut)");
}

std::string request_with_retry([[maybe_unused]] int fd, [[maybe_unused]] const net::Address& server,
                               [[maybe_unused]] std::uint32_t id, [[maybe_unused]] std::string_view payload,
                               [[maybe_unused]] const Retry& retry) {
    net::todo("request_with_retry: send \"<id> <payload>\", poll for the reply with a deadline, retry with doubled timeouts");
}

}  // namespace lesson06
