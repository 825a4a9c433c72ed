// chat-server — lesson 10's chat room as coroutines: two tasks per member.
//
//     chat-server --port 5000        then, in two or more terminals:  nc 127.0.0.1 5000
//
// The protocol is lesson 09's: the first line is your nick, every later line
// goes to everyone else. One task per member reads its lines, top to bottom,
// as asyncio would write it:
//
//     async def handle_member(reader, writer):
//         nick = (await reader.readline()).strip()
//         room.join(nick, writer)
//         while line := await asyncio.wait_for(reader.readline(), idle_timeout):
//             room.broadcast(nick, line)
//
// and a second task per member writes what the room has for it. A broadcast
// never waits: it appends to each member's outbox and wakes that member's
// writer. A member whose outbox passes --output-limit is not reading: the room
// drops it by cancelling its task, and the frames' destructors close the socket.
#include <chrono>
#include <coroutine>
#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <stdexcept>
#include <string>
#include <system_error>
#include <utility>

#include "net/address.hpp"
#include "net/args.hpp"
#include "net/awaitables.hpp"
#include "net/event_loop.hpp"
#include "net/log.hpp"
#include "net/signals.hpp"
#include "net/task.hpp"
#include "net/tcp.hpp"
#include "stream.hpp"

namespace {

using std::chrono::milliseconds;

constexpr std::size_t max_line = 1024;  // as in lessons 09 and 10
bool quiet = false;

struct Member {
    std::string peer;
    std::string nick;                         // empty until the first line
    std::string outbox;                       // lines the writer has not taken yet
    std::coroutine_handle<> writer_waiting;   // the writer task, asleep until the outbox has lines
    std::string why_leaving = "recv() = 0: EOF";
};

// `co_await NewMail{member};` resumes once the member's outbox holds bytes.
class NewMail {
public:
    explicit NewMail(Member& member) noexcept : member_(member) {}
    NewMail(const NewMail&) = delete;
    NewMail& operator=(const NewMail&) = delete;
    // Destroyed while asleep (the writer cancelled): nobody may resume it now.
    ~NewMail() {
        if (member_.writer_waiting == waiting_) {
            member_.writer_waiting = {};
        }
    }
    bool await_ready() const noexcept { return !member_.outbox.empty(); }
    void await_suspend(std::coroutine_handle<> waiting) noexcept { member_.writer_waiting = waiting_ = waiting; }
    void await_resume() const noexcept {}

private:
    Member& member_;
    std::coroutine_handle<> waiting_;
};

// `co_await NextTurn{loop};` is asyncio's `await asyncio.sleep(0)`: the task
// lets the loop finish its turn (other tasks, the writers woken meanwhile) and
// goes on after it. A read that finds bytes waiting does not suspend at all, so
// without it one member who sends fast would keep the loop to itself.
class NextTurn {
public:
    explicit NextTurn(net::EventLoop& loop) : loop_(loop) {}
    NextTurn(const NextTurn&) = delete;
    NextTurn& operator=(const NextTurn&) = delete;
    ~NextTurn() { *alive_ = false; }  // cancelled while waiting: the deferred resume must not run
    bool await_ready() const noexcept { return false; }
    void await_suspend(std::coroutine_handle<> waiting) {
        loop_.defer([alive = alive_, waiting] {
            if (*alive) {
                waiting.resume();
            }
        });
    }
    void await_resume() const noexcept {}

private:
    net::EventLoop& loop_;
    std::shared_ptr<bool> alive_ = std::make_shared<bool>(true);
};

class Room {
public:
    Room(net::EventLoop& loop, std::size_t output_limit) : loop_(loop), output_limit_(output_limit) {}

    std::uint64_t next_id() noexcept { return next_id_++; }
    void keep(std::uint64_t id, net::Spawned task) {
        std::erase_if(tasks_, [](const auto& entry) { return entry.second.done(); });  // the members who left
        tasks_[id] = std::move(task);
    }
    void join(std::uint64_t id, Member& member) { members_[id] = &member; }
    void leave(std::uint64_t id) {
        const Member& member = *members_.at(id);
        members_.erase(id);
        net::log::info("{} ({}) left: {}", member.peer, member.nick.empty() ? "no nick yet" : member.nick,
                       closing_ ? "the server is stopping" : member.why_leaving);
        if (!member.nick.empty() && !closing_) {
            broadcast(id, fmt::format("* {} left\n", member.nick));
        }
    }

