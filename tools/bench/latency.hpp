#pragma once
// tools/bench: latencies kept for percentiles, shared by the ping-pong and
// HTTP loads. Header-only: a few lines each.

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <vector>

namespace bench {

// splitmix64: a fast, well-mixed sequence of 64-bit values from a seed.
inline std::uint64_t mix(std::uint64_t& state) {
    std::uint64_t z = (state += 0x9E3779B97F4A7C15ULL);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
    return z ^ (z >> 31);
}

// Keeps every latency up to a few million, then a uniform sample of them
// (reservoir sampling), so that a long run's memory stays bounded (40 MB).
class Latencies {
public:
    void record(std::uint64_t ns) {
        constexpr std::size_t kept = 5'000'000;
        ++seen_;
        if (kept_.size() < kept) {
            kept_.push_back(ns);
            return;
        }
        const std::uint64_t slot = mix(sampler_) % seen_;
        if (slot < kept) {
            kept_[slot] = ns;
        }
    }

    // The latencies kept, sorted (for percentile_us); leaves this empty.
    [[nodiscard]] std::vector<std::uint64_t> take_sorted() {
        std::sort(kept_.begin(), kept_.end());
        seen_ = 0;
        return std::move(kept_);
    }

private:
    std::vector<std::uint64_t> kept_;
    std::uint64_t seen_ = 0;
    std::uint64_t sampler_ = 1;
};

// The latency at `fraction` (0.5 = median) of `sorted`, in microseconds; 0 if empty.
[[nodiscard]] inline double percentile_us(const std::vector<std::uint64_t>& sorted, double fraction) {
    if (sorted.empty()) {
        return 0;
    }
    const auto last = static_cast<double>(sorted.size() - 1);
    const auto index = static_cast<std::size_t>(fraction * last + 0.5);
    return static_cast<double>(sorted[std::min(index, sorted.size() - 1)]) / 1000.0;
}

}  // namespace bench
