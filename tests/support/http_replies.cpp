#include "http_replies.hpp"

#include <algorithm>
#include <cctype>
#include <cstddef>
#include <stdexcept>

namespace harness {
namespace {

bool iequals(std::string_view a, std::string_view b) {
    return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
               return std::tolower(static_cast<unsigned char>(x)) == std::tolower(static_cast<unsigned char>(y));
           });
}

}  // namespace

const std::string* Reply::header(std::string_view name) const {
    for (const ReplyField& field : headers) {
        if (iequals(field.name, name)) {
            return &field.value;
        }
    }
    return nullptr;
}

bool Reply::closes() const {
    const std::string* connection = header("Connection");
    return connection != nullptr && iequals(*connection, "close");
}

Reply ReplyReader::next(bool to_head, milliseconds timeout) {
    const Deadline deadline(timeout);
    std::size_t end = 0;
    while ((end = buffer_.find("\r\n\r\n")) == std::string::npos) {
        receive(deadline, "the head of a response");
    }
    Reply reply;
    std::string_view head = std::string_view(buffer_).substr(0, end + 2);
    std::size_t line_end = head.find("\r\n");
    reply.status_line = head.substr(0, line_end);
    if (reply.status_line.size() < 12 || reply.status_line.compare(0, 9, "HTTP/1.1 ") != 0) {
        throw std::runtime_error("not a status line: \"" + escape(reply.status_line) + "\"");
    }
    reply.status = std::stoi(reply.status_line.substr(9, 3));
    head.remove_prefix(line_end + 2);
    while (!head.empty()) {
        line_end = head.find("\r\n");
        const std::string_view line = head.substr(0, line_end);
        const std::size_t colon = line.find(':');
        if (colon == std::string_view::npos) {
            throw std::runtime_error("not a field line: \"" + escape(line) + "\"");
        }
        std::string_view value = line.substr(colon + 1);
        while (!value.empty() && value.front() == ' ') {
            value.remove_prefix(1);
        }
        reply.headers.push_back({std::string(line.substr(0, colon)), std::string(value)});
        head.remove_prefix(line_end + 2);
    }
    buffer_.erase(0, end + 4);
    const std::string* length = reply.header("Content-Length");
    const bool no_body = to_head || reply.status == 304 || reply.status == 204 || reply.status < 200;
    const std::size_t body = no_body || length == nullptr ? 0 : std::stoul(*length);
    while (buffer_.size() < body) {
        receive(deadline, "the body of a response");
    }
    reply.body = buffer_.substr(0, body);
    buffer_.erase(0, body);
    return reply;
}

void ReplyReader::receive(const Deadline& deadline, std::string_view what) {
    const std::string more = client_.recv_some(std::max(deadline.remaining(), milliseconds(1)));
    if (more.empty()) {
        throw std::runtime_error("the server closed the connection before " + std::string(what) + " was complete");
    }
    buffer_ += more;
}

}  // namespace harness
