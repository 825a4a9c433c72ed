#include "net/args.hpp"

#include <algorithm>
#include <charconv>
#include <system_error>

#include <fmt/core.h>

#include "net/error.hpp"
#include "net/log.hpp"

namespace net {

namespace {

const Option* find_option(const Usage& usage, std::string_view name) {
    const auto found = std::find_if(usage.options.begin(), usage.options.end(),
                                    [name](const Option& option) { return option.name == name; });
    return found == usage.options.end() ? nullptr : &*found;
}

}  // namespace

long long parse_integer(std::string_view text, long long min, long long max, std::string_view what) {
    long long value = 0;
    const auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), value);
    if (text.empty() || error != std::errc{} || end != text.data() + text.size()) {
        throw UsageError(fmt::format("{} must be a whole number, got '{}'", what, text));
    }
    if (value < min || value > max) {
        throw UsageError(fmt::format("{} must be between {} and {}, got {}", what, min, max, text));
    }
    return value;
}

Args::Args(int argc, const char* const* argv, const Usage& usage) {
    port_ = usage.default_port;
    for (const Option& option : usage.options) {
        if (!option.metavar.empty()) {
            values_.emplace(std::string(option.name), std::string(option.default_value));
        }
    }
    for (int i = 1; i < argc; ++i) {
        const std::string_view arg = argv[i];
        auto take_value = [&]() -> std::string_view {
            if (i + 1 >= argc) {
                throw UsageError(fmt::format("{} needs a value", arg));
            }
            return argv[++i];
        };
        if (arg == "--help" || arg == "-h") {
            help_ = true;
        } else if (usage.network && arg == "--host") {
            host_ = take_value();
            if (host_.empty()) {
                throw UsageError("--host must not be empty");
            }
        } else if (usage.network && arg == "--port") {
            port_ = static_cast<std::uint16_t>(parse_integer(take_value(), 0, 65535, "--port"));
        } else if (const Option* option = find_option(usage, arg); option != nullptr) {
            if (option->metavar.empty()) {
                values_[std::string(arg)] = "1";
            } else {
                values_[std::string(arg)] = std::string(take_value());
            }
        } else if (arg.size() > 1 && arg.front() == '-') {
            throw UsageError(fmt::format("unknown option {}", arg));
        } else {
            positional_.emplace_back(arg);
        }
    }
    if (help_) {
        return;
    }
    if (positional_.size() < usage.min_positional) {
        throw UsageError(fmt::format("expected {}", usage.positional));
    }
    if (positional_.size() > usage.max_positional) {
        throw UsageError(fmt::format("unexpected argument '{}'", positional_[usage.max_positional]));
    }
}

bool Args::flag(std::string_view name) const {
    const auto found = values_.find(name);
    return found != values_.end() && found->second == "1";
}

std::string Args::value(std::string_view name) const {
    const auto found = values_.find(name);
    return found == values_.end() ? std::string() : found->second;
}

long long Args::integer(std::string_view name, long long min, long long max) const {
    return parse_integer(value(name), min, max, name);
}

std::string help_text(const Usage& usage) {
    std::string text = fmt::format("usage: {} [options]{}{}\n\n{}\n\noptions:\n", usage.program,
                                   usage.positional.empty() ? "" : " ", usage.positional, usage.summary);
    if (usage.network) {
        text += "  --host HOST      address to use (default 127.0.0.1: this machine only)\n";
        if (!usage.port_help.empty()) {
            text += fmt::format("  --port PORT      {}\n", usage.port_help);
        } else {
            text += fmt::format("  --port PORT      port to use (default {})\n",
                                usage.default_port == 0 ? std::string("0: the kernel picks one")
                                                        : std::to_string(usage.default_port));
        }
    }
    for (const Option& option : usage.options) {
        const std::string left = fmt::format("{} {}", option.name, option.metavar);
        text += fmt::format("  {:<16} {}", left, option.help);
        if (!option.default_value.empty()) {
            text += fmt::format(" (default {})", option.default_value);
        }
        text += '\n';
    }
    text += "  --help           show this help\n";
    return text;
}

int run_main(int argc, const char* const* argv, const Usage& usage, const std::function<int(const Args&)>& body) {
    try {
        const Args args(argc, argv, usage);
        if (args.help_requested()) {
            fmt::print("{}", help_text(usage));
            return 0;
        }
        return body(args);
    } catch (const UsageError& error) {
        log::error("{}", error.what());
        fmt::print(stderr, "usage: {} [options]{}{}\ntry '{} --help' for more\n", usage.program,
                   usage.positional.empty() ? "" : " ", usage.positional, usage.program);
        return 2;
    } catch (const std::system_error& error) {
        log::error("{}", error.what());
        return error.code().category() == gai_category() ? 2 : 1;
    } catch (const std::exception& error) {
        log::error("{}", error.what());
        return 1;
    }
}

}  // namespace net
