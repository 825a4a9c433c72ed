// naive-ftp — the FTP client everyone writes first: send a command, read one
// line, call it the reply. It works until a reply has more than one line
// (FEAT, HELP, a long greeting); from then on every line it reads belongs to
// the command before, and it never notices. Chapter 18 runs it; the
// ReplyReader of exercise 18 is the fix.
#include <string>

#include <sys/socket.h>

#include <fmt/core.h>

#include "net/args.hpp"
#include "net/error.hpp"
#include "net/log.hpp"
#include "net/stream.hpp"
#include "net/tcp.hpp"

namespace {

const net::Usage usage{
    .program = "naive-ftp",
    .summary = "Log in, then FEAT, PWD and TYPE I, reading one line per reply: out of step after FEAT.",
    .default_port = 21,
    .port_help = "the server's port (default 21)",
    .options = {
        {"--user", "NAME", "log in as NAME", "anonymous"},
        {"--password", "TEXT", "and this password", "anonymous@"},
    },
};

// One line from the control connection (buffered: the rest stays in `buffer`).
std::string read_line(int fd, std::string& buffer) {
    std::size_t end = 0;
    while ((end = buffer.find("\r\n")) == std::string::npos) {
        char chunk[4096];
        const ssize_t got = ::recv(fd, chunk, sizeof chunk, 0);
        if (got < 0 && errno == EINTR) {
            continue;
        }
        net::check(got, "recv");
        if (got == 0) {
            throw std::runtime_error("the server closed the connection");
        }
        buffer.append(chunk, static_cast<std::size_t>(got));
    }
    std::string line = buffer.substr(0, end);
    buffer.erase(0, end + 2);
    return line;
}

int naive_ftp(const net::Args& args) {
    const net::Fd control = net::connect_tcp(args.host(), args.port());
    std::string buffer;
    net::log::step("greeting: {}", read_line(control.get(), buffer));
    for (const std::string& command : {"USER " + args.value("--user"), "PASS " + args.value("--password"),
                                       std::string("FEAT"), std::string("PWD"), std::string("TYPE I")}) {
        net::send_all(control.get(), command + "\r\n");
        // The bug: a reply is one line only when its fourth character is a
        // space. "211-Features:" opens a reply that ends at "211 End".
        const std::string shown = command.starts_with("PASS ") ? "PASS ****" : command;
        net::log::step("{:<16} -> {}", shown, read_line(control.get(), buffer));
    }
    return 0;
}

}  // namespace

int main(int argc, char** argv) { return net::run_main(argc, argv, usage, naive_ftp); }
