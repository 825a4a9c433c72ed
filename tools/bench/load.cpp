// load — the workbook's load generator: how many round trips a server
// answers, how fast, and what its idle connections cost.
//
//     load pingpong --port 5000 --connections 50 --size 64 --duration 2
//     load idle --port 5000 --connections 1000 --pid 12345
//     load http --port 8080 --connections 50 --path / --duration 2
//
// One thread, one epoll loop, non-blocking sockets: on a two-core machine the
// client must not be what is measured. Loopback only. Every phase has a
// deadline, so a server that stops answering costs seconds, not a hang.
// Prints a table for people and, last, one `key=value` line for scripts
// (tools/bench/compare reads it). Exit status: 0 when every connection was
// served and every byte came back as sent, 1 otherwise, 2 for a bad command line.
#include <algorithm>
#include <charconv>
#include <chrono>
#include <cmath>
#include <optional>
#include <string>
#include <sys/types.h>

#include <fmt/core.h>

#include "connections.hpp"
#include "http.hpp"
#include "idle.hpp"
#include "net/address.hpp"
#include "net/args.hpp"
#include "net/log.hpp"
#include "pingpong.hpp"

namespace {

using bench::Clock;

Clock::duration seconds_option(const net::Args& args, std::string_view name, double max) {
    const std::string text = args.value(name);
    double seconds = 0;
    const auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), seconds);
    if (text.empty() || error != std::errc{} || end != text.data() + text.size() || !(seconds >= 0) || seconds > max) {
        throw net::UsageError(fmt::format("{} must be a number of seconds between 0 and {}, got '{}'", name, max, text));
    }
    return std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(seconds));
}

std::string with_commas(double value) {
    const auto digits = fmt::format("{:.0f}", value);
    std::string text;
    for (std::size_t i = 0; i < digits.size(); ++i) {
        if (i > 0 && (digits.size() - i) % 3 == 0) {
            text += ',';
        }
        text += digits[i];
    }
    return text;
}

std::string microseconds(double us) {
    return us >= 1000 ? fmt::format("{:.2f} ms", us / 1000) : fmt::format("{:.0f} µs", us);
}

int pingpong(const net::Args& args, const net::Address& target, std::size_t connections) {
    bench::PingpongOptions options;
    options.message_size = static_cast<std::size_t>(args.integer("--size", 1, 16 << 20));
    options.warmup = seconds_option(args, "--warmup", 60);
    options.measure = seconds_option(args, "--duration", 600);
    if (options.measure == Clock::duration::zero()) {
        throw net::UsageError("--duration must be more than 0");
    }
    const auto connect_deadline = Clock::now() + seconds_option(args, "--timeout", 600);
    const auto fds = bench::connect_all(target, connections, connect_deadline);
    const bench::PingpongResult result = bench::run_pingpong(fds, options);

    const double rps = static_cast<double>(result.round_trips) / result.seconds;
    const double mbps = rps * static_cast<double>(options.message_size) / 1e6;
    const double p50 = bench::percentile_us(result.latencies_ns, 0.50);
    const double p99 = bench::percentile_us(result.latencies_ns, 0.99);
    const double max = bench::percentile_us(result.latencies_ns, 1.0);
    const bool ok = result.unanswered == 0 && result.failed == 0 && result.round_trips > 0;

    fmt::print("pingpong {}: {} × {}, {:.1f} s measured\n", net::to_string(target),
               net::plural(connections, "connection"), net::plural(options.message_size, "byte"), result.seconds);
    fmt::print("  round trips   {:>12}   {:>10}/s\n", with_commas(static_cast<double>(result.round_trips)), with_commas(rps));
    fmt::print("  payload       {:>12.2f} MB/s each way\n", mbps);
    fmt::print("  latency       p50 {}   p99 {}   max {}\n", microseconds(p50), microseconds(p99), microseconds(max));
    fmt::print("  checked       every byte of every echo: {}\n",
               result.mismatches == 0 ? "all as sent" : net::plural(result.mismatches, "wrong echo"));
    fmt::print("  unanswered    {} of {}\n", result.unanswered, net::plural(connections, "connection"));
    if (!result.first_error.empty()) {
        fmt::print("  first error   {} ({} failed)\n", result.first_error, net::plural(result.failed, "connection"));
    }
    fmt::print("mode=pingpong connections={} size={} seconds={:.3f} round_trips={} rps={:.1f} mbps={:.3f} "
               "p50_us={:.1f} p99_us={:.1f} max_us={:.1f} unanswered={} failed={} mismatches={} ok={}\n",
               connections, options.message_size, result.seconds, result.round_trips, rps, mbps, p50, p99, max,
               result.unanswered, result.failed, result.mismatches, ok ? 1 : 0);
    return ok ? 0 : 1;
}

