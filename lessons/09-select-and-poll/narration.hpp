#pragma once
// The chat server's narration, which --quiet turns off (for tools/bench).

#include <utility>

#include <fmt/core.h>

#include "net/log.hpp"

namespace chat {

struct Narration {
    bool on = true;

    // A system call and its result: "poll() = 2 ready of 5".
    template <typename... Args>
    void step(fmt::format_string<Args...> format, Args&&... args) const {
        if (on) {
            net::log::step(format, std::forward<Args>(args)...);
        }
    }
};

}  // namespace chat
