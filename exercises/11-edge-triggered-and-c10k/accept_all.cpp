// Exercise 11 — the listener's edge-triggered handler. The contract is in edge_triggered.hpp.
// Replace the net::todo(...) with your code, then run: ./workbook check 11
#include "edge_triggered.hpp"

#include <cerrno>
#include <sys/socket.h>
#include <unistd.h>

#include "net/error.hpp"
#include "net/tcp.hpp"

namespace lesson11 {

AcceptCounts accept_all([[maybe_unused]] int listener, [[maybe_unused]] ReserveFd& reserve,
                        [[maybe_unused]] const std::function<void(net::Fd)>& on_client) {
    net::todo("accept_all: accept4 until EAGAIN; on EMFILE shed the client with the reserve descriptor");
}

}  // namespace lesson11
