// Exercise 11 — one client of an edge-triggered echo server. The contract is in edge_triggered.hpp.
// Replace the net::todo(...) with your code, then run: ./workbook check 11
#include "edge_triggered.hpp"

#include <cerrno>
#include <sys/socket.h>
#include <utility>

#include "net/error.hpp"

namespace lesson11 {

Connection::Connection(net::Fd socket, std::size_t output_limit)
    : socket_(std::move(socket)), output_limit_(output_limit) {}

Status Connection::on_ready([[maybe_unused]] std::uint32_t ready) {
    net::todo("Connection::on_ready: send what waits, then recv until EAGAIN (or the output limit), echoing");
}

}  // namespace lesson11
