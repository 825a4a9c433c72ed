// ftp — what Python's ftplib does, on the lesson 18 client: one command per
// run, both connections narrated on stderr ("control >" what was sent,
// "control <" each reply line, "data" the second connection), the listing or
// the file on stdout.
//
//   ftp --port 2121 ls
//   ftp --port 2121 get big.bin copy.bin
//   ftp --port 2121 --ascii get notes.txt -
//   ftp --port 2121 put copy.bin uploaded.bin
//   ftp --port 2121 --quiet size big.bin
#include <cstdio>
#include <fstream>
#include <iterator>
#include <sstream>
#include <string>

#include <fmt/core.h>

#include "ftp.hpp"
#include "net/args.hpp"
#include "net/log.hpp"

namespace {

const net::Usage usage{
    .program = "ftp",
    .summary = "One FTP command, like ftplib: both connections narrated on stderr, the result on stdout.",
    .positional = "COMMAND [ARG...]   (ls [DIR] | nlst [DIR] | pwd | size FILE | get FILE [LOCAL|-] | put LOCAL [FILE])",
    .min_positional = 1,
    .max_positional = 3,
    .default_port = 21,
    .port_help = "the server's port (default 21)",
    .options = {
        {"--user", "NAME", "log in as NAME", "anonymous"},
        {"--password", "TEXT", "and this password", "anonymous@"},
        {"--cd", "DIR", "CWD to DIR after logging in", ""},
        {"--ascii", "", "transfer in TYPE A (text: CRLF on the wire) instead of TYPE I (binary)"},
        {"--rest", "N", "get: start at byte N (REST), to resume a download", "0"},
        {"--timeout", "MS", "give up on any wait after this long", "10000"},
        {"--quiet", "", "no narration: only the result (and errors)"},
    },
};

// The arguments a command takes: at least `min`, at most `max`.
void arguments(const net::Args& args, std::size_t min, std::size_t max) {
    const std::size_t given = args.positional().size() - 1;
    if (given < min || given > max) {
        throw net::UsageError(fmt::format("{} takes {} argument{}", args.positional()[0],
                                          min == max ? std::to_string(min) : fmt::format("{} to {}", min, max),
                                          max == 1 ? "" : "s"));
    }
}

std::string base_name(const std::string& path) { return path.substr(path.rfind('/') + 1); }

int ftp_main(const net::Args& args) {
    const std::string& command = args.positional()[0];
    const auto rest = static_cast<std::uint64_t>(args.integer("--rest", 0, 1LL << 50));
    ftp::Options options{.timeout = std::chrono::milliseconds(args.integer("--timeout", 1, 600'000))};
    if (command == "ls" || command == "nlst") {
        arguments(args, 0, 1);
    } else if (command == "pwd") {
        arguments(args, 0, 0);
    } else if (command == "size") {
        arguments(args, 1, 1);
    } else if (command == "get" || command == "put") {
        arguments(args, 1, 2);
    } else {
        throw net::UsageError(fmt::format("unknown command \"{}\" (ls, nlst, pwd, size, get, put)", command));
    }
    if (args.port() == 0) {
        throw net::UsageError("--port must be the server's port, 1 to 65535");
    }
    const bool quiet = args.flag("--quiet");
    if (!quiet) {
        options.trace = [](std::string_view line) { net::log::write_line(stderr, net::log::Style::step, line); };
    }
    const ftp::Type type = args.flag("--ascii") ? ftp::Type::ascii : ftp::Type::binary;
    const auto arg = [&](std::size_t i, const std::string& otherwise) {
        return args.positional().size() > i ? args.positional()[i] : otherwise;
    };
    std::string upload;
    if (command == "put") {  // read the local file before connecting: a typo costs no login
        std::ifstream in(arg(1, ""), std::ios::binary);
        if (!in) {
            throw net::UsageError(fmt::format("cannot read {}", arg(1, "")));
        }
        upload.assign(std::istreambuf_iterator<char>(in), {});
    }

    ftp::Client client(args.host(), args.port(), options);
    client.login(args.value("--user"), args.value("--password"));
    if (const std::string dir = args.value("--cd"); !dir.empty()) {
        client.cwd(dir);
    }
    std::string out;
    std::string note;
    if (command == "ls") {
        out = client.list(arg(1, ""));
    } else if (command == "nlst") {
        for (const std::string& name : client.nlst(arg(1, ""))) {
            out += name + "\n";
        }
    } else if (command == "pwd") {
        out = client.pwd() + "\n";
    } else if (command == "size") {
        out = fmt::format("{}\n", client.size(arg(1, "")));
    } else if (command == "get") {
        const std::string data = client.retrieve(arg(1, ""), type, rest);
        const std::string local = arg(2, base_name(arg(1, "")));
        if (local == "-") {
            out = data;
        } else {
            std::ofstream file(local, rest > 0 ? std::ios::binary | std::ios::app : std::ios::binary | std::ios::trunc);
            file.write(data.data(), static_cast<std::streamsize>(data.size()));
            if (!file.flush()) {
                throw std::runtime_error(fmt::format("cannot write {}", local));
            }
            note = fmt::format("saved {} to {}", net::plural(data.size(), "byte"), local);
        }
    } else {  // put
        client.store(arg(2, base_name(arg(1, ""))), upload, type);
        note = fmt::format("sent {}", net::plural(upload.size(), "byte"));
    }
    client.quit();
    std::fwrite(out.data(), 1, out.size(), stdout);
    std::fflush(stdout);
    if (!quiet && !note.empty()) {
        net::log::write_line(stderr, net::log::Style::good, note);
    }
    return 0;
}

}  // namespace

int main(int argc, char** argv) { return net::run_main(argc, argv, usage, ftp_main); }
