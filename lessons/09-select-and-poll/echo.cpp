// Echo, one recv() and one blocking send_all() per wake-up.
#include "echo.hpp"

#include <cerrno>
#include <cstring>
#include <string_view>
#include <sys/socket.h>
#include <system_error>

#include "net/log.hpp"
#include "net/stream.hpp"

namespace chat {

void Echo::add(net::Fd client, const net::Address& peer) {
    say_.step("echoing for {} on fd {}", net::to_string(peer), client.get());
    const int fd = client.get();
    clients_.insert_or_assign(fd, std::move(client));
}

std::vector<int> Echo::sockets() const {
    std::vector<int> fds;
    for (const auto& [fd, client] : clients_) {
        fds.push_back(fd);
    }
    return fds;
}

void Echo::readable(int fd) {
    char buffer[16384];
    const ssize_t n = ::recv(fd, buffer, sizeof buffer, 0);
    if (n < 0 && errno == EINTR) {
        return;
    }
    if (n > 0) {
        try {
            net::send_all(fd, std::string_view(buffer, static_cast<std::size_t>(n)));
            say_.step("fd {}: echoed {}", fd, net::plural(n, "byte"));
            return;
        } catch (const std::system_error& error) {
            say_.step("fd {}: {}", fd, error.what());
        }
    } else {
        say_.step("fd {}: {}", fd, n == 0 ? "recv() = 0: EOF" : std::strerror(errno));
    }
    clients_.erase(fd);  // closes it
    say_.step("close(fd {})", fd);
}

}  // namespace chat
