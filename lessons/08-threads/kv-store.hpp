#pragma once
// The key-value store that every client of kv-server shares (chapter 08).
//
//     SET k v → OK    GET k → VALUE v | NOT_FOUND    DEL k → DELETED | NOT_FOUND
//     INCR k → VALUE n    anything else → ERR ...
//
// Many threads call execute() at once, so one mutex guards the map, held from
// a command's first read to its last write. --unlocked leaves it out so that
// you can watch INCRs get lost (chapter 08, "Lost updates").

#include <charconv>
#include <limits>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

namespace kv {

class Store {
public:
    explicit Store(bool locked = true) : locked_(locked) {}

    std::string execute(std::string_view command) {
        const std::vector<std::string_view> words = split(command);
        const std::string_view verb = words.empty() ? std::string_view{} : words[0];
        if (verb == "SET") {
            if (words.size() != 3 || words[1].empty()) {
                return "ERR usage: SET key value";
            }
            const auto lock = guard();
            values_.insert_or_assign(std::string(words[1]), std::string(words[2]));
            return "OK";
        }
        if (verb != "GET" && verb != "DEL" && verb != "INCR") {
            return "ERR unknown command";
        }
        if (words.size() != 2 || words[1].empty()) {
            return "ERR usage: " + std::string(verb) + " key";
        }
        const std::string key(words[1]);
        const auto lock = guard();  // one lock for the whole command
        if (verb == "GET") {
            const auto found = values_.find(key);
            return found == values_.end() ? "NOT_FOUND" : "VALUE " + found->second;
        }
        if (verb == "DEL") {
            return values_.erase(key) == 1 ? "DELETED" : "NOT_FOUND";
        }
        // INCR is read, add, write: without the lock, two threads can both
        // read 41 and both write 42, and one increment is lost.
        const auto found = values_.find(key);
        const std::optional<long long> old_value = found == values_.end() ? 0 : parse(found->second);
        if (!old_value || *old_value == std::numeric_limits<long long>::max()) {
            return "ERR not an integer";
        }
        std::string new_value = std::to_string(*old_value + 1);
        values_.insert_or_assign(key, new_value);
        return "VALUE " + new_value;
    }

private:
    // A lock on the store's mutex, or (--unlocked) an empty one.
    std::unique_lock<std::mutex> guard() {
        return locked_ ? std::unique_lock(mutex_) : std::unique_lock<std::mutex>();
    }

    // "SET k some value" → {"SET", "k", "some value"}: three words at most.
    static std::vector<std::string_view> split(std::string_view line) {
        std::vector<std::string_view> words;
        while (!line.empty() && words.size() < 2) {
            const auto space = line.find(' ');
            words.push_back(line.substr(0, space));
            line.remove_prefix(space == std::string_view::npos ? line.size() : space + 1);
        }
        if (!line.empty()) {
            words.push_back(line);
        }
        return words;
    }

    static std::optional<long long> parse(std::string_view text) {
        long long value = 0;
        const auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), value);
        if (error != std::errc{} || end != text.data() + text.size()) {
            return std::nullopt;
        }
        return value;
    }

    bool locked_;
    std::mutex mutex_;
    std::unordered_map<std::string, std::string> values_;
};

}  // namespace kv