    // Never waits for anyone: appends to each outbox and wakes its writer
    // later (from the loop, not from inside this task: the writer must not run
    // while we walk the members).
    void broadcast(std::uint64_t from, const std::string& line) {
        for (auto& [id, member] : members_) {
            if (id == from || member->nick.empty() || dropping_.contains(id)) {
                continue;
            }
            if (member->outbox.size() + line.size() > output_limit_) {
                member->why_leaving = fmt::format("not reading: {} unsent (--output-limit {})",
                                                  net::plural(member->outbox.size(), "byte"), output_limit_);
                drop(id);
                continue;
            }
            member->outbox += line;
            if (member->writer_waiting) {
                loop_.defer([this, id = id] { wake_writer(id); });
            }
        }
    }

    // Ctrl-C: cancel every task (their frames close their sockets), quietly.
    std::size_t close_all() {
        closing_ = true;
        std::size_t cancelled = 0;
        for (auto& [id, task] : tasks_) {
            cancelled += task.done() ? 0U : 1U;
            task.cancel();
        }
        return cancelled;
    }

private:
    void wake_writer(std::uint64_t id) {
        const auto found = members_.find(id);  // it may have left since
        if (found != members_.end() && found->second->writer_waiting) {
            std::exchange(found->second->writer_waiting, {}).resume();
        }
    }

    // Cancelling a task runs its destructors, which leave the room: not while
    // broadcast walks the members. The loop does it after this turn.
    void drop(std::uint64_t id) {
        dropping_.insert(id);
        loop_.defer([this, id] {
            dropping_.erase(id);
            const auto found = tasks_.find(id);
            if (found != tasks_.end()) {
                found->second.cancel();
                tasks_.erase(found);
            }
        });
    }

    net::EventLoop& loop_;
    std::size_t output_limit_;
    std::map<std::uint64_t, Member*> members_;
    std::map<std::uint64_t, net::Spawned> tasks_;  // each member's reading task
    std::set<std::uint64_t> dropping_;            // cancelled after this turn
    std::uint64_t next_id_ = 1;
    bool closing_ = false;
};

// asyncio's reader.readline(): the next line without its "\n" (and "\r"),
// or nothing at EOF. A line longer than max_line throws.
class LineReader {
public:
    explicit LineReader(lesson12::Stream& stream) : stream_(stream) {}

