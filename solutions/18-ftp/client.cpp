// Exercise 18 — the rest of the client: the control connection, login, the
// simple commands, EPSV/PASV and the helpers the transfer uses (given
// complete: the exercise is reply.cpp and transfer.cpp).
#include <algorithm>
#include <cerrno>
#include <charconv>
#include <cstdint>
#include <chrono>
#include <string>
#include <string_view>
#include <optional>
#include <system_error>
#include <utility>

#include <netdb.h>
#include <poll.h>
#include <sys/socket.h>

#include <fmt/core.h>

#include "ftp.hpp"
#include "net/address.hpp"
#include "net/error.hpp"
#include "net/log.hpp"
#include "net/stream.hpp"
#include "net/tcp.hpp"

namespace ftp {
namespace {

// Waits up to `timeout` for `fd` to be ready for `events` (poll, chapter 07).
void wait_for(int fd, short events, std::chrono::milliseconds timeout, std::string_view what) {
    pollfd waiting{fd, events, 0};
    while (true) {
        const int ready = ::poll(&waiting, 1, static_cast<int>(timeout.count()));
        if (ready == 0) {
            throw Error(fmt::format("timed out after {} ms waiting for {}", timeout.count(), what));
        }
        if (ready < 0 && errno == EINTR) {
            continue;
        }
        net::check(ready, "poll");
        return;
    }
}

// One recv after waiting for input; "" when the peer closed.
std::string recv_within(int fd, std::chrono::milliseconds timeout, std::string_view what) {
    while (true) {
        wait_for(fd, POLLIN, timeout, what);
        char buffer[16384];
        const ssize_t got = ::recv(fd, buffer, sizeof buffer, 0);
        if (got < 0 && errno == EINTR) {
            continue;
        }
        if (got < 0) {
            const int err = errno;
            throw Error(fmt::format("{}: {}", what, std::system_category().message(err)));
        }
        return std::string(buffer, static_cast<std::size_t>(got));
    }
}

std::string numeric_host(const net::Address& address) {
    char host[NI_MAXHOST];
    if (::getnameinfo(address.get(), address.length, host, sizeof host, nullptr, 0, NI_NUMERICHOST) != 0) {
        throw Error("getnameinfo: cannot write the control connection's peer as a number");
    }
    return host;
}

// A number in [min, max], the whole of `text`.
std::optional<unsigned long long> whole_number(std::string_view text, unsigned long long max) {
    unsigned long long value = 0;
    const auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), value);
    if (text.empty() || error != std::errc() || end != text.data() + text.size() || value > max) {
        return std::nullopt;
    }
    return value;
}

}  // namespace

std::string Reply::text() const {
    std::string joined;
    for (const std::string& line : lines) {
        joined += joined.empty() ? line : "\n" + line;
    }
    return joined;
}

ReplyError::ReplyError(std::string_view context, Reply reply)
    : Error(fmt::format("{}: the server answered \"{}\"", context, reply.text())), reply_(std::move(reply)) {}

std::uint16_t parse_epsv(const Reply& reply) {
    // "229 Entering Extended Passive Mode (|||40211|)": the delimiter is the
    // character after '(' (RFC 2428 §3), usually '|'.
    const std::string text = reply.text();
    const std::size_t open = text.find('(');
    if (reply.code != 229 || open == std::string::npos || open + 4 >= text.size()) {
        throw ReplyError("EPSV", reply);
    }
    const char d = text[open + 1];
    const std::size_t end = text.find(d, open + 4);
    if (text[open + 2] != d || text[open + 3] != d || end == std::string::npos) {
        throw ReplyError("EPSV (no (|||port|) in the reply)", reply);
    }
    const auto port = whole_number(std::string_view(text).substr(open + 4, end - open - 4), 65535);
    if (!port || *port == 0) {
        throw ReplyError("EPSV (no port in the reply)", reply);
    }
    return static_cast<std::uint16_t>(*port);
}

