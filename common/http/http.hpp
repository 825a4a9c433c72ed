#pragma once
// The HTTP/1.1 server of chapter 14, in common/ (namespace http): messages,
// the parser, the router, the server. Chapter 15 adds its hooks.
#include "http/message.hpp"
#include "http/parser.hpp"
#include "http/router.hpp"
#include "http/server.hpp"
#include "http/text.hpp"