    net::Task<std::optional<std::string>> next() {
        for (;;) {
            if (const auto newline = buffered_.find('\n'); newline != std::string::npos) {
                std::string line = buffered_.substr(0, newline);
                buffered_.erase(0, newline + 1);
                if (!line.empty() && line.back() == '\r') {
                    line.pop_back();
                }
                co_return line;
            }
            if (buffered_.size() > max_line) {
                throw std::length_error(fmt::format("a line over {} bytes", max_line));
            }
            char chunk[4096];
            const std::size_t n = co_await stream_.read(chunk);
            if (n == 0) {
                co_return std::nullopt;
            }
            buffered_.append(chunk, n);
        }
    }

private:
    lesson12::Stream& stream_;
    std::string buffered_;
};

// The member's second task: whatever lands in its outbox goes out, in order.
net::Task<void> write_outbox(lesson12::Stream& stream, Member& member) {
    try {
        for (;;) {
            co_await NewMail{member};
            const std::string batch = std::exchange(member.outbox, {});
            co_await stream.write_all(batch);
        }
    } catch (const std::system_error&) {
        // EPIPE, ECONNRESET: the reading task sees the same and leaves.
    }
}

net::Task<void> handle_member(net::EventLoop& loop, Room& room, std::uint64_t id, net::Accepted client,
                              milliseconds idle) {
    lesson12::Stream stream(loop, std::move(client.connection));
    Member member;
    member.peer = net::to_string(client.peer);
    // Declared in this order so that they go in the reverse one, whether the
    // task returns or is cancelled: first the writer, then the membership,
    // then the Stream (unwatched and closed).
    struct Membership {
        Room& room;
        std::uint64_t id;
        ~Membership() { room.leave(id); }
    } const membership{room, id};
    room.join(id, member);
    net::Spawned writer = net::spawn(write_outbox(stream, member));
    struct CancelOnExit {
        net::Spawned& task;
        ~CancelOnExit() { task.cancel(); }
    } const stop_writer{writer};

    LineReader lines(stream);
    try {
        for (;;) {
            // (Not `idle > 0 ? co_await a : co_await b`: g++ 12 miscompiles a
            // co_await in a conditional expression.)
            std::optional<std::string> line;
            if (idle.count() > 0) {
                line = co_await net::timeout(loop, idle, lines.next());  // asyncio.wait_for
            } else {
                line = co_await lines.next();
            }
            if (!line) {
                co_return;  // EOF: why_leaving says so already
            }
            if (line->empty()) {
                continue;
            }
            if (!quiet) {
                net::log::step("{}: a line of {}", member.peer, net::plural(line->size(), "byte"));
            }
            if (member.nick.empty()) {
                member.nick = *line;
                net::log::good("{} joined as {}", member.peer, member.nick);
                room.broadcast(id, fmt::format("* {} joined\n", member.nick));
            } else {
                room.broadcast(id, fmt::format("{}: {}\n", member.nick, *line));
            }
            co_await NextTurn{loop};
        }
    } catch (const net::TimedOut&) {
        member.why_leaving = fmt::format("idle for {} ms", idle.count());
    } catch (const std::length_error& e) {
        member.why_leaving = e.what();
    } catch (const std::system_error& e) {
        member.why_leaving = e.what();
    }
}

net::Task<void> start_server(net::EventLoop& loop, net::AsyncListener& listener, Room& room, milliseconds idle) {
    for (;;) {
        bool out_of_descriptors = false;
        try {
            net::Accepted client = co_await listener.accept();
            const std::uint64_t id = room.next_id();
            room.keep(id, net::spawn(handle_member(loop, room, id, std::move(client), idle)));
        } catch (const std::system_error& e) {  // EMFILE: the queue keeps the clients
            net::log::warn("{}; accepting again in 100 ms", e.what());
            out_of_descriptors = true;
        }
        if (out_of_descriptors) {
            co_await net::sleep(loop, milliseconds(100));
        }
    }
}

int serve(const net::Args& args) {
    quiet = args.flag("--quiet");
    net::stop_on_signals();
    net::EventLoop loop;
    net::AsyncListener listener(loop, net::listen_tcp(args.host(), args.port()));
    net::log::info("listening on {}  (try: nc {} {})", net::to_string(net::local_address(listener.fd())), args.host(),
                   net::local_port(listener.fd()));
    Room room(loop, static_cast<std::size_t>(args.integer("--output-limit", 1, 1LL << 30)));
    net::Spawned server =
        net::spawn(start_server(loop, listener, room, milliseconds{args.integer("--idle-timeout", 0, 86'400'000)}));
    loop.run();  // until Ctrl-C
    server.cancel();
    const std::size_t cancelled = room.close_all();
    net::log::info("stopping: signal received ({} cancelled)", net::plural(cancelled, "member"));
    return 0;
}

}  // namespace

int main(int argc, char** argv) {
    const net::Usage usage{
        .program = "chat-server",
        .summary = "Lesson 10's chat room as C++20 coroutines: a reading task and a writing task\n"
                   "per member on one epoll loop. Stop it with Ctrl-C.",
        .options = {
            {"--output-limit", "BYTES", "drop a member whose unsent lines pass BYTES", "1048576"},
            {"--idle-timeout", "MS", "close a member silent this long (0: never)", "0"},
            {"--quiet", "", "print no per-call narration"},
        },
    };
    return net::run_main(argc, argv, usage, serve);
}
