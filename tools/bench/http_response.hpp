#pragma once
// tools/bench: reads one HTTP/1.1 response at a time off a keep-alive
// connection, from whatever pieces recv() hands over. The load counts a
// response only when its framing says it is complete (RFC 9112 §6.3: chunked,
// else Content-Length; 1xx, 204 and 304 have no body), so a server whose
// framing is wrong shows as an error, not as a fast server.

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

namespace bench {

class ResponseReader {
public:
    enum class Step { more, complete, failed };

    // Takes bytes that follow what it was given before; returns how many of
    // them belong to the response in progress (the rest, if any, came after it).
    std::size_t feed(const char* data, std::size_t size);
    [[nodiscard]] Step step() const noexcept { return step_; }
    // Ready for the next response on the same connection.
    void next();

    [[nodiscard]] int status() const noexcept { return status_; }
    [[nodiscard]] const std::string& status_line() const noexcept { return status_line_; }
    [[nodiscard]] bool close() const noexcept { return close_; }  // Connection: close
    [[nodiscard]] std::uint64_t bytes() const noexcept { return bytes_; }
    [[nodiscard]] std::uint64_t body_bytes() const noexcept { return body_bytes_; }
    [[nodiscard]] const std::string& error() const noexcept { return error_; }

private:
    enum class State { head, body, chunk_size, chunk_data, chunk_end, trailers };

    std::size_t feed_head(const char* data, std::size_t size);
    std::size_t feed_line(const char* data, std::size_t size);
    void parse_head();
    void on_line(std::string_view line);
    void fail(std::string what);
    void finish();

    State state_ = State::head;
    Step step_ = Step::more;
    std::string buffer_;  // the head, or a chunk line, until it is whole
    std::uint64_t remaining_ = 0;
    int status_ = 0;
    std::string status_line_;
    bool close_ = false;
    std::uint64_t bytes_ = 0;
    std::uint64_t body_bytes_ = 0;
    std::string error_;
};

}  // namespace bench
