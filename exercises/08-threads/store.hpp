#pragma once
// Exercise 08, part 1 — a key-value store that many threads share.
//
// Chapter 08 (book/src/08-threads.md) shows 8 clients × 10,000 INCR losing
// counts against a store without a lock, then the fix. Here you write the
// store; lessons/08-threads/kv-store.hpp is the narrated version. Edit
// store.cpp, then run ./workbook check 08.
//
// One command is one line, without its newline; the answer is one line too:
//
//     SET k v    → OK           (v is the rest of the line and may contain spaces)
//     GET k      → VALUE v      or  NOT_FOUND
//     DEL k      → DELETED      or  NOT_FOUND
//     INCR k     → VALUE n      (a missing key counts as 0; n is the new value)
//     anything else, a missing key or value, too many words
//                → a line starting "ERR " that says what is wrong, e.g.
//                  "ERR unknown command", "ERR usage: GET key",
//                  "ERR not an integer" (INCR on "pear", or past the range of long long)
//
// Words are separated by single spaces; a key never contains one. QUIT is the
// connection's business, not the store's (the server answers it).

#include <functional>
#include <mutex>
#include <string>
#include <string_view>
#include <unordered_map>

namespace lesson08 {

class Store {
public:
    // `between_read_and_write` runs inside every INCR, after the old value is
    // read and before the new one is written: the moment a lost update slips
    // into. The tests widen that moment to prove that a second INCR waits for
    // the first; a program leaves it empty.
    explicit Store(std::function<void()> between_read_and_write = {});

    // Executes one command and returns the answer line. Safe to call from
    // many threads at once: each command holds `mutex_` from its first read
    // of `values_` to its last write (INCR's read, the hook and the write
    // included), so no update is lost and no reader sees a half-written map.
    // Never hold the lock while doing anything slow that is not the store's.
    [[nodiscard]] std::string execute(std::string_view command);

private:
    std::function<void()> between_read_and_write_;
    std::mutex mutex_;
    std::unordered_map<std::string, std::string> values_;
};

}  // namespace lesson08
