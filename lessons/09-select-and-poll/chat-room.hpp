#pragma once
// The chat room: what the loop remembers about each client between two
// wake-ups, and the broadcast. Protocol (one line at a time):
//   the first non-empty line is the client's nick → others get "* NICK joined"
//   every later line TEXT                         → others get "NICK: TEXT"
//   EOF, a reset or a failed send                 → others get "* NICK left"
//   a line over max_line bytes                    → "ERR line too long", closed

#include <cstddef>
#include <map>
#include <string>
#include <vector>

#include "narration.hpp"
#include "service.hpp"

namespace chat {

inline constexpr std::size_t max_line = 1024;

class ChatRoom final : public Service {
public:
    explicit ChatRoom(Narration say) : say_(say) {}

    void add(net::Fd client, const net::Address& peer) override;
    void readable(int fd) override;
    [[nodiscard]] std::vector<int> sockets() const override;

private:
    // One client between two poll() calls: the state a thread would have
    // kept in its local variables, now kept here for it.
    struct Member {
        net::Fd socket;
        std::string peer;     // "127.0.0.1:51234", for the narration
        std::string nick;     // "" until its first line: not in the room yet
        std::string pending;  // bytes after the last '\n': a line still arriving
    };

    void line(Member& member, const std::string& text);
    void broadcast(int from, const std::string& message);
    void deliver(int fd, const std::string& message);
    void leave(int fd, const std::string& why);
    void close_departed();

    Narration say_;
    std::map<int, Member> members_;  // by descriptor
    std::map<int, std::string> departed_;  // fd → why: closed only between broadcasts
};

}  // namespace chat