// A request-target as RFC 9112 §3.2.1 writes it for GET: an absolute path
// (and query), no spaces or control bytes, which would break the request line.
std::string path_option(const net::Args& args) {
    std::string path = args.value("--path");
    const bool printable = std::all_of(path.begin(), path.end(), [](char c) { return c > ' ' && c < 0x7f; });
    if (!path.starts_with('/') || !printable) {
        throw net::UsageError(fmt::format("--path must start with / and hold no spaces or control bytes, got '{}'", path));
    }
    return path;
}

int http(const net::Args& args, const net::Address& target, std::size_t connections) {
    const std::string path = path_option(args);
    bench::HttpOptions options;
    options.request = bench::get_request(path, net::to_string(target));
    options.warmup = seconds_option(args, "--warmup", 60);
    options.measure = seconds_option(args, "--duration", 600);
    if (options.measure == Clock::duration::zero()) {
        throw net::UsageError("--duration must be more than 0");
    }
    const auto fds = bench::connect_all(target, connections, Clock::now() + seconds_option(args, "--timeout", 600));
    const bench::HttpResult result = bench::run_http(fds, options);

    const auto requests = static_cast<double>(result.requests);
    const double rps = requests / result.seconds;
    const double mbps = static_cast<double>(result.bytes) / result.seconds / 1e6;
    const double body = result.requests == 0 ? 0 : static_cast<double>(result.body_bytes) / requests;
    const double p50 = bench::percentile_us(result.latencies_ns, 0.50);
    const double p99 = bench::percentile_us(result.latencies_ns, 0.99);
    const double max = bench::percentile_us(result.latencies_ns, 1.0);
    const bool ok = result.unanswered == 0 && result.failed == 0 && result.non2xx == 0 && result.requests > 0;

    fmt::print("http {}: GET {} on {}, one request in flight each, {:.1f} s measured\n", net::to_string(target), path,
               net::plural(connections, "keep-alive connection"), result.seconds);
    fmt::print("  requests      {:>12}   {:>10}/s\n", with_commas(requests), with_commas(rps));
    fmt::print("  received      {:>12.2f} MB/s, {:.0f} bytes of body per response\n", mbps, body);
    fmt::print("  latency       p50 {}   p99 {}   max {}\n", microseconds(p50), microseconds(p99), microseconds(max));
    fmt::print("  status        {}\n", result.non2xx == 0 ? std::string("every response 2xx")
               : fmt::format("{} of {} not 2xx (warm-up included), the first: {}",
                             with_commas(static_cast<double>(result.non2xx)),
                             with_commas(static_cast<double>(result.all_requests)), result.first_non2xx));
    fmt::print("  unanswered    {} of {}\n", result.unanswered, net::plural(connections, "connection"));
    if (!result.first_error.empty()) {
        fmt::print("  first error   {} ({} failed)\n", result.first_error, net::plural(result.failed, "connection"));
    }
    fmt::print("mode=http connections={} path={} seconds={:.3f} requests={} rps={:.1f} mbps={:.3f} body_bytes={:.0f} "
               "p50_us={:.1f} p99_us={:.1f} max_us={:.1f} non2xx={} unanswered={} failed={} all_requests={} ok={}\n",
               connections, path, result.seconds, result.requests, rps, mbps, body, p50, p99, max, result.non2xx,
               result.unanswered, result.failed, result.all_requests, ok ? 1 : 0);
    return ok ? 0 : 1;
}

