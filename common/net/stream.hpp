#pragma once
// Writing to a TCP byte stream: chapter 03 builds this by hand; later lessons use it.

#include <string_view>

namespace net {

// Sends every byte of `bytes` on the connected socket `fd`, calling send()
// again after a short count or EINTR. MSG_NOSIGNAL is passed, so a peer that
// has gone is a std::system_error ("send: Broken pipe"), never a SIGPIPE.
void send_all(int fd, std::string_view bytes);

}  // namespace net
