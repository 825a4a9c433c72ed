// Given, complete: ws::Room (room.hpp). One edge-triggered connection per
// client, as chapter 11 taught, speaking frames instead of requests.
#include <sys/epoll.h>
#include <sys/socket.h>

#include <cerrno>
#include <cstring>
#include <string>
#include <unordered_map>
#include <utility>

#include <fmt/core.h>

#include "room.hpp"

namespace ws {

struct Peer {
    Room::Id id = 0;
    net::Fd socket;
    FrameDecoder decoder;
    std::string output;        // frames the kernel has not taken yet
    bool closing = false;      // our close frame is queued: decode nothing more
    bool write_shut = false;   // it went, with a FIN after it: waiting for the client's
    bool gone = false;         // failed: dropped at the end of this turn
    net::EventLoop::TimerId close_timer = 0;
};

struct Room::State {
    net::EventLoop& loop;
    OnMessage on_message;
    RoomOptions options;
    std::unordered_map<Id, std::unique_ptr<Peer>> peers;
    Id next_id = 1;

    template <typename... Args>
    void say(fmt::format_string<Args...> format, Args&&... args) const {
        if (options.trace) {
            options.trace(fmt::format(format, std::forward<Args>(args)...));
        }
    }

    void join(Room& room, net::Fd socket, const std::string& already_read) {
        auto peer = std::make_unique<Peer>();
        peer->id = next_id++;
        peer->socket = std::move(socket);
        peer->decoder = FrameDecoder(options.max_message);
        Peer& p = *peer;
        peers.emplace(p.id, std::move(peer));
        say("ws#{}: joined (fd {}), {} in the room", p.id, p.socket.get(), peers.size());
        loop.watch(p.socket.get(), EPOLLIN | EPOLLOUT | EPOLLRDHUP | EPOLLET,
                   [this, &room, id = p.id](std::uint32_t) { on_ready(room, id); });
        consume(room, p, already_read);  // a client may send its first frame with the request
        finish(p);
    }

    void on_ready(Room& room, Id id) {
        const auto found = peers.find(id);
        if (found == peers.end() || found->second->gone) {
            return;
        }
        Peer& p = *found->second;
        flush(p);
        for (;;) {
            char buffer[64 * 1024];
            const ssize_t n = ::recv(p.socket.get(), buffer, sizeof buffer, 0);
            if (n > 0) {
                if (!p.closing) {
                    consume(room, p, std::string_view(buffer, static_cast<std::size_t>(n)));
                }  // else: dropped, the close handshake is under way
            } else if (n == 0) {
                return drop(p.id, p.closing ? "closed" : "the client closed without a close frame");
            } else if (errno == EINTR) {
                continue;
            } else if (errno == EAGAIN || errno == EWOULDBLOCK) {
                break;  // drained: the next bytes make a new edge
            } else {
                return drop(p.id, fmt::format("recv: {}", std::strerror(errno)));
            }
            if (p.gone) {
                return;
            }
        }
        finish(p);
    }

    // Decodes what arrived and acts on every message and control frame in it.
    void consume(Room& room, Peer& p, std::string_view bytes) {
        p.decoder.feed(bytes);
        try {
            while (!p.closing && !p.gone) {
                std::optional<Message> message = p.decoder.next();
                if (!message) {
                    break;
                }
                switch (message->opcode) {
                case Opcode::ping:
                    say("ws#{}: ping ({} bytes) -> pong", p.id, message->payload.size());
                    queue(p, encode_frame(Opcode::pong, message->payload));  // the same payload (§5.5.3)
                    break;
                case Opcode::pong: break;  // unsolicited pongs are allowed and mean nothing
                case Opcode::close:
                    // Echo the code (§5.5.1); a close without one is answered without one.
                    say("ws#{}: close {} -> echoed", p.id, message->code);
                    queue(p, message->code == close_code::no_status ? encode_frame(Opcode::close, "")
                                                                   : encode_close(message->code));
                    p.closing = true;
                    break;
                default:
                    say("ws#{}: {} message, {} bytes", p.id, message->opcode == Opcode::text ? "text" : "binary",
                        message->payload.size());
                    on_message(room, p.id, *message);
                }
            }
        } catch (const ProtocolError& error) {
            say("ws#{}: failing the connection with {}: {}", p.id, error.code(), error.what());
            queue(p, encode_close(error.code(), error.what()));
            p.closing = true;
        }
    }

    void queue(Peer& p, std::string_view frame) {
        if (p.gone) {
            return;
        }
        p.output += frame;
        flush(p);
        if (!p.gone && p.output.size() > options.output_limit) {
            fail(p, "it reads too slowly");
        }
    }

    // Sends what the kernel takes; a failure marks the peer gone.
    void flush(Peer& p) {
        std::size_t sent = 0;
        while (sent < p.output.size() && !p.gone) {
            const ssize_t n = ::send(p.socket.get(), p.output.data() + sent, p.output.size() - sent, MSG_NOSIGNAL);
            if (n >= 0) {
                sent += static_cast<std::size_t>(n);
            } else if (errno == EAGAIN || errno == EWOULDBLOCK) {
                break;  // the EPOLLOUT edge brings us back
            } else if (errno != EINTR) {
                fail(p, fmt::format("send: {}", std::strerror(errno)));
            }
        }
        p.output.erase(0, sent);
    }

    // Once our close frame is out: FIN, and wait (a while) for the client's.
    void finish(Peer& p) {
        if (p.gone || !p.closing || p.write_shut || !p.output.empty()) {
            return;
        }
        ::shutdown(p.socket.get(), SHUT_WR);
        p.write_shut = true;
        p.close_timer = loop.after(options.close_timeout, [this, id = p.id] {
            peers.at(id)->close_timer = 0;
            drop(id, "the client did not close in time");
        });
    }

    // Dropped at the end of the turn: a broadcast may be going through the peers.
    void fail(Peer& p, const std::string& why) {
        p.gone = true;
        loop.defer([this, id = p.id, why] { drop(id, why); });
    }

    void drop(Id id, std::string_view why) {
        const auto found = peers.find(id);
        if (found == peers.end()) {
            return;
        }
        loop.cancel(found->second->close_timer);
        loop.unwatch(found->second->socket.get());
        peers.erase(found);
        say("ws#{}: left ({}), {} in the room", id, why, peers.size());
    }
};

Room::Room(net::EventLoop& loop, OnMessage on_message, RoomOptions options)
    : state_(std::make_unique<State>(State{loop, std::move(on_message), std::move(options), {}, 1})) {}

Room::~Room() {
    for (auto& [id, peer] : state_->peers) {
        state_->loop.cancel(peer->close_timer);
        state_->loop.unwatch(peer->socket.get());
    }
}

http::Response Room::accept(const http::Request& request) {
    http::Response response = handshake(request);
    if (response.status == 101) {
        response.upgrade = [this](net::Fd socket, std::string already_read) {
            state_->join(*this, std::move(socket), already_read);
        };
    }
    return response;
}

void Room::send(Id to, Opcode opcode, std::string_view payload) {
    const auto found = state_->peers.find(to);
    if (found != state_->peers.end() && !found->second->closing) {
        state_->queue(*found->second, encode_frame(opcode, payload));
    }
}

void Room::broadcast(Opcode opcode, std::string_view payload) {
    const std::string frame = encode_frame(opcode, payload);  // encoded once for everyone
    for (auto& [id, peer] : state_->peers) {
        if (!peer->closing) {
            state_->queue(*peer, frame);
        }
    }
}

std::size_t Room::size() const noexcept { return state_->peers.size(); }

}  // namespace ws
