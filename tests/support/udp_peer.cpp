#include "udp_peer.hpp"

#include <cerrno>
#include <cstring>
#include <fcntl.h>
#include <poll.h>
#include <stdexcept>
#include <sys/socket.h>
#include <unistd.h>

#include <fmt/core.h>

#include "harness.hpp"
#include "net/error.hpp"

namespace harness {

net::Address udp_address(std::uint16_t port, std::string_view host) {
    return net::resolve(host, std::to_string(port), net::udp_hints(AI_NUMERICHOST | AI_NUMERICSERV)).front().address;
}

std::uint16_t closed_udp_port(std::string_view host) {
    const UdpPeer probe(host, "probe");
    return net::local_port(probe.fd());
}

UdpPeer::UdpPeer(std::string_view host, std::string name) : name_(std::move(name)) {
    const net::Address local = udp_address(0, host);
    fd_.reset(net::check(::socket(local.family(), SOCK_DGRAM | SOCK_CLOEXEC, 0), "test's UDP socket"));
    net::check(::bind(fd_.get(), local.get(), local.length), "test's bind");
    address_ = net::local_address(fd_.get());
}

void UdpPeer::send_to(const net::Address& to, std::string_view bytes) {
    transcript_ += fmt::format("  {} ({}) sent {} bytes \"{}\" to {}\n", name_, where(), bytes.size(),
                               escape(bytes, 80), net::to_string(to));
    if (::sendto(fd_.get(), bytes.data(), bytes.size(), 0, to.get(), to.length) < 0) {
        net::throw_errno(fmt::format("test's sendto {}", net::to_string(to)));
    }
}

bool UdpPeer::take(UdpDatagram& datagram) {
    static thread_local char buffer[65536];
    for (;;) {
        net::Address from;
        from.length = sizeof from.storage;
        const ssize_t n = ::recvfrom(fd_.get(), buffer, sizeof buffer, MSG_DONTWAIT | MSG_TRUNC, from.get(), &from.length);
        if (n < 0) {
            if (errno == EINTR) {
                continue;
            }
            if (errno == EAGAIN || errno == EWOULDBLOCK) {
                return false;
            }
            net::throw_errno(fmt::format("test's recvfrom on {}", where()));
        }
        datagram.size = static_cast<std::size_t>(n);
        datagram.bytes.assign(buffer, std::min(datagram.size, sizeof buffer));
        datagram.from = net::to_string(from);
        datagram.sender = from;
        transcript_ += fmt::format("  {} received {} bytes \"{}\" from {}\n", name_, datagram.size,
                                   escape(datagram.bytes, 80), datagram.from);
        return true;
    }
}

UdpDatagram UdpPeer::receive(std::chrono::milliseconds timeout, std::string_view step) {
    const Deadline deadline(timeout);
    UdpDatagram datagram;
    for (;;) {
        try {
            wait_readable(fd_.get(), deadline, step);
        } catch (const Timeout&) {
            transcript_ += fmt::format("  {} waited {} ms and received nothing\n", name_, timeout.count());
            throw;
        }
        if (take(datagram)) {
            return datagram;
        }
    }
}

std::vector<UdpDatagram> UdpPeer::drain() {
    std::vector<UdpDatagram> datagrams;
    UdpDatagram datagram;
    while (take(datagram)) {
        datagrams.push_back(datagram);
    }
    return datagrams;
}

std::string UdpPeer::transcript() const {
    return transcript_.empty() ? fmt::format("  {} ({}) sent and received nothing\n", name_, where()) : transcript_;
}

std::ostream& operator<<(std::ostream& out, const UdpPeer& peer) {
    return out << "what went over the wire:\n" << peer.transcript();
}

UdpServer::UdpServer(std::function<void(int fd)> body, std::string_view host) : socket_(host, "server") {
    clear_server_failure();
    std::packaged_task<void()> task(
        [body = std::move(body), fd = socket_.fd()] { run_recording_failure([&] { body(fd); }); });
    done_ = task.get_future();
    thread_ = std::thread(std::move(task));
}

UdpServer::UdpServer(std::function<void(UdpPeer& socket)> body, std::string_view host)
    : UdpServer([this, body = std::move(body)](int) { body(socket_); }, host) {}

void UdpServer::unblock() {
    // Linux wakes a recvfrom blocked on this socket (it returns 0), and every
    // later one returns 0 at once, so a server loop cannot block again.
    ::shutdown(socket_.fd(), SHUT_RDWR);
    if (done_.wait_for(std::chrono::seconds(3)) != std::future_status::ready) {
        thread_.detach();
        fatal_timeout("the UDP server function");
    }
    thread_.join();
    joined_ = true;
}

void UdpServer::join(std::chrono::milliseconds timeout) {
    if (joined_) {
        return;
    }
    if (done_.wait_for(timeout) != std::future_status::ready) {
        unblock();
        throw Timeout("waiting for the UDP server function to return", timeout);
    }
    thread_.join();
    joined_ = true;
    done_.get();
}

UdpServer::~UdpServer() {
    if (joined_) {
        return;
    }
    if (done_.wait_for(std::chrono::seconds(0)) == std::future_status::ready) {
        thread_.join();  // its exception, if any, was reported through the test's waits
    } else {
        unblock();
    }
}

}  // namespace harness
