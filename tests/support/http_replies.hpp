#pragma once
// A client-side reader of an HTTP server's answers that trusts nothing: it
// frames each response by its own Content-Length (none for HEAD, 1xx, 204 and
// 304), so a body that should not be there, or a smuggled second response,
// shows up as one more reply or as garbage at the start of the next, never
// hidden inside the first. For the HTTP server lessons (14, 15).
#include <string>
#include <string_view>
#include <vector>

#include "harness.hpp"

namespace harness {

struct ReplyField {
    std::string name;
    std::string value;
};

struct Reply {
    std::string status_line;  // "HTTP/1.1 200 OK"
    int status = 0;
    std::vector<ReplyField> headers;
    std::string body;

    // The first field of that name, in any case; nullptr when there is none.
    [[nodiscard]] const std::string* header(std::string_view name) const;
    // Connection: close.
    [[nodiscard]] bool closes() const;
};

// Reads the server's answers one after another from `client`: the head up to
// the empty line, then exactly Content-Length bytes.
class ReplyReader {
public:
    explicit ReplyReader(Client& client) : client_(client) {}

    // `to_head`: the request was HEAD, so no body follows whatever the head says.
    Reply next(bool to_head = false, milliseconds timeout = default_timeout);
    // Bytes received past the last response read.
    [[nodiscard]] const std::string& leftover() const noexcept { return buffer_; }

private:
    void receive(const Deadline& deadline, std::string_view what);

    Client& client_;
    std::string buffer_;
};

}  // namespace harness
