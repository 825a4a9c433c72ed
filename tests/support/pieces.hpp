#pragma once
// Bytes cut into pieces, to feed a parser the way TCP may deliver them: a
// message whole, cut at one place, or one byte at a time.
#include <cstddef>
#include <string_view>
#include <vector>

namespace harness {

// `bytes` cut at the positions `cuts`, in order: every piece has at least one
// byte and together they are all of `bytes` (a position not past the one
// before it, or at or past the end, cuts nothing).
inline std::vector<std::string_view> pieces(std::string_view bytes, const std::vector<std::size_t>& cuts) {
    std::vector<std::string_view> out;
    std::size_t from = 0;
    for (const std::size_t at : cuts) {
        if (at > from && at < bytes.size()) {
            out.push_back(bytes.substr(from, at - from));
            from = at;
        }
    }
    if (from < bytes.size()) {
        out.push_back(bytes.substr(from));
    }
    return out;
}

// A cut after every byte: pieces() of one byte each.
inline std::vector<std::size_t> every_byte(std::string_view bytes) {
    std::vector<std::size_t> cuts;
    for (std::size_t at = 1; at < bytes.size(); ++at) {
        cuts.push_back(at);
    }
    return cuts;
}

}  // namespace harness
