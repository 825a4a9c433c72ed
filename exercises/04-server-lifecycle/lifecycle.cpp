// Exercise 04 — a server that behaves. The contract is in lifecycle.hpp.
// Replace each net::todo(...) with your code, then run: ./workbook check 04
#include "lifecycle.hpp"

#include <cerrno>
#include <sys/socket.h>

#include "net/address.hpp"
#include "net/error.hpp"

namespace lesson04 {

net::Fd open_listener([[maybe_unused]] std::uint16_t port, [[maybe_unused]] const std::string& host) {
    net::todo("open_listener: socket, setsockopt SO_REUSEADDR, bind, listen");
}

void serve_client([[maybe_unused]] net::Fd client, [[maybe_unused]] const Handler& handler) {
    net::todo("serve_client: recv until EOF, reply = handler(request), send it all with MSG_NOSIGNAL");
}

std::size_t serve([[maybe_unused]] int listener, [[maybe_unused]] const Handler& handler,
                  [[maybe_unused]] const std::atomic<bool>& stop) {
    net::todo("serve: accept and serve_client until stop; EINTR and one client's failure are not fatal");
}

}  // namespace lesson04