int idle(const net::Args& args, const net::Address& target, std::size_t connections) {
    std::optional<pid_t> pid;
    if (!args.value("--pid").empty()) {
        pid = static_cast<pid_t>(args.integer("--pid", 1, 1 << 22));
    }
    const auto timeout = seconds_option(args, "--timeout", 600);
    const auto hold = seconds_option(args, "--hold", 600);
    std::optional<bench::ProcessSample> before;
    if (pid) {
        before = bench::sample_process(*pid);
    }
    const std::string request = args.flag("--http") ? bench::get_request(path_option(args), net::to_string(target)) : "";
    const auto fds = bench::connect_all(target, connections, Clock::now() + timeout);
    bench::IdleResult result = bench::run_idle(fds, Clock::now() + timeout, hold, pid, request);
    result.before = before;
    const bool ok = result.answered == connections;

    fmt::print("idle {}: {} held {:.1f} s\n", net::to_string(target), net::plural(connections, "connection"),
               std::chrono::duration<double>(hold).count());
    fmt::print("  answered      {} of {}\n", result.answered, connections);
    if (!result.first_error.empty()) {
        fmt::print("  first error   {}\n", result.first_error);
    }
    std::string process_fields;
    if (result.before && result.held) {
        const auto rss_before = static_cast<double>(result.before->rss_kib);
        const auto rss_held = static_cast<double>(result.held->rss_kib);
        const double per_connection = (rss_held - rss_before) / static_cast<double>(connections);
        fmt::print("  server RSS    {:.1f} MiB before, {:.1f} MiB held: {:.1f} KiB per connection\n",
                   rss_before / 1024, rss_held / 1024, per_connection);
        fmt::print("  threads       {} before, {} held\n", result.before->threads, result.held->threads);
        process_fields = fmt::format(" rss_before_kib={} rss_held_kib={} rss_per_connection_kib={:.2f} "
                                     "threads_before={} threads_held={}",
                                     result.before->rss_kib, result.held->rss_kib, per_connection,
                                     result.before->threads, result.held->threads);
    }
    fmt::print("mode=idle connections={} answered={}{} ok={}\n", connections, result.answered, process_fields, ok ? 1 : 0);
    return ok ? 0 : 1;
}

int load(const net::Args& args) {
    if (args.port() == 0) {
        throw net::UsageError("--port is required: the port the server under test listens on");
    }
    const net::Address target = bench::loopback_target(args.host(), args.port());
    const auto connections = static_cast<std::size_t>(args.integer("--connections", 1, 100000));
    bench::raise_descriptor_limit();
    const std::string& mode = args.positional().front();
    if (mode == "pingpong") {
        return pingpong(args, target, connections);
    }
    if (mode == "idle") {
        return idle(args, target, connections);
    }
    if (mode == "http") {
        return http(args, target, connections);
    }
    throw net::UsageError(fmt::format("unknown mode '{}': pingpong, idle or http", mode));
}

}  // namespace

int main(int argc, char** argv) {
    const net::Usage usage{
        .program = "load",
        .summary = "Loads a TCP echo server (or an HTTP server) on this machine and measures it.\n"
                   "  pingpong: each connection keeps one message in flight; round trips/s,\n"
                   "            MB/s, latency percentiles; every echoed byte is checked.\n"
                   "  idle:     connections that each make one round trip (or one GET with --http),\n"
                   "            then sit idle while the server's memory and threads are read\n"
                   "            from /proc/PID.\n"
                   "  http:     each keep-alive connection keeps one GET in flight (like wrk);\n"
                   "            requests/s, latency percentiles; every response's framing is\n"
                   "            parsed and its status checked (2xx).\n"
                   "Loopback only. Last line: the results as key=value pairs.",
        .positional = "pingpong|idle|http",
        .min_positional = 1,
        .max_positional = 1,
        .port_help = "the server's port (required)",
        .options = {
            {"--connections", "N", "connections opened at once", "50"},
            {"--size", "BYTES", "pingpong: bytes per message", "64"},
            {"--duration", "SECONDS", "pingpong, http: how long to measure", "2"},
            {"--warmup", "SECONDS", "pingpong, http: round trips not counted first", "0.2"},
            {"--path", "PATH", "http: the path to GET", "/"},
            {"--pid", "PID", "idle: the server's process, sampled from /proc"},
            {"--hold", "SECONDS", "idle: how long to hold the connections", "1"},
            {"--http", "", "idle: the probe is a GET of --path, answered by a 2xx response"},
            {"--timeout", "SECONDS", "deadline to connect, and for idle's echoes", "5"},
        },
    };
    return net::run_main(argc, argv, usage, load);
}
