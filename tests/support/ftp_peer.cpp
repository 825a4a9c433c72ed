// The scripted FTP server of ftp_peer.hpp.
#include "ftp_peer.hpp"

#include <cerrno>
#include <stdexcept>
#include <string>
#include <system_error>

#include <poll.h>
#include <sys/socket.h>

#include <fmt/core.h>

#include "net/address.hpp"
#include "net/tcp.hpp"
#include "waits.hpp"

namespace harness {
namespace {

constexpr milliseconds ftp_command_timeout{3000};  // the client's next command
constexpr milliseconds ftp_linger_timeout{3000};   // the client closing after the script

// Sends every byte, each wait for room within the deadline.
void ftp_send_within(int fd, std::string_view bytes, const Deadline& deadline, std::string_view step) {
    while (!bytes.empty()) {
        wait_writable(fd, deadline, step);
        const ssize_t n = ::send(fd, bytes.data(), bytes.size(), MSG_NOSIGNAL | MSG_DONTWAIT);
        if (n < 0 && (errno == EINTR || errno == EAGAIN || errno == EWOULDBLOCK)) {
            continue;
        }
        if (n < 0) {
            throw std::system_error(errno, std::generic_category(), fmt::format("send ({})", step));
        }
        bytes.remove_prefix(static_cast<std::size_t>(n));
    }
}

// One command line, read a byte at a time (the next one stays in the
// socket); "" when the client closed. Throws Timeout.
std::string ftp_read_command(int fd, milliseconds timeout, bool* closed) {
    const Deadline deadline(timeout);
    std::string line;
    while (!line.ends_with("\r\n")) {
        wait_readable(fd, deadline, "the scripted FTP server waits for the client's next command");
        char byte = 0;
        const ssize_t got = ::recv(fd, &byte, 1, 0);
        if (got < 0 && errno == EINTR) {
            continue;
        }
        if (got <= 0) {
            *closed = true;  // a close, or a reset
            return line;
        }
        line += byte;
        if (line.size() > 4096) {
            throw std::runtime_error(fmt::format("a command line of more than 4096 bytes: {}", escape(line)));
        }
    }
    line.resize(line.size() - 2);
    return line;
}

bool ftp_matches(std::string_view expected, std::string_view line) {
    if (expected.ends_with('*')) {
        return line.starts_with(expected.substr(0, expected.size() - 1));
    }
    return line == expected;
}

// Waits (up to `timeout`) for the client to close, discarding what it sends.
void ftp_until_closed(int fd, milliseconds timeout) {
    const Deadline deadline(timeout);
    try {
        while (true) {
            wait_readable(fd, deadline, "the scripted FTP server waits for the client to close");
            char buffer[4096];
            if (::recv(fd, buffer, sizeof buffer, 0) <= 0) {
                return;
            }
        }
    } catch (const Timeout&) {
        // the client kept it open longer: its business
    }
}

}  // namespace

FtpPeer::FtpPeer(FtpScript script)
    : server_([this, script = std::move(script)](int listener) { run(listener, script); }) {}

void FtpPeer::join(milliseconds timeout) { server_.join(timeout); }

std::vector<std::string> FtpPeer::commands() const {
    const std::lock_guard lock(mutex_);
    return commands_;
}

std::vector<std::string> FtpPeer::uploads() const {
    const std::lock_guard lock(mutex_);
    return uploads_;
}

void FtpPeer::run(int listener, const FtpScript& script) {
    const net::Fd control = accept_within(listener);
    int reader = -1;  // the client's end of the control connection, in this process
    const auto reply = [&](std::string_view text) {
        const Deadline deadline(default_timeout);
        if (!script.every_byte) {
            ftp_send_within(control.get(), text, deadline, "the scripted FTP server sends a reply");
            return;
        }
        for (std::size_t at = 0; at < text.size(); ++at) {
            try {
                ftp_send_within(control.get(), text.substr(at, 1), deadline, "the scripted FTP server sends a reply");
            } catch (const std::system_error&) {
                return;  // the client gave up on the reply: the test judges it
            }
            if (at + 1 == text.size()) {
                break;  // the reply is complete: the client may act on it (and close) at once
            }
            // The next byte must arrive in a recv of its own.
            try {
                if (reader < 0) {
                    reader = wait_for_peer_socket(control.get(), "the scripted FTP server finds the client");
                }
                wait_until_read(control.get(), reader, "the client reads a byte of the reply");
            } catch (const std::exception&) {
                return;  // it stopped reading (it judged the reply already, or gave up)
            }
        }
    };
    reply(script.greeting);

    net::Fd data_listener;
    for (const FtpExchange& exchange : script.script) {
        bool closed = false;
        const std::string line = ftp_read_command(control.get(), ftp_command_timeout, &closed);
        if (closed) {
            return;  // the client went away early: what it did is in commands()
        }
        {
            const std::lock_guard lock(mutex_);
            commands_.push_back(line);
        }
        if (!ftp_matches(exchange.command, line)) {
            reply(fmt::format("500 the script expected {}\r\n", exchange.command));
            throw std::runtime_error(
                fmt::format("the scripted FTP server expected \"{}\", the client sent \"{}\"", exchange.command, line));
        }
        std::string text = exchange.reply;
        for (const std::string_view mark : {"%PORT%", "%P1,P2%"}) {
            if (const std::size_t at = text.find(mark); at != std::string::npos) {
                data_listener = net::listen_tcp("127.0.0.1", 0, 1);
                const std::uint16_t port = net::local_port(data_listener.get());
                text.replace(at, mark.size(),
                             mark == "%PORT%" ? fmt::format("{}", port) : fmt::format("{},{}", port / 256, port % 256));
            }
        }
        if (exchange.data == FtpExchange::Data::none) {
            if (text.empty()) {
                ftp_until_closed(control.get(), ftp_linger_timeout);  // no answer, ever
                return;
            }
            reply(text);
            continue;
        }
        if (!data_listener) {
            throw std::runtime_error(fmt::format("the script has a transfer for \"{}\" without EPSV or PASV before it", line));
        }
        net::Fd data = accept_within(data_listener.get());
        reply(text);
        const Deadline deadline(default_timeout);
        switch (exchange.data) {
        case FtpExchange::Data::send:
            try {
                ftp_send_within(data.get(), exchange.bytes, deadline, "the scripted FTP server sends the data");
            } catch (const std::system_error&) {
                // the client closed the data connection: the test judges what it got
            }
            data.reset();
            break;
        case FtpExchange::Data::receive: {
            std::string received;
            while (true) {
                wait_readable(data.get(), deadline, "the scripted FTP server reads an upload until the client closes");
                char buffer[65536];
                const ssize_t got = ::recv(data.get(), buffer, sizeof buffer, 0);
                if (got < 0 && errno == EINTR) {
                    continue;
                }
                if (got <= 0) {
                    break;
                }
                received.append(buffer, static_cast<std::size_t>(got));
            }
            const std::lock_guard lock(mutex_);
            uploads_.push_back(std::move(received));
            break;
        }
        case FtpExchange::Data::hold:
            ftp_send_within(data.get(), exchange.bytes, deadline, "the scripted FTP server sends the data");
            ftp_until_closed(control.get(), ftp_linger_timeout);
            return;
        case FtpExchange::Data::none:
            break;
        }
        data_listener.reset();
        if (!exchange.after.empty()) {
            reply(exchange.after);
        }
    }
    // The script is over: whatever else the client sends is recorded and refused.
    const Deadline deadline(ftp_linger_timeout);
    while (!deadline.expired()) {
        bool closed = false;
        std::string line;
        try {
            line = ftp_read_command(control.get(), deadline.remaining(), &closed);
        } catch (const Timeout&) {
            return;
        }
        if (closed) {
            return;
        }
        {
            const std::lock_guard lock(mutex_);
            commands_.push_back(line);
        }
        reply("502 not in the script\r\n");
    }
}

}  // namespace harness
