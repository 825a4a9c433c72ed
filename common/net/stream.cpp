#include "net/stream.hpp"

#include <cerrno>
#include <sys/socket.h>

#include "net/error.hpp"

namespace net {

void send_all(int fd, std::string_view bytes) {
    std::size_t sent = 0;
    while (sent < bytes.size()) {
        const ssize_t n = ::send(fd, bytes.data() + sent, bytes.size() - sent, MSG_NOSIGNAL);
        if (n < 0) {
            if (errno == EINTR) {
                continue;
            }
            throw_errno("send");
        }
        sent += static_cast<std::size_t>(n);
    }
}

}  // namespace net
