// Exercise 10 — one client of a non-blocking echo server. The contract is in connection.hpp.
// Replace each net::todo(...) with your code, then run: ./workbook check 10
#include "connection.hpp"

#include <cerrno>
#include <sys/socket.h>
#include <utility>

#include "net/error.hpp"

namespace lesson10 {

Connection::Connection(net::Fd socket, std::size_t output_limit)
    : socket_(std::move(socket)), output_limit_(output_limit) {}

Status Connection::on_readable() {
    net::todo("Connection::on_readable: one recv, append to the output, try to send; 0 means closed, EAGAIN means later");
}

Status Connection::on_writable() {
    net::todo("Connection::on_writable: send from the front of the output until it is empty or EAGAIN; keep the tail");
}

std::uint32_t Connection::interest() const {
    net::todo("Connection::interest: EPOLLIN below the output limit, EPOLLOUT while output is waiting");
}

}  // namespace lesson10
