#include "tcp_proxy.hpp"
