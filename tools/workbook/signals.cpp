#include "signals.hpp"

#include <csignal>
#include <cstring>

#include <fmt/core.h>

namespace workbook {

namespace {

const char* what_it_usually_means(int signal) {
    switch (signal) {
    case SIGSEGV:
        return "invalid memory access: a dangling pointer or reference, an index past the end of a buffer, "
               "or a recv() into a buffer smaller than the length passed";
    case SIGABRT:
        return "abort(): usually std::terminate after an exception nobody caught (in a thread, or leaving a "
               "noexcept function such as a destructor), or a failed assert";
    case SIGPIPE:
        return "your code wrote to a socket after the peer had closed it, and SIGPIPE's default action ends "
               "the process; send with MSG_NOSIGNAL (see ./workbook explain EPIPE)";
    case SIGFPE: return "an arithmetic error, most often an integer division by zero";
    case SIGBUS: return "access to memory that is mapped but not backed (a truncated file mapping?)";
    case SIGILL: return "an illegal instruction: often a function that returns a value flowing off its end";
    case SIGKILL: return "killed from outside the tests (out of memory?)";
    default: return "the tests did not finish";
    }
}

}  // namespace

std::string signal_name(int signal) {
    const char* abbreviation = ::sigabbrev_np(signal);
    return abbreviation != nullptr ? fmt::format("SIG{}", abbreviation) : fmt::format("signal {}", signal);
}

std::string signal_summary(int signal) {
    const char* description = ::sigdescr_np(signal);
    return fmt::format("{} ({}): {}", signal_name(signal), description != nullptr ? description : "unknown signal",
                       what_it_usually_means(signal));
}

}  // namespace workbook
