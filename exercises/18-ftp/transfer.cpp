// Exercise 18, part 2 — the passive transfer. The contract is in ftp.hpp.
// Replace each net::todo(...) with your code, then run: ./workbook check 18
#include <cstdint>
#include <string>
#include <string_view>

#include "ftp.hpp"
#include "net/error.hpp"

namespace ftp {

std::string Client::download([[maybe_unused]] std::string_view command, [[maybe_unused]] std::uint64_t rest) {
    net::todo("Client::download: data connection, command, 125/150, read to EOF, then 226");
}

void Client::upload([[maybe_unused]] std::string_view command, [[maybe_unused]] std::string_view data) {
    net::todo("Client::upload: data connection, command, 125/150, send and close, then 226");
}

std::string Client::retrieve([[maybe_unused]] std::string_view path, [[maybe_unused]] Type type,
                             [[maybe_unused]] std::uint64_t offset) {
    net::todo("Client::retrieve: set_type, then download(\"RETR path\"), converted back in TYPE A");
}

void Client::store([[maybe_unused]] std::string_view path, [[maybe_unused]] std::string_view data,
                   [[maybe_unused]] Type type) {
    net::todo("Client::store: set_type, then upload(\"STOR path\"), LF sent as CRLF in TYPE A");
}

}  // namespace ftp
