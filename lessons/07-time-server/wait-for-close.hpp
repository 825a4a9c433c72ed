#pragma once
// RFC 868's ending: the server has sent its 4 bytes, and waits for the client
// to close first. Three ways to wait, from worst to best; time-server's
// --timeout and --timeout-style pick one.
#include <chrono>

// As long as it takes: one silent client freezes a one-at-a-time server.
// Returns false if a stop signal (Ctrl-C) interrupted the wait.
bool wait_for_ever(int fd);

// SO_RCVTIMEO, Python's settimeout: each recv() gives up after `timeout`,
// but every byte that arrives starts the clock again.
void wait_with_sockopt(int fd, std::chrono::milliseconds timeout);

// One deadline for the whole wait: poll() gets only the time that is left.
void wait_with_deadline(int fd, std::chrono::milliseconds timeout);
