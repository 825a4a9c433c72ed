#pragma once
// Exercise 18 — an FTP client, what Python's ftplib does: the reply reader
// and the passive transfer.
//
// Chapter 18 (book/src/18-ftp.md) runs lessons/18-ftp/naive-ftp against a
// real FTP server and shows two failures: a multi-line reply read as one line
// (every later answer is then the answer to the question before), and a
// transfer taken as finished before the server said 226.
//
// FTP is two connections. The control connection carries text: a command
// line from you, a numbered reply from the server. Every file and every
// directory listing travels on a second, data connection, opened for that one
// transfer and closed at its end.
//
// You write two parts:
//
//  1. ReplyReader (reply.cpp): RFC 959 §4.2's replies, fed in whatever pieces
//     recv() gave. A reply is three digits, then either a space (the reply is
//     that one line) or a hyphen (a multi-line reply: it ends at the first
//     later line that starts with the same three digits and a space):
//
//         211-Features supported:\r\n
//          EPRT\r\n
//          211 is not the end: it does not start the line\r\n
//         211 End\r\n
//
//     Lines end in CRLF; a bare LF is accepted too. The first digit says what
//     kind of reply it is: 1 preliminary (more replies follow: "150 opening
//     the data connection"), 2 done, 3 send the next command of a sequence
//     (PASS after USER, RETR after REST), 4 failed for now, 5 failed.
//
//  2. The passive transfer (transfer.cpp): download() and upload() run one
//     transfer command on a data connection in the order RFC 959 asks for,
//     and retrieve() and store() use them for files in binary (TYPE I) or
//     ASCII (TYPE A) mode.
//
// client.cpp (given complete) is the rest: the control connection, login,
// PWD, CWD, SIZE, LIST/NLST, EPSV/PASV, and the helpers your part calls.
// Then run ./workbook check 18.

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include "net/fd.hpp"

namespace ftp {

// One reply: "226 Transfer complete." or several lines.
struct Reply {
    int code = 0;                    // 226
    std::vector<std::string> lines;  // every line as it came, without its line end

    // The lines joined by '\n': "226 Transfer complete."
    [[nodiscard]] std::string text() const;
    // The first digit: 1 preliminary, 2 completed, 3 intermediate, 4 and 5 failed.
    [[nodiscard]] int kind() const noexcept { return code / 100; }
};

// Every failure of the client: a malformed reply, a timeout, a closed connection.
class Error : public std::runtime_error {
public:
    using std::runtime_error::runtime_error;
};

// The server answered, but not what the client needed (550, 421, 426 ...):
// what() names the command and quotes the reply; reply() is the reply.
class ReplyError : public Error {
public:
    ReplyError(std::string_view context, Reply reply);
    [[nodiscard]] const Reply& reply() const noexcept { return reply_; }

private:
    Reply reply_;
};

struct Limits {
    std::size_t max_line_bytes = 4096;  // a longer line is an Error
    std::size_t max_lines = 1000;       // a multi-line reply with more lines is an Error
};

// ---- part 1: the reply reader (reply.cpp, yours) -------------------------------------

class ReplyReader {
public:
    explicit ReplyReader(Limits limits = {});
    ~ReplyReader();
    ReplyReader(ReplyReader&&) noexcept;
    ReplyReader& operator=(ReplyReader&&) noexcept;

    // Takes bytes that arrived on the control connection; returns how many
    // belong to the current reply. Once the reply is complete it takes no
    // more: the rest (the next reply: "150 ...\r\n226 ...\r\n" can come in
    // one recv) is left for after take(). Throws Error on a line that does
    // not start with three digits and a space or hyphen (in the first line,
    // or the code's first digit not 1-5), a line over max_line_bytes, or
    // more than max_lines lines.
    std::size_t feed(std::string_view bytes);

    // The current reply is complete.
    [[nodiscard]] bool done() const;

    // The reply, once done() (Error otherwise). Moves it out; the reader is
    // then ready for the next reply.
    [[nodiscard]] Reply take();

private:
    struct State;
    std::unique_ptr<State> state_;
};

// ---- the client (client.cpp, given; transfer.cpp, yours) ----------------------------

// TYPE A: text, with CRLF line ends on the wire, converted at each end.
// TYPE I ("image"): the bytes exactly as they are.
enum class Type { ascii, binary };

struct Options {
    // Every wait: the connect, each reply, each stretch of a transfer with
    // no byte moving. A server that stops answering is an Error after this.
    std::chrono::milliseconds timeout{10000};
    Limits limits = {};
    // Called with each line of narration, like `ftp -v`: "control > RETR a",
    // "control < 150 Opening ...", "data    * connected to 127.0.0.1 port 40211".
    // Empty: silent.
    std::function<void(std::string_view)> trace = {};
};

// Where a passive data connection goes.
struct Endpoint {
    std::string host;
    std::uint16_t port = 0;
};

// "229 Entering Extended Passive Mode (|||40211|)" → 40211 (RFC 2428 §3).
[[nodiscard]] std::uint16_t parse_epsv(const Reply& reply);
// "227 Entering Passive Mode (127,0,0,1,157,19)." → 127.0.0.1, 157 * 256 + 19.
[[nodiscard]] Endpoint parse_pasv(const Reply& reply);

// TYPE A's conversions: to the wire, every LF becomes CRLF (a CRLF stays as it
// is); from the wire, every CRLF becomes LF.
[[nodiscard]] std::string to_network_ascii(std::string_view text);
[[nodiscard]] std::string from_network_ascii(std::string_view wire);

class Client {
public:
    // Connects the control connection and reads the greeting (220; a 120
    // "ready in a minute" first is skipped). Error when it is not a 220.
    Client(std::string_view host, std::uint16_t port, Options options = {});
    ~Client();
    Client(const Client&) = delete;
    Client& operator=(const Client&) = delete;

