// chat-server — lesson 16's browser chat: common/http's server answers GET /
// with a page (HTML and a few lines of JavaScript), and GET /chat upgrades
// to a WebSocket (exercise 16's handshake, then ws::Room with its frame
// decoder); every text message anyone sends goes to everyone in the room.
//
//     chat-server --port 8080         then open http://127.0.0.1:8080/ in two tabs,
//                                     or, in a terminal, with Python's websockets:
//     python3 -m websockets ws://127.0.0.1:8080/chat
//
// Chapter 16 walks through the handshake and the frames it prints.
#include <string>
#include <string_view>

#include "http/router.hpp"
#include "http/server.hpp"
#include "net/args.hpp"
#include "net/event_loop.hpp"
#include "net/log.hpp"
#include "net/signals.hpp"
#include "net/tcp.hpp"
#include "room.hpp"

namespace {

// The whole client: it opens ws://<this host>/chat, shows what arrives and
// sends what is typed. Plain JavaScript, no library.
constexpr std::string_view page = R"(<!doctype html>
<html lang="en">
<head><meta charset="utf-8"><title>chat-server (lesson 16)</title>
<style>body{font:16px sans-serif;max-width:40em;margin:2em auto}#log{list-style:none;padding:0}
#log li{padding:.2em 0;border-bottom:1px solid #ddd}#status{color:#666}</style></head>
<body>
<h1>Chat</h1>
<p id="status">connecting…</p>
<ul id="log"></ul>
<form id="form"><input id="text" autocomplete="off" size="40" autofocus> <button>Send</button></form>
<script>
const status = document.getElementById("status");
const log = document.getElementById("log");
const socket = new WebSocket(`ws://${location.host}/chat`);
socket.onopen = () => { status.textContent = "connected"; };
socket.onclose = (event) => { status.textContent = `closed (${event.code})`; };
socket.onmessage = (event) => {
  const item = document.createElement("li");
  item.textContent = event.data;  // text, never HTML: a message cannot inject a script
  log.appendChild(item);
};
document.getElementById("form").onsubmit = (event) => {
  event.preventDefault();
  const text = document.getElementById("text");
  if (text.value && socket.readyState === WebSocket.OPEN) { socket.send(text.value); }
  text.value = "";
};
</script>
</body>
</html>
)";

int serve(const net::Args& args) {
    net::stop_on_signals();
    const bool quiet = args.flag("--quiet");
    net::EventLoop loop;

    ws::RoomOptions room_options;
    room_options.max_message = static_cast<std::size_t>(args.integer("--max-message", 1, 16 << 20));
    if (!quiet) {
        room_options.trace = [](std::string_view line) { net::log::step("{}", line); };
    }
    ws::Room room(loop, [](ws::Room& everyone, ws::Room::Id, const ws::Message& message) {
        if (message.opcode == ws::Opcode::text) {
            everyone.broadcast(ws::Opcode::text, message.payload);
        }  // binary messages have no place in this chat: dropped
    }, room_options);

    http::Router app;
    app.get("/", [](const http::Request&) {
        http::Response response = http::Response::text(std::string(page));
        response.content_type = "text/html; charset=utf-8";
        return response;
    });
    app.get("/chat", [&room](const http::Request& request) { return room.accept(request); });

    http::ServerOptions options;
    if (!quiet) {
        options.trace = [](std::string_view line) { net::log::step("{}", line); };
    }
    net::Fd listener = net::listen_tcp(args.host(), args.port());
    const std::uint16_t port = net::local_port(listener.get());
    http::Server server(loop, std::move(listener), app, options);
    net::log::info("listening on {}:{}  (open http://{}:{}/ in two browser tabs; the WebSocket is ws://{}:{}/chat)",
                   args.host(), port, args.host(), port, args.host(), port);
    loop.run();
    net::log::info("stopped with {} in the room", net::plural(room.size(), "connection"));
    return 0;
}

}  // namespace

int main(int argc, char** argv) {
    const net::Usage usage{
        .program = "chat-server",
        .summary = "A chat room for browsers: GET / is the page, GET /chat upgrades to a WebSocket (RFC 6455),\n"
                   "and every text message anyone sends is broadcast to everyone connected. Lesson 16's\n"
                   "handshake and frame decoder on lesson 14's HTTP server. Stop it with Ctrl-C.",
        .options = {
            {"--max-message", "BYTES", "a longer message closes its sender's connection with 1009", "65536"},
            {"--quiet", "", "print no per-connection narration"},
        },
    };
    return net::run_main(argc, argv, usage, serve);
}
