// The parts of http::Request and http::Response that need nlohmann/json.hpp
// (chapter 14 kept them out of the learner's files for the same reason: that
// header alone takes seconds to compile).
#include <string>
#include <utility>

#include <fmt/core.h>
#include <nlohmann/json.hpp>

#include "http/message.hpp"

namespace http {

nlohmann::json Request::json() const {
    try {
        return nlohmann::json::parse(body);
    } catch (const nlohmann::json::parse_error& error) {
        throw RequestError(400, fmt::format("the body is not JSON: {}", error.what()));
    }
}

Response Response::json(const nlohmann::json& value, int status) {
    Response response;
    response.status = status;
    response.content_type = "application/json";
    response.body = value.dump();
    response.body += '\n';
    return response;
}

}  // namespace http
