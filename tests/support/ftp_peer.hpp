#pragma once
// A scripted FTP server for lesson 18's tests: it accepts one control
// connection, sends the greeting, then plays its script in order — for each
// exchange it reads one command line, checks it is the one expected, and
// answers — and opens a passive data listener on 127.0.0.1 whenever a reply
// announces one: "%PORT%" in a reply becomes its port (for EPSV's
// "(|||%PORT%|)"), "%P1,P2%" the port as PASV writes it. Transfers
// send or receive on that data connection in the order a real server does:
// accept it, the reply ("150 ..."), the data, a close, then `after` ("226 ...").
// Every reply can be cut at every byte, each byte read before the next is
// sent. Every wait has a deadline; the commands it read and the bytes
// uploaded to it are recorded.
//
//     harness::FtpPeer peer({.script = {{"USER anonymous", "230 Welcome.\r\n"}}});
//     ftp::Client client("127.0.0.1", peer.port());
//     client.login();
//     peer.join();

#include <cstddef>
#include <cstdint>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

#include "harness.hpp"

namespace harness {

struct FtpExchange {
    enum class Data {
        none,     // no data connection for this command
        send,     // accept the data connection, reply, send `data`, close it, send `after`
        receive,  // accept the data connection, reply, read it to EOF, send `after`
        hold,     // accept the data connection, reply, send `data` — then neither close it nor
                  // answer again until the client closes the control connection
    };
    std::string command;   // the line the client must send (without CRLF); "X*" matches any line starting with X
    std::string reply;     // sent once the command arrived ("" = no answer at all, until the client closes)
    Data data = Data::none;
    std::string bytes = {};  // what Data::send sends
    std::string after = {};  // the reply after the transfer ("226 Transfer complete.\r\n")
};

struct FtpScript {
    std::string greeting = "220 scripted FTP server ready.\r\n";
    std::vector<FtpExchange> script;
    bool every_byte = false;  // every reply cut at every byte
};

class FtpPeer {
public:
    explicit FtpPeer(FtpScript script);
    FtpPeer(const FtpPeer&) = delete;
    FtpPeer& operator=(const FtpPeer&) = delete;

    [[nodiscard]] std::uint16_t port() const noexcept { return server_.port(); }
    // Waits for the script to end (and the client to close); re-throws what went wrong in it.
    void join(milliseconds timeout = default_timeout);
    // Every command line read so far, in order (without CRLF).
    [[nodiscard]] std::vector<std::string> commands() const;
    // The bytes each Data::receive exchange read, in order.
    [[nodiscard]] std::vector<std::string> uploads() const;

private:
    void run(int listener, const FtpScript& script);

    mutable std::mutex mutex_;
    std::vector<std::string> commands_;
    std::vector<std::string> uploads_;
    LoopbackServer server_;
};

}  // namespace harness
