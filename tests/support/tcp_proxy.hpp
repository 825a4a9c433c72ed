#pragma once
// (to be written: see tests/support/tcp_proxy.cpp)
namespace harness {}
