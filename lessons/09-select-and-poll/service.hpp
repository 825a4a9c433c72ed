#pragma once
// What one loop (poll-loop.cpp or select-loop.cpp) drives: the chat room or
// plain echo. The loop owns the waiting; the service owns the clients.

#include <vector>

#include "net/address.hpp"
#include "net/fd.hpp"

namespace chat {

class Service {
public:
    virtual ~Service() = default;

    // A client accept() returned; the service keeps its socket.
    virtual void add(net::Fd client, const net::Address& peer) = 0;

    // The loop saw `fd` readable, hung up or in error: recv() once (a second
    // recv could block the only thread) and act on what came.
    virtual void readable(int fd) = 0;

    // Every client socket the loop must watch.
    [[nodiscard]] virtual std::vector<int> sockets() const = 0;
};

}  // namespace chat
