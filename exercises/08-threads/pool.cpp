// Exercise 08, part 2 — the bounded worker pool. The contract is in pool.hpp.
// Replace the net::todo(...) with your code, then run: ./workbook check 08
#include "pool.hpp"

#include "net/error.hpp"

namespace lesson08 {

std::size_t serve_pool([[maybe_unused]] int listener, [[maybe_unused]] const Handler& handler,
                       [[maybe_unused]] const PoolOptions& options, [[maybe_unused]] const std::atomic<bool>& stop) {
    net::todo("serve_pool: start the workers, accept into a bounded queue (full: ERR busy), drain and join on stop");
}

}  // namespace lesson08
