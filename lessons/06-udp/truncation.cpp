// truncation — a datagram larger than the buffer is cut, and plain recv() does
// not say so. MSG_TRUNC does.
//
//     truncation                     a 2,000-byte datagram, a 1,024-byte buffer
//     truncation --size 600          one that fits
//
// Two sockets on loopback: one sends the same datagram three times, the other
// reads it the naive way, then with MSG_TRUNC as an input flag to recv() (Linux,
// recv(2)), then with recvmsg(), whose msg_flags report MSG_TRUNC (POSIX).
#include <cerrno>
#include <string>
#include <sys/socket.h>
#include <sys/uio.h>

#include "net/address.hpp"
#include "net/args.hpp"
#include "net/error.hpp"
#include "net/fd.hpp"
#include "net/log.hpp"

namespace {

void send_datagram(const net::Fd& sender, const net::Address& to, const std::string& bytes) {
    if (::sendto(sender.get(), bytes.data(), bytes.size(), 0, to.get(), to.length) < 0) {
        net::throw_errno("sendto");
    }
    net::log::step("sendto({}) = {} bytes", net::to_string(to), bytes.size());
}

int run(const net::Args& args) {
    const auto size = static_cast<std::size_t>(args.integer("--size", 0, 65'000));
    const auto capacity = static_cast<std::size_t>(args.integer("--buffer", 1, 65'536));

    const auto endpoints = net::resolve(args.host(), std::to_string(args.port()), net::udp_hints(AI_PASSIVE));
    const net::Endpoint& endpoint = endpoints.front();
    net::Fd receiver{net::check(::socket(endpoint.family, endpoint.socktype | SOCK_CLOEXEC, endpoint.protocol), "socket")};
    net::check(::bind(receiver.get(), endpoint.address.get(), endpoint.address.length), "bind");
    const net::Address to = net::local_address(receiver.get());
    net::log::info("receiver bound to {}", net::to_string(to));
    net::Fd sender{net::check(::socket(endpoint.family, endpoint.socktype | SOCK_CLOEXEC, endpoint.protocol), "socket")};

    std::string datagram(size, 'x');
    if (size > 0) {
        datagram.back() = '!';  // the last byte: see whether it arrives
    }
    std::string buffer(capacity, '\0');

    net::log::info("\n1. The naive way: recv(fd, buffer, {}, 0)", capacity);
    send_datagram(sender, to, datagram);
    const ssize_t naive = net::check(::recv(receiver.get(), buffer.data(), buffer.size(), 0), "recv");
    net::log::step("recv() = {}", naive);
    if (static_cast<std::size_t>(naive) == capacity && size > capacity) {
        net::log::warn("{} bytes arrived, and nothing says {} more were thrown away", naive, size - capacity);
    }

    net::log::info("\n2. With MSG_TRUNC: recv(fd, buffer, {}, MSG_TRUNC)", capacity);
    send_datagram(sender, to, datagram);
    // With MSG_TRUNC as an input flag, Linux returns the datagram's real length
    // (recv(2)); only `capacity` bytes of it are in the buffer.
    const ssize_t real = net::check(::recv(receiver.get(), buffer.data(), buffer.size(), MSG_TRUNC), "recv");
    net::log::step("recv(MSG_TRUNC) = {}", real);
    if (static_cast<std::size_t>(real) > capacity) {
        net::log::good("{} > {}: truncated, and now we know it ({} bytes lost)", real, capacity,
                       static_cast<std::size_t>(real) - capacity);
    } else {
        net::log::good("{} <= {}: the whole datagram fit", real, capacity);
    }

    net::log::info("\n3. The portable way: recvmsg() reports the cut in msg_flags");
    send_datagram(sender, to, datagram);
    iovec into{buffer.data(), buffer.size()};
    msghdr message{};
    message.msg_iov = &into;
    message.msg_iovlen = 1;
    // No input flag: recvmsg returns the bytes copied, and POSIX says it sets
    // MSG_TRUNC in msg_flags when the datagram was longer than the buffer.
    const ssize_t copied = net::check(::recvmsg(receiver.get(), &message, 0), "recvmsg");
    const bool cut = (message.msg_flags & MSG_TRUNC) != 0;
    net::log::step("recvmsg() = {}, msg_flags {} MSG_TRUNC", copied, cut ? "has" : "lacks");
    if (cut) {
        net::log::good("MSG_TRUNC in msg_flags: truncated (but not by how much)");
    }

    net::log::info("\n4. The lost part never comes later: the next recv() is the next datagram");
    send_datagram(sender, to, "next");
    const ssize_t next = net::check(::recv(receiver.get(), buffer.data(), buffer.size(), MSG_TRUNC), "recv");
    net::log::step("recv(MSG_TRUNC) = {}: \"{}\"", next, std::string_view(buffer.data(), static_cast<std::size_t>(next)));
    return 0;
}

}  // namespace

int main(int argc, char** argv) {
    const net::Usage usage{
        .program = "truncation",
        .summary = "Sends a datagram larger than the receiver's buffer and shows what recv()\n"
                   "returns, first without and then with MSG_TRUNC, then what recvmsg() reports.",
        .options = {{"--size", "BYTES", "the datagram's size", "2000"},
                    {"--buffer", "BYTES", "the receiver's buffer", "1024"}},
    };
    return net::run_main(argc, argv, usage, run);
}
