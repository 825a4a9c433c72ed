#pragma once
// The lesson programs' command line: --host, --port, --help and a few options.

#include <cstdint>
#include <functional>
#include <map>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

namespace net {

// One extra option. With an empty `metavar` it is a flag (--verbose);
// otherwise it takes a value (--count N) and `default_value` applies.
struct Option {
    std::string_view name;
    std::string_view metavar;
    std::string_view help;
    std::string_view default_value = {};
};

struct Usage {
    std::string_view program;       // "echo-server"
    std::string_view summary;       // one line: what the program shows
    std::string_view positional{};  // e.g. "HOST SERVICE", shown in the usage line
    std::size_t min_positional = 0;
    std::size_t max_positional = 0;
    bool network = true;            // accepts --host and --port
    std::uint16_t default_port = 0; // 0: the kernel picks a free port
    std::string_view port_help{};   // a client's "--port" line, e.g. "the server's port (required)"
    std::vector<Option> options{};
};

// A bad command line: unknown option, missing or malformed value.
class UsageError : public std::runtime_error {
public:
    using std::runtime_error::runtime_error;
};

// The parsed command line. The host defaults to 127.0.0.1, never the
// any-address: a lesson server is reachable from this machine only unless
// you say --host 0.0.0.0 (or ::) yourself.
class Args {
public:
    Args(int argc, const char* const* argv, const Usage& usage);

    [[nodiscard]] const std::string& host() const noexcept { return host_; }
    [[nodiscard]] std::uint16_t port() const noexcept { return port_; }
    [[nodiscard]] bool help_requested() const noexcept { return help_; }
    [[nodiscard]] const std::vector<std::string>& positional() const noexcept { return positional_; }
    [[nodiscard]] bool flag(std::string_view name) const;
    [[nodiscard]] std::string value(std::string_view name) const;
    // The option's value as an integer in [min, max]; UsageError otherwise.
    [[nodiscard]] long long integer(std::string_view name, long long min, long long max) const;

private:
    std::string host_ = "127.0.0.1";
    std::uint16_t port_ = 0;
    bool help_ = false;
    std::vector<std::string> positional_;
    std::map<std::string, std::string, std::less<>> values_;
};

// Parses an integer in [min, max] or throws UsageError naming `what`.
[[nodiscard]] long long parse_integer(std::string_view text, long long min, long long max, std::string_view what);

// The --help text for `usage`.
[[nodiscard]] std::string help_text(const Usage& usage);

// Runs `body` with the parsed arguments and turns what escapes into an exit
// status: --help prints help (0); a UsageError or a failed name lookup prints
// the message (2); any other exception prints "error: <what>" (1).
int run_main(int argc, const char* const* argv, const Usage& usage, const std::function<int(const Args&)>& body);

}  // namespace net
