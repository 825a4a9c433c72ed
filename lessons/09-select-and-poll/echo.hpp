#pragma once
// Plain echo on the same loop: what tools/bench measures (lesson 02's
// protocol, but every client at once on one thread).

#include <map>
#include <vector>

#include "narration.hpp"
#include "service.hpp"

namespace chat {

class Echo final : public Service {
public:
    explicit Echo(Narration say) : say_(say) {}

    void add(net::Fd client, const net::Address& peer) override;
    void readable(int fd) override;
    [[nodiscard]] std::vector<int> sockets() const override;

private:
    Narration say_;
    std::map<int, net::Fd> clients_;
};

}  // namespace chat
