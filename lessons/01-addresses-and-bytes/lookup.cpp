// lookup — what getaddrinfo(3) answers for a host and a service.
//
//     lookup localhost http
//     lookup ::1 8080 --udp
//
// Every address the resolver returns is printed with its family, socket type
// and protocol: exactly the three arguments socket() will need, and the
// address connect() or bind() will take.
#include <netdb.h>
#include <netinet/in.h>
#include <string>
#include <sys/socket.h>

#include "net/address.hpp"
#include "net/args.hpp"
#include "net/log.hpp"

namespace {

std::string family_name(int family) {
    switch (family) {
    case AF_INET: return "AF_INET (IPv4)";
    case AF_INET6: return "AF_INET6 (IPv6)";
    default: return std::to_string(family);
    }
}

std::string socktype_name(int socktype) {
    switch (socktype) {
    case SOCK_STREAM: return "SOCK_STREAM (TCP)";
    case SOCK_DGRAM: return "SOCK_DGRAM (UDP)";
    case SOCK_RAW: return "SOCK_RAW";
    default: return std::to_string(socktype);
    }
}

int lookup(const net::Args& args) {
    const std::string host = args.positional().at(0);
    const std::string service = args.positional().size() > 1 ? args.positional()[1] : "0";

    addrinfo hints{};
    hints.ai_family = AF_UNSPEC;  // both IPv4 and IPv6
    hints.ai_socktype = args.flag("--udp") ? SOCK_DGRAM : args.flag("--tcp") ? SOCK_STREAM : 0;
    hints.ai_flags = args.flag("--numeric") ? AI_NUMERICHOST : 0;

    net::log::step("getaddrinfo(\"{}\", \"{}\", family=AF_UNSPEC, socktype={})", host, service,
                   hints.ai_socktype == 0 ? "any" : socktype_name(hints.ai_socktype));
    const auto endpoints = net::resolve(host, service, hints);
    net::log::info("{} result{}:", endpoints.size(), endpoints.size() == 1 ? "" : "s");
    for (const net::Endpoint& endpoint : endpoints) {
        net::log::info("  {:<16} {:<18} protocol {:<3} {}", family_name(endpoint.family),
                       socktype_name(endpoint.socktype), endpoint.protocol, net::to_string(endpoint.address));
    }
    return 0;
}

}  // namespace

int main(int argc, char** argv) {
    const net::Usage usage{
        .program = "lookup",
        .summary = "Resolves HOST and SERVICE with getaddrinfo and prints every address it returns.\n"
                   "HOST is a name (localhost) or an address (127.0.0.1, ::1); SERVICE a port (8080)\n"
                   "or a name from /etc/services (http). An unknown host exits with status 2.",
        .positional = "HOST [SERVICE]",
        .min_positional = 1,
        .max_positional = 2,
        .network = false,
        .options = {{"--tcp", "", "only SOCK_STREAM results"},
                    {"--udp", "", "only SOCK_DGRAM results"},
                    {"--numeric", "", "HOST must be a numeric address (AI_NUMERICHOST): no DNS query"}},
    };
    return net::run_main(argc, argv, usage, lookup);
}
