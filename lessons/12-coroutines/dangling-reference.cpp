// dangling-reference — the first coroutine pitfall, caught by AddressSanitizer.
//
//     dangling-reference            a const std::string& parameter, read after the
//                                   first co_await: AddressSanitizer reports
//                                   stack-use-after-scope and the program fails
//     dangling-reference --fixed    the parameter taken by value: prints the greeting
//
// A coroutine's frame keeps its parameters, but a reference parameter is kept
// as a reference: to the caller's temporary, destroyed at the end of the
// caller's full expression, long before the first suspension ends. This file
// is always built with -fsanitize=address (lessons/12-coroutines/meson.build).
#include <chrono>
#include <string>

#include "net/args.hpp"
#include "net/awaitables.hpp"
#include "net/event_loop.hpp"
#include "net/log.hpp"
#include "net/task.hpp"

namespace {

net::Task<void> greet(net::EventLoop& loop, const std::string& name) {
    co_await net::sleep(loop, std::chrono::milliseconds(10));  // the caller's temporary is gone now
    net::log::info("hello, {}", name);
}

net::Task<void> greet_fixed(net::EventLoop& loop, std::string name) {  // a copy, kept in the frame
    co_await net::sleep(loop, std::chrono::milliseconds(10));
    net::log::info("hello, {}", name);
}

int run(const net::Args& args) {
    net::EventLoop loop;
    net::Spawned task = args.flag("--fixed")
                            ? net::spawn(greet_fixed(loop, std::string("a name too long for the small-string buffer")))
                            : net::spawn(greet(loop, std::string("a name too long for the small-string buffer")));
    // The temporary std::string died at the end of the statement above.
    while (!task.done()) {
        loop.run_once(std::chrono::milliseconds(100));
    }
    return 0;
}

}  // namespace

int main(int argc, char** argv) {
    const net::Usage usage{
        .program = "dangling-reference",
        .summary = "A coroutine that reads a reference parameter after its first co_await:\n"
                   "AddressSanitizer reports it (--fixed: taken by value).",
        .network = false,
        .options = {
            {"--fixed", "", "take the parameter by value"},
        },
    };
    return net::run_main(argc, argv, usage, run);
}
