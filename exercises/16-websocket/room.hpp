#pragma once
// Given, complete: ws::Room — the WebSocket connections of one endpoint, on
// the event loop, after common/http's server has handed them over (a 101
// with Response::upgrade). Your FrameDecoder reads each client's frames; the
// room answers pings with pongs, echoes a close frame's code and closes,
// fails a connection with the code of its ProtocolError, and sends or
// broadcasts text and binary messages. Chapter 16 reads it with you.
//
//     ws::Room room(loop, [](ws::Room& room, ws::Room::Id from, const ws::Message& m) {
//         room.broadcast(m.opcode, m.payload);   // a chat
//     });
//     router.add("GET", "/chat", [&](const http::Request& r) { return room.accept(r); });
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <string_view>

#include "http/message.hpp"
#include "net/event_loop.hpp"
#include "websocket.hpp"

namespace ws {

struct RoomOptions {
    std::size_t max_message = 1 << 20;  // FrameDecoder's limit: bigger is a close with 1009
    // A client this many bytes behind in reading what it was sent is dropped:
    // one that never reads must not hold the server's memory (pitfall 24).
    std::size_t output_limit = 4 << 20;
    // After the server's close frame, how long to wait for the client to close the TCP connection.
    std::chrono::milliseconds close_timeout{2000};
    std::function<void(std::string_view)> trace = {};  // each line of narration; empty: silent
};

class Room {
public:
    using Id = std::uint64_t;
    // Called on the loop's thread with every text or binary message (never control frames).
    using OnMessage = std::function<void(Room& room, Id from, const Message& message)>;

    Room(net::EventLoop& loop, OnMessage on_message, RoomOptions options = {});
    ~Room();
    Room(const Room&) = delete;
    Room& operator=(const Room&) = delete;

    // A route's handler: handshake(request), and on a 101 the upgrade that
    // brings the connection into this room. The room must outlive the server.
    [[nodiscard]] http::Response accept(const http::Request& request);
    // Queues one message for `to` (ignored when it has left or is closing).
    void send(Id to, Opcode opcode, std::string_view payload);
    // The same message to everyone in the room.
    void broadcast(Opcode opcode, std::string_view payload);
    [[nodiscard]] std::size_t size() const noexcept;  // connections open right now

private:
    struct State;
    std::unique_ptr<State> state_;
};

}  // namespace ws
