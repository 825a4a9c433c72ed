#include "udp_proxy.hpp"
