// Exercise 08, part 1 — the shared key-value store (contract: store.hpp).
#include "store.hpp"

#include <charconv>
#include <limits>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace lesson08 {
namespace {

// "SET k some value" → {"SET", "k", "some value"}: at most `parts` words, the
// last one takes the rest of the line.
std::vector<std::string_view> split(std::string_view line, std::size_t parts) {
    std::vector<std::string_view> words;
    while (!line.empty() && words.size() + 1 < parts) {
        const auto space = line.find(' ');
        words.push_back(line.substr(0, space));
        line.remove_prefix(space == std::string_view::npos ? line.size() : space + 1);
    }
    if (!line.empty()) {
        words.push_back(line);
    }
    return words;
}

std::optional<long long> parse(std::string_view text) {
    long long value = 0;
    const auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), value);
    if (error != std::errc{} || end != text.data() + text.size()) {
        return std::nullopt;
    }
    return value;
}

}  // namespace

Store::Store(std::function<void()> between_read_and_write)
    : between_read_and_write_(std::move(between_read_and_write)) {}

std::string Store::execute(std::string_view command) {
    const std::vector<std::string_view> words = split(command, 3);
    const std::string_view verb = words.empty() ? std::string_view{} : words[0];
    const auto usage = [&](std::string_view arguments) {
        return "ERR usage: " + std::string(verb) + " " + std::string(arguments);
    };

    if (verb == "SET") {
        if (words.size() != 3 || words[1].empty()) {
            return usage("key value");
        }
        const std::lock_guard lock(mutex_);
        values_.insert_or_assign(std::string(words[1]), std::string(words[2]));
        return "OK";
    }
    if (verb != "GET" && verb != "DEL" && verb != "INCR") {
        return "ERR unknown command";
    }
    if (words.size() != 2 || words[1].empty()) {
        return usage("key");
    }
    const std::string key(words[1]);

    // One lock from the first read to the last write: the whole command is
    // one step as far as every other thread can tell.
    const std::lock_guard lock(mutex_);
    if (verb == "GET") {
        const auto found = values_.find(key);
        return found == values_.end() ? "NOT_FOUND" : "VALUE " + found->second;
    }
    if (verb == "DEL") {
        return values_.erase(key) == 1 ? "DELETED" : "NOT_FOUND";
    }
    // INCR: read, add one, write back — three steps another INCR must not split.
    const auto found = values_.find(key);
    const std::optional<long long> old_value = found == values_.end() ? 0 : parse(found->second);
    if (!old_value || *old_value == std::numeric_limits<long long>::max()) {
        return "ERR not an integer";
    }
    if (between_read_and_write_) {
        between_read_and_write_();
    }
    const std::string new_value = std::to_string(*old_value + 1);
    values_.insert_or_assign(key, new_value);
    return "VALUE " + new_value;
}

}  // namespace lesson08
