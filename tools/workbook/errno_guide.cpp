#include "errno_guide.hpp"

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <cstring>
#include <fstream>
#include <utility>
#include <vector>

namespace workbook {

namespace {

using Keywords = const std::string_view[];

constexpr Keywords connection_refused = {"ECONNREFUSED", "Connection refused", "connect("};
constexpr Keywords address_in_use = {"EADDRINUSE", "SO_REUSEADDR", "TIME_WAIT"};
constexpr Keywords broken_pipe = {"EPIPE", "SIGPIPE", "MSG_NOSIGNAL"};
constexpr Keywords connection_reset = {"ECONNRESET", "RST", "reset"};
constexpr Keywords udp_timeouts = {"ETIMEDOUT", "SO_RCVTIMEO", "timeout"};
constexpr Keywords time_server_timeouts = {"ETIMEDOUT", "settimeout", "timeout"};
constexpr Keywords try_again = {"EAGAIN", "EWOULDBLOCK", "non-blocking"};
constexpr Keywords interrupted = {"EINTR", "SA_RESTART", "signal"};
constexpr Keywords short_writes = {"can be short", "short write", "send_all"};
constexpr Keywords descriptors = {"EMFILE", "RLIMIT_NOFILE", "ulimit"};

constexpr ChapterPointer econnrefused_chapters[] = {
    {"book/src/02-tcp-client-server.md", "the client's connect()", connection_refused}};
constexpr ChapterPointer eaddrinuse_chapters[] = {
    {"book/src/04-server-lifecycle.md", "SO_REUSEADDR and restarting a server", address_in_use}};
constexpr ChapterPointer epipe_chapters[] = {
    {"book/src/04-server-lifecycle.md", "SIGPIPE and MSG_NOSIGNAL", broken_pipe}};
constexpr ChapterPointer econnreset_chapters[] = {
    {"book/src/04-server-lifecycle.md", "half-close and reset connections", connection_reset}};
constexpr ChapterPointer etimedout_chapters[] = {
    {"book/src/06-udp.md", "a client with timeout and retry", udp_timeouts},
    {"book/src/07-time-server.md", "per-client timeouts", time_server_timeouts}};
constexpr ChapterPointer eagain_chapters[] = {
    {"book/src/10-event-loop.md", "non-blocking sockets (lesson 10, later in the course)", try_again},
    {"book/src/11-edge-triggered-and-c10k.md", "draining until EAGAIN (lesson 11, later in the course)", try_again}};
constexpr ChapterPointer eintr_chapters[] = {
    {"book/src/03-byte-streams.md", "EINTR and short reads and writes", interrupted},
    {"book/src/03-byte-streams.md", "short writes", short_writes}};
constexpr ChapterPointer emfile_chapters[] = {
    {"book/src/11-edge-triggered-and-c10k.md", "10,000 connections and RLIMIT_NOFILE (lesson 11, later in the course)",
     descriptors},
    {"book/src/10-event-loop.md", "closing what you accept (lesson 10, later in the course)", descriptors}};

constexpr ErrnoGuide guides[] = {
    {"ECONNREFUSED", ECONNREFUSED,
     "Nothing is listening on that address and port: the peer's kernel answered your connection request "
     "(SYN) with a reset. connect() fails at once; there is no point retrying immediately.",
     "the server is not running yet or has exited; a wrong port; the server listens on ::1 while you "
     "connect to 127.0.0.1 (or the other way round); a firewall that rejects rather than drops.",
     "Start the server first and check the address and port it printed. In code, report the address you "
     "tried (\"connect 127.0.0.1:9000: Connection refused\") and close the socket on this path too.",
     econnrefused_chapters},
    {"EADDRINUSE", EADDRINUSE,
     "bind() was refused because another socket already holds that address and port - often your own "
     "previous server, whose old connections still sit in TIME_WAIT for a minute after it exited.",
     "restarting a server without SO_REUSEADDR; two servers on one port; a fixed port in a test.",
     "Set SO_REUSEADDR on the listening socket before bind(). If another process really owns the port, "
     "pick another port (or port 0 and let the kernel choose).",
     eaddrinuse_chapters},
    {"EPIPE", EPIPE,
     "You wrote to a connection whose peer has closed it. Before send() even returns EPIPE, the kernel "
     "sends your process SIGPIPE, whose default action is to end it silently.",
     "the client went away mid-reply; you kept writing after the peer's recv() returned 0.",
     "Send with MSG_NOSIGNAL (or ignore SIGPIPE once at start-up), treat EPIPE as \"this client is gone\": "
     "close its socket and carry on serving the others.",
     epipe_chapters},
    {"ECONNRESET", ECONNRESET,
     "The peer aborted the connection with a reset (RST) instead of closing it in order: anything still "
     "unread is lost. recv() or send() report it.",
     "the peer crashed or was killed; it closed with unread data in its receive buffer; SO_LINGER {1, 0}.",
     "Treat it like end of file for that client: close the socket, log it, keep the server running. "
     "It is an event on the network, not a bug in your server.",
     econnreset_chapters},
    {"ETIMEDOUT", ETIMEDOUT,
     "Something waited longer than its limit: a connect() whose SYNs got no answer, a TCP connection whose "
     "peer stopped acknowledging, or a receive timeout you set.",
     "a host that is down or firewalled (packets dropped, not refused); a lost UDP datagram you waited "
     "for; a slow client holding a connection.",
     "Decide the deadline yourself (SO_RCVTIMEO, poll() with a timeout) and decide what happens next: "
     "retry a UDP request a few times, drop an idle client.",
     etimedout_chapters},
    {"EAGAIN", EAGAIN,
     "\"Not now\": a non-blocking socket has no data to read, no room to write, or no connection to "
     "accept. Also what a blocking socket with SO_RCVTIMEO returns when the timeout expires. (EWOULDBLOCK "
     "is the same value on Linux.)",
     "reading a non-blocking socket before poll()/epoll said it was ready; draining until the kernel "
     "has nothing more (edge-triggered epoll expects exactly that).",
     "Not an error: stop, wait for readiness (poll/epoll), and try again then. Covered from lesson 10 on.",
     eagain_chapters},
    {"EINTR", EINTR,
     "A signal arrived while the call was blocked, before any data moved (had some moved, the call would "
     "have returned that short count instead). Nothing is wrong with the socket.",
     "a signal handler installed without SA_RESTART (Ctrl-C handling, timers, the workbook's interrupt "
     "storm in the tests).",
     "Retry the call (loop while errno == EINTR), unless the signal means \"stop\" - then leave the loop "
     "cleanly. Never treat EINTR as fatal; and remember send() may have sent only part of the buffer.",
     eintr_chapters},
    {"EMFILE", EMFILE,
     "This process has reached its limit of open file descriptors (every socket is one): accept(), "
     "socket() and open() fail until some are closed.",
     "leaking sockets (a path that forgets close()); thousands of clients with the default limit of 1024.",
     "Hold every descriptor in an owner that closes it (net::Fd); raise RLIMIT_NOFILE for servers that "
     "need many connections. Covered in lessons 10-11.",
     emfile_chapters},
};

std::string upper(std::string_view text) {
    std::string result(text);
    std::transform(result.begin(), result.end(), result.begin(),
                   [](unsigned char c) { return static_cast<char>(std::toupper(c)); });
    return result;
}

}  // namespace

std::span<const ErrnoGuide> errno_guides() { return guides; }

const ErrnoGuide* find_errno_guide(std::string_view wanted) {
    const std::string name = upper(wanted);
    for (const ErrnoGuide& guide : guides) {
        if (name == guide.name || "E" + name == guide.name || name == std::to_string(guide.value) ||
            name == upper(std::strerror(guide.value))) {
            return &guide;
        }
    }
    if (name == "EWOULDBLOCK") {
        return &guides[5];
    }
    return nullptr;
}

const ErrnoGuide* errno_mentioned_in(std::string_view text) {
    for (const ErrnoGuide& guide : guides) {
        if (text.find(guide.name) != std::string_view::npos || text.find(std::strerror(guide.value)) != std::string_view::npos) {
            return &guide;
        }
    }
    return nullptr;
}

std::string find_section(const std::filesystem::path& chapter, std::span<const std::string_view> keywords) {
    std::ifstream in(chapter);
    if (!in) {
        return {};
    }
    struct Line {
        std::string section;  // the heading in force
        std::string text;
        bool is_heading;
    };
    std::vector<Line> lines;
    std::string section;
    std::string text;
    bool in_code = false;
    while (std::getline(in, text)) {
        if (text.starts_with("```")) {
            in_code = !in_code;
            continue;
        }
        if (in_code) {
            continue;  // examples mention everything; the prose says where a topic is taught
        }
        const bool is_heading = text.starts_with("#");
        if (is_heading) {
            section = text.substr(std::min(text.find_first_not_of("# "), text.size()));
        }
        lines.push_back({section, upper(text), is_heading});
    }
    // A heading that names the keyword beats the first paragraph that does.
    for (const bool headings_only : {true, false}) {
        for (const std::string_view keyword : keywords) {
            const std::string wanted = upper(keyword);
            for (const Line& line : lines) {
                if ((line.is_heading || !headings_only) && !line.section.empty() &&
                    line.text.find(wanted) != std::string::npos) {
                    return line.section;
                }
            }
        }
    }
    return {};
}

}  // namespace workbook
