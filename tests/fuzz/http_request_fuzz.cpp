// libFuzzer target for common/http's request parser and its chunked decoder
// (chapters 14 and 15). Built with clang++ -fsanitize=fuzzer,address,undefined
// when clang is installed (tests/fuzz/meson.build); ./workbook test runs it for
// a few seconds over tests/fuzz/corpus/http_request/ (suite fuzz).
//
// Besides "no crash, no leak, no undefined behaviour", it checks the property
// every incremental parser must have: the bytes fed whole and the same bytes
// fed in pieces (of sizes the input chooses) give the same requests, or fail
// with the same status, and feed() never takes more than it was given.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>
#include <vector>

#include "http/parser.hpp"

namespace {

struct Result {
    std::vector<std::string> requests;  // method, target, body of each, joined
    int status = 0;                     // of the RequestError that ended it, or 0
    friend bool operator==(const Result&, const Result&) = default;
};

// Feeds `bytes` in pieces of `piece` bytes (0: all at once).
Result parse(std::string_view bytes, std::size_t piece, const http::ParserOptions& options) {
    http::RequestParser parser(options);
    Result result;
    try {
        std::size_t from = 0;
        while (from < bytes.size()) {
            const std::size_t end = piece == 0 ? bytes.size() : std::min(bytes.size(), from + piece);
            while (from < end) {
                const std::string_view chunk = bytes.substr(from, end - from);
                const std::size_t used = parser.feed(chunk);
                if (used > chunk.size() || (used < chunk.size() && !parser.done())) {
                    std::abort();  // took more than it was given, or left bytes behind mid-request
                }
                from += used;
                if (parser.done()) {
                    http::Request request = parser.take();
                    if (request.body.size() > options.limits.max_body_bytes) {
                        std::abort();
                    }
                    result.requests.push_back(request.method + ' ' + request.target + ' ' +
                                              std::to_string(request.headers.size()) + ' ' + request.body);
                }
            }
        }
    } catch (const http::RequestError& error) {
        result.status = error.status();
    }
    return result;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    if (size < 2) {
        return 0;
    }
    // The first two bytes choose how: the piece size, strict line ends, small limits.
    const std::size_t piece = 1 + data[0] % 7;
    http::ParserOptions options;
    options.strict_line_ends = (data[1] & 1) != 0;
    if ((data[1] & 2) != 0) {
        options.limits = {.max_request_line = 64, .max_header_bytes = 128, .max_fields = 4, .max_body_bytes = 64};
    }
    const std::string_view bytes(reinterpret_cast<const char*>(data + 2), size - 2);
    const Result whole = parse(bytes, 0, options);
    const Result pieces = parse(bytes, piece, options);
    if (!(whole == pieces)) {
        std::abort();  // fed in pieces, the same bytes meant something else
    }
    return 0;
}
