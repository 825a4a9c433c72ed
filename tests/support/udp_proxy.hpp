#pragma once
// (to be written: see tests/support/udp_proxy.cpp)
namespace harness {}