Endpoint parse_pasv(const Reply& reply) {
    // "227 Entering Passive Mode (h1,h2,h3,h4,p1,p2)." — the parentheses are
    // customary, not required (RFC 1123 §4.1.2.6): find six numbers after the code.
    const std::string text = reply.text();
    std::size_t at = text.find_first_of("0123456789", 4);
    unsigned long long numbers[6] = {};
    for (int i = 0; i < 6; ++i) {
        if (reply.code != 227 || at == std::string::npos) {
            throw ReplyError("PASV (no h1,h2,h3,h4,p1,p2 in the reply)", reply);
        }
        const std::size_t end = std::min(text.find_first_not_of("0123456789", at), text.size());
        const auto number = whole_number(std::string_view(text).substr(at, end - at), 255);
        if (!number || (i < 5 && (end >= text.size() || text[end] != ','))) {
            throw ReplyError("PASV (no h1,h2,h3,h4,p1,p2 in the reply)", reply);
        }
        numbers[i] = *number;
        at = end + 1;
    }
    return Endpoint{fmt::format("{}.{}.{}.{}", numbers[0], numbers[1], numbers[2], numbers[3]),
                    static_cast<std::uint16_t>(numbers[4] * 256 + numbers[5])};
}

std::string to_network_ascii(std::string_view text) {
    std::string wire;
    wire.reserve(text.size() + text.size() / 32);
    for (std::size_t i = 0; i < text.size(); ++i) {
        if (text[i] == '\n' && (i == 0 || text[i - 1] != '\r')) {
            wire += '\r';
        }
        wire += text[i];
    }
    return wire;
}

std::string from_network_ascii(std::string_view wire) {
    std::string text;
    text.reserve(wire.size());
    for (std::size_t i = 0; i < wire.size(); ++i) {
        if (wire[i] == '\r' && i + 1 < wire.size() && wire[i + 1] == '\n') {
            continue;
        }
        text += wire[i];
    }
    return text;
}

Client::Client(std::string_view host, std::uint16_t port, Options options)
    : options_(std::move(options)), reader_(options_.limits) {
    try {
        control_ = net::connect_tcp(host, port, options_.timeout);
    } catch (const std::system_error& error) {
        throw Error(error.what());  // "connect 127.0.0.1:2121: Connection refused"
    }
    peer_host_ = numeric_host(net::peer_address(control_.get()));
    trace(fmt::format("control * connected to {} port {}", peer_host_, port));
    welcome_ = read_reply();
    if (welcome_.code == 120) {  // "service ready in nnn minutes": the 220 follows
        welcome_ = read_reply();
    }
    if (welcome_.code != 220) {
        throw ReplyError("the greeting", welcome_);
    }
}

Client::~Client() = default;

void Client::trace(std::string_view line) const {
    if (options_.trace) {
        options_.trace(line);
    }
}

void Client::send_command(std::string_view line) {
    trace(fmt::format("control > {}", line.starts_with("PASS ") ? "PASS ****" : line));
    try {
        net::send_all(control_.get(), std::string(line) + "\r\n");
    } catch (const std::system_error& error) {
        throw Error(fmt::format("sending {}: {}", line.substr(0, line.find(' ')), error.what()));
    }
}

Reply Client::read_reply() {
    // Bytes after the last reply (two replies can come in one recv) first.
    while (true) {
        const std::size_t used = reader_.feed(pending_);
        pending_.erase(0, used);
        if (reader_.done()) {
            break;
        }
        const std::string more = recv_within(control_.get(), options_.timeout, "a reply on the control connection");
        if (more.empty()) {
            throw Error("the server closed the control connection");
        }
        pending_ += more;
    }
    Reply reply = reader_.take();
    for (const std::string& line : reply.lines) {
        trace(fmt::format("control < {}", line));
    }
    if (reply.code == 421) {  // "service not available, closing control connection": at any time
        throw ReplyError("the server is closing the connection", reply);
    }
    return reply;
}

Reply Client::command(std::string_view line) {
    send_command(line);
    return read_reply();
}

void Client::login(std::string_view user, std::string_view password) {
    Reply reply = command(fmt::format("USER {}", user));
    if (reply.code == 331 || reply.code == 332) {
        reply = command(fmt::format("PASS {}", password));
    }
    if (reply.kind() != 2) {
        throw ReplyError("login", reply);
    }
}

std::string Client::pwd() {
    // 257 "/a ""quoted"" name" is created (RFC 959 §7: a quote inside is doubled).
    const Reply reply = command("PWD");
    const std::string text = reply.text();
    const std::size_t open = text.find('"');
    if (reply.code != 257 || open == std::string::npos) {
        throw ReplyError("PWD", reply);
    }
    std::string path;
    for (std::size_t i = open + 1; i < text.size(); ++i) {
        if (text[i] == '"') {
            if (i + 1 < text.size() && text[i + 1] == '"') {
                path += '"';
                ++i;
                continue;
            }
            return path;
        }
        path += text[i];
    }
    throw ReplyError("PWD (an unterminated quoted path)", reply);
}