    [[nodiscard]] const Reply& welcome() const noexcept { return welcome_; }

    // USER, then PASS if the server asks for one (331).
    void login(std::string_view user = "anonymous", std::string_view password = "anonymous@");
    // Sends one command line and returns its reply (any code).
    Reply command(std::string_view line);
    [[nodiscard]] std::string pwd();                           // PWD: 257 "/path"
    void cwd(std::string_view path);                           // CWD: 250
    [[nodiscard]] std::uint64_t size(std::string_view path);   // TYPE I, then SIZE: 213 N
    [[nodiscard]] std::string list(std::string_view path = {});               // LIST, TYPE A, lines end in \n
    [[nodiscard]] std::vector<std::string> nlst(std::string_view path = {});  // NLST: names only
    void quit();                                               // QUIT: 221

    // Asks for a passive data connection: EPSV, or PASV when the server does
    // not know EPSV (a 5xx; the client then sticks to PASV). The host is
    // always the control connection's peer, whatever PASV's reply says: a
    // server behind NAT announces an address you cannot reach, and a hostile
    // one could point you at a third machine (chapter 18).
    Endpoint passive();
    // Sends TYPE A or TYPE I unless the server already has that type.
    void set_type(Type type);

    // ---- part 2: the transfer (transfer.cpp, yours) ----

    // Runs `command` ("RETR a.bin", "LIST /pub") on a passive data connection
    // and returns the bytes as they came over it:
    //   1. passive(), then open the data connection (open_data);
    //   2. with `rest` > 0, REST rest (350: the server will start at that
    //      byte; RFC 959 §4.1.3: REST "shall be immediately followed by" the
    //      transfer command), then send `command` on the control connection;
    //   3. read its reply: a 125 or 150 means the transfer starts. Anything
    //      else (550 no such file, 425 ...) is a ReplyError — and the data
    //      connection is not read at all: no data will come on it;
    //   4. read the data connection until the server closes it (read_data);
    //   5. read the final reply: 226 or 250 means every byte came. Anything
    //      else (426 the transfer was aborted, 451 ...) is a ReplyError, even
    //      though some bytes arrived. Without this step the 226 is still
    //      waiting on the control connection, and it becomes the "reply" to
    //      whatever command comes next.
    std::string download(std::string_view command, std::uint64_t rest = 0);
    // The same for `command` ("STOR a.bin") sending `data`: after the 125 or
    // 150, write every byte and close the data connection (the close is the
    // end of the file), then read the final reply.
    void upload(std::string_view command, std::string_view data);

    // RETR `path` in `type`: TYPE I for a file whose bytes matter (every file
    // that is not plain text) — the server's default is TYPE A (RFC 959
    // §3.1.1.1), which turns every LF into CRLF on the way. In TYPE A the
    // CRLFs that came are turned back into LFs. With `offset` > 0 the server
    // starts at that byte (REST): a resumed download.
    [[nodiscard]] std::string retrieve(std::string_view path, Type type = Type::binary, std::uint64_t offset = 0);
    // STOR `path` with `data`: TYPE I, or TYPE A with every LF sent as CRLF.
    void store(std::string_view path, std::string_view data, Type type = Type::binary);

    // ---- helpers for part 2 (client.cpp, given) ----

    // Sends one command line (CRLF added) on the control connection.
    void send_command(std::string_view line);
    // The next reply on the control connection (Error on a timeout or a close).
    [[nodiscard]] Reply read_reply();
    // A connected data socket to `where`, within the timeout.
    [[nodiscard]] net::Fd open_data(const Endpoint& where);
    // Everything the server sends on `data` until it closes it.
    [[nodiscard]] std::string read_data(int data);
    // Sends every byte of `bytes` on `data` (each wait within the timeout).
    void write_data(int data, std::string_view bytes);
    // Narration, when Options::trace is set.
    void trace(std::string_view line) const;

private:
    Options options_;
    net::Fd control_;
    std::string peer_host_;     // the control connection's peer, for the data connections
    ReplyReader reader_;
    std::string pending_;       // bytes received after the last reply
    Reply welcome_;
    std::optional<Type> type_;  // what the server has, once we said
    bool epsv_refused_ = false;
};

}  // namespace ftp
