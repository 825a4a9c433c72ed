// Exercise 18, part 2 — the passive transfer. The contract is in ftp.hpp.
#include <string>
#include <string_view>

#include <fmt/core.h>

#include "ftp.hpp"

namespace ftp {
namespace {

// 125 "connection already open" or 150 "about to open": the transfer starts.
bool transfer_starts(const Reply& reply) { return reply.code == 125 || reply.code == 150; }

// 226 "closing data connection, transfer complete", 250 "file action completed".
bool transfer_done(const Reply& reply) { return reply.code == 226 || reply.code == 250; }

}  // namespace

std::string Client::download(std::string_view command, std::uint64_t rest) {
    // The data connection first: in passive mode the server waits for it
    // and answers the command once it has it (or with 425 if it never comes).
    const net::Fd data = open_data(passive());
    if (rest > 0) {
        const Reply reply = this->command(fmt::format("REST {}", rest));
        if (reply.code != 350) {
            throw ReplyError(fmt::format("REST {}", rest), reply);
        }
    }
    send_command(command);
    // The control connection says whether data will come at all; reading the
    // data connection first would wait out the timeout on a 550.
    const Reply start = read_reply();
    if (!transfer_starts(start)) {
        throw ReplyError(command, start);
    }
    std::string bytes = read_data(data.get());
    // The EOF on the data connection does not say the file was complete: a
    // server that gave up closes it too. The final reply does.
    const Reply end = read_reply();
    if (!transfer_done(end)) {
        throw ReplyError(command, end);
    }
    return bytes;
}

void Client::upload(std::string_view command, std::string_view data) {
    net::Fd connection = open_data(passive());
    send_command(command);
    const Reply start = read_reply();
    if (!transfer_starts(start)) {
        throw ReplyError(command, start);
    }
    write_data(connection.get(), data);
    // In stream mode the end of the file is the end of the connection.
    connection.reset();
    trace("data    * closed: the end of the file");
    const Reply end = read_reply();
    if (!transfer_done(end)) {
        throw ReplyError(command, end);
    }
}

std::string Client::retrieve(std::string_view path, Type type, std::uint64_t offset) {
    // The server's default is TYPE A: say which type, every time it matters.
    set_type(type);
    std::string bytes = download(fmt::format("RETR {}", path), offset);
    return type == Type::ascii ? from_network_ascii(bytes) : bytes;
}

void Client::store(std::string_view path, std::string_view data, Type type) {
    set_type(type);
    upload(fmt::format("STOR {}", path), type == Type::ascii ? to_network_ascii(data) : std::string(data));
}

}  // namespace ftp
