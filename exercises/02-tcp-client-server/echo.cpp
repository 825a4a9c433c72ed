// Exercise 02 — the echo server's and client's halves. The contract is in echo.hpp.
// Replace each net::todo(...) with your code, then run: ./workbook check 02
#include "echo.hpp"

#include <sys/socket.h>

#include "net/address.hpp"
#include "net/error.hpp"

namespace lesson02 {

std::size_t serve_client([[maybe_unused]] net::Fd client) {
    net::todo("serve_client: recv, send the same bytes back, until recv returns 0");
}

std::string echo_once([[maybe_unused]] const std::string& host, [[maybe_unused]] std::uint16_t port,
                      [[maybe_unused]] std::string_view message) {
    net::todo("echo_once: resolve, connect (trying every address), send, recv until the whole echo is back");
}

}  // namespace lesson02