void Client::cwd(std::string_view path) {
    const Reply reply = command(fmt::format("CWD {}", path));
    if (reply.kind() != 2) {
        throw ReplyError(fmt::format("CWD {}", path), reply);
    }
}

std::uint64_t Client::size(std::string_view path) {
    set_type(Type::binary);  // a size in TYPE A would depend on the conversion; servers refuse it
    const Reply reply = command(fmt::format("SIZE {}", path));
    const std::string text = reply.text();
    const auto value = text.size() > 4 ? whole_number(std::string_view(text).substr(4), UINT64_MAX) : std::nullopt;
    if (reply.code != 213 || !value) {
        throw ReplyError(fmt::format("SIZE {}", path), reply);
    }
    return *value;
}

std::string Client::list(std::string_view path) {
    set_type(Type::ascii);
    return from_network_ascii(download(path.empty() ? "LIST" : fmt::format("LIST {}", path)));
}

std::vector<std::string> Client::nlst(std::string_view path) {
    set_type(Type::ascii);
    const std::string text = from_network_ascii(download(path.empty() ? "NLST" : fmt::format("NLST {}", path)));
    std::vector<std::string> names;
    for (std::size_t from = 0; from < text.size();) {
        const std::size_t end = std::min(text.find('\n', from), text.size());
        if (end > from) {
            names.emplace_back(text.substr(from, end - from));
        }
        from = end + 1;
    }
    return names;
}

void Client::quit() {
    const Reply reply = command("QUIT");
    if (reply.kind() != 2) {
        throw ReplyError("QUIT", reply);
    }
    control_.reset();
}

void Client::set_type(Type type) {
    if (type_ == type) {
        return;
    }
    const Reply reply = command(type == Type::binary ? "TYPE I" : "TYPE A");
    if (reply.kind() != 2) {
        throw ReplyError("TYPE", reply);
    }
    type_ = type;
}

Endpoint Client::passive() {
    if (!epsv_refused_) {
        const Reply reply = command("EPSV");
        if (reply.kind() == 2) {
            return Endpoint{peer_host_, parse_epsv(reply)};
        }
        if (reply.kind() != 5) {
            throw ReplyError("EPSV", reply);
        }
        epsv_refused_ = true;  // 500/502: an old server; PASV from now on
    }
    const Reply reply = command("PASV");
    const Endpoint announced = parse_pasv(reply);
    if (announced.host != peer_host_) {
        trace(fmt::format("data    * the server announced {}; connecting to {} (the control connection's peer) instead",
                          announced.host, peer_host_));
    }
    return Endpoint{peer_host_, announced.port};
}

net::Fd Client::open_data(const Endpoint& where) {
    try {
        net::Fd data = net::connect_tcp(where.host, where.port, options_.timeout);
        trace(fmt::format("data    * connected to {} port {}", where.host, where.port));
        return data;
    } catch (const std::system_error& error) {
        throw Error(fmt::format("the data connection: {}", error.what()));
    }
}

std::string Client::read_data(int data) {
    std::string bytes;
    while (true) {
        const std::string more = recv_within(data, options_.timeout, "data on the data connection");
        if (more.empty()) {
            break;
        }
        bytes += more;
    }
    trace(fmt::format("data    < {}, then the server closed it", net::plural(bytes.size(), "byte")));
    return bytes;
}

void Client::write_data(int data, std::string_view bytes) {
    std::size_t sent = 0;
    while (sent < bytes.size()) {
        wait_for(data, POLLOUT, options_.timeout, "room to send on the data connection");
        const ssize_t n = ::send(data, bytes.data() + sent, bytes.size() - sent, MSG_NOSIGNAL | MSG_DONTWAIT);
        if (n < 0 && (errno == EINTR || errno == EAGAIN || errno == EWOULDBLOCK)) {
            continue;
        }
        if (n < 0) {
            const int err = errno;
            throw Error(fmt::format("send on the data connection: {}", std::system_category().message(err)));
        }
        sent += static_cast<std::size_t>(n);
    }
    trace(fmt::format("data    > {}", net::plural(bytes.size(), "byte")));
}

}  // namespace ftp
