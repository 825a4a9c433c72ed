// Tests for exercise 05 — length-prefixed frames (exercises/05-framing/framing.hpp).
// The decoder is fed every way a stream can be cut (CS144's table style); then
// recv_frame reads frames over real loopback sockets, through the re-chunking
// proxy, with the test as the peer. Every wait has a deadline.
#include <doctest/doctest.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <cstdlib>
#include <new>
#include <optional>
#include <pthread.h>
#include <random>
#include <string>
#include <sys/mman.h>
#include <thread>
#include <vector>

#include <fmt/core.h>

#include "framing.hpp"
#include "harness.hpp"
#include "interrupts.hpp"
#include "net/error.hpp"
#include "printers.hpp"
#include "tcp_proxy.hpp"
#include "wire.hpp"

using namespace std::chrono_literals;

// ---- an allocation ceiling --------------------------------------------------
// This test binary replaces the global operator new: no single allocation in
// it may exceed 64 MiB (nothing here needs that much at once), and the largest
// request is recorded. A decoder that allocates the length a peer announced,
// before checking it, is caught asking for gigabytes, and gets std::bad_alloc
// at once instead of the memory.

namespace {

constexpr std::size_t allocation_ceiling = 64 << 20;
std::atomic<std::size_t> largest_request{0};

// The largest allocation requested (on any thread) since construction.
class LargestAllocation {
public:
    LargestAllocation() { largest_request = 0; }
    [[nodiscard]] std::size_t bytes() const { return largest_request.load(); }
};

}  // namespace

void* operator new(std::size_t size) {
    std::size_t largest = largest_request.load(std::memory_order_relaxed);
    while (size > largest && !largest_request.compare_exchange_weak(largest, size, std::memory_order_relaxed)) {
    }
    if (size > allocation_ceiling) {
        throw std::bad_alloc();
    }
    if (void* memory = std::malloc(size == 0 ? 1 : size)) {
        return memory;
    }
    throw std::bad_alloc();
}
void operator delete(void* memory) noexcept { std::free(memory); }
void operator delete(void* memory, std::size_t) noexcept { std::free(memory); }

namespace {

// The length header, written independently of the code under test.
std::string header(std::uint32_t length) {
    return {static_cast<char>(length >> 24), static_cast<char>(length >> 16), static_cast<char>(length >> 8),
            static_cast<char>(length)};
}

std::string frame(std::string_view payload) { return header(static_cast<std::uint32_t>(payload.size())) + std::string(payload); }

std::string show(const std::vector<std::string>& payloads) {
    std::string out;
    for (const std::string& payload : payloads) {
        out += fmt::format("{}\"{}\"", out.empty() ? "{" : ", ", harness::escape(payload, 40));
    }
    return out.empty() ? "{}" : out + "}";
}

// Feeds `wire` to a fresh decoder in the given pieces, taking every frame
// that becomes complete after each piece.
std::vector<std::string> decode(std::string_view wire, const std::vector<std::size_t>& cuts,
                                std::size_t limit = 1 << 20) {
    lesson05::FrameDecoder decoder(limit);
    std::vector<std::string> payloads;
    std::size_t at = 0;
    for (std::size_t cut : cuts) {
        cut = std::min(cut, wire.size());
        decoder.feed(wire.substr(at, cut - at));
        while (std::optional<std::string> payload = decoder.next_frame()) {
            payloads.push_back(std::move(*payload));
        }
        at = cut;
    }
    CHECK_MESSAGE(decoder.buffered() == 0, "bytes left in the decoder after whole frames: " << decoder.buffered());
    return payloads;
}

struct Case {
    const char* name;
    std::string wire;
    std::vector<std::string> payloads;
};

std::vector<Case> cases() {
    const std::string all_bytes = [] {
        std::string bytes;
        for (int i = 0; i < 256; ++i) {
            bytes += static_cast<char>(i);
        }
        return bytes;
    }();
    const std::string looks_like_a_header = header(5) + header(0);  // a payload is only bytes
    return {
        {"one frame", frame("hello"), {"hello"}},
        {"a zero-length frame", frame(""), {""}},
        {"three frames, an empty one in the middle", frame("one") + frame("") + frame("three"), {"one", "", "three"}},
        {"zero-length frames only", frame("") + frame("") + frame(""), {"", "", ""}},
        {"a payload of every byte value", frame(all_bytes), {all_bytes}},
        {"a payload that looks like headers", frame(looks_like_a_header) + frame("x"), {looks_like_a_header, "x"}},
        {"a 258-byte payload (length 00 00 01 02)", frame(std::string(258, 'b')) + frame("end"),
         {std::string(258, 'b'), "end"}},
    };
}

}  // namespace

// ---- encode_frame -----------------------------------------------------------

TEST_CASE("encode_frame writes the length as 4 big-endian bytes, then the payload") {
    CHECK(harness::escape(lesson05::encode_frame("hi")) == harness::escape(std::string("\0\0\0\x02hi", 6)));
    CHECK(harness::escape(lesson05::encode_frame("")) == harness::escape(std::string("\0\0\0\0", 4)));
    const std::string long_payload(258, 'b');
    REQUIRE(harness::escape(lesson05::encode_frame(long_payload).substr(0, 4)) ==
            harness::escape(std::string("\0\0\x01\x02", 4)));
    CHECK(lesson05::encode_frame(long_payload).substr(4) == long_payload);
    const std::string big(0x01'11'70, 'z');  // 70,000 bytes: 00 01 11 70
    CHECK(harness::escape(lesson05::encode_frame(big).substr(0, 4)) == harness::escape(std::string("\0\x01\x11\x70", 4)));
    CHECK(lesson05::encode_frame(big).size() == big.size() + 4);
}

TEST_CASE("encode_frame refuses a payload longer than 0xFFFFFFFF bytes (std::length_error)") {
    // 4 GiB + 1 of address space that reads as zeros and costs no memory.
    const std::size_t size = std::size_t{0xFFFFFFFF} + 1;
    void* pages = ::mmap(nullptr, size, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
    if (pages == MAP_FAILED) {
        MESSAGE("skipped: cannot reserve 4 GiB of address space here");
        return;
    }
    CHECK_THROWS_AS((void)lesson05::encode_frame(std::string_view(static_cast<const char*>(pages), size)),
                    std::length_error);
    ::munmap(pages, size);
}

// ---- FrameDecoder: every way to cut the stream -------------------------------

TEST_CASE("FrameDecoder: the whole stream in one feed (frames coalesced)") {
    for (const Case& test : cases()) {
        INFO(test.name << ": " << harness::escape(test.wire, 60));
        const auto payloads = decode(test.wire, {test.wire.size()});
        INFO("decoded " << show(payloads));
        REQUIRE(payloads == test.payloads);
    }
}

TEST_CASE("FrameDecoder: one byte per feed") {
    for (const Case& test : cases()) {
        INFO(test.name << ": " << harness::escape(test.wire, 60));
        std::vector<std::size_t> cuts(test.wire.size());
        for (std::size_t i = 0; i < cuts.size(); ++i) {
            cuts[i] = i + 1;
        }
        const auto payloads = decode(test.wire, cuts);
        INFO("decoded " << show(payloads));
        REQUIRE(payloads == test.payloads);
    }
}

TEST_CASE("FrameDecoder: the stream cut in two at every split point") {
    for (const Case& test : cases()) {
        for (std::size_t split = 0; split <= test.wire.size(); ++split) {
            INFO(test.name << ", cut after byte " << split << ": " << harness::escape(test.wire, 60));
            const auto payloads = decode(test.wire, {split, test.wire.size()});
            INFO("decoded " << show(payloads));
            REQUIRE(payloads == test.payloads);
        }
    }
}

TEST_CASE("FrameDecoder: 1,000 frames of 0-300 bytes in random pieces") {
    std::mt19937_64 random(harness::test_seed(51));
    std::string wire;
    std::vector<std::string> expected;
    for (int i = 0; i < 1000; ++i) {
        expected.push_back(harness::random_bytes(random() % 301, random()));
        wire += frame(expected.back());
    }
    for (int round = 0; round < 5; ++round) {
        std::vector<std::size_t> cuts;
        for (std::size_t at = 0; at < wire.size();) {
            at += 1 + random() % 600;
            cuts.push_back(at);
        }
        const auto payloads = decode(wire, cuts);
        REQUIRE(payloads.size() == expected.size());
        REQUIRE(payloads == expected);
    }
}

TEST_CASE("FrameDecoder: no frame before the header and the payload are complete") {
    lesson05::FrameDecoder decoder;
    CHECK(decoder.next_frame() == std::nullopt);
    decoder.feed(std::string("\0\0\0", 3));
    CHECK(decoder.next_frame() == std::nullopt);
    decoder.feed(std::string("\x05hel", 4));
    CHECK(decoder.next_frame() == std::nullopt);
    CHECK(decoder.buffered() == 7);
    decoder.feed("lo");
    REQUIRE(decoder.next_frame() == "hello");
    CHECK(decoder.next_frame() == std::nullopt);
    CHECK(decoder.buffered() == 0);
}

// ---- FrameDecoder: the size limit -------------------------------------------

TEST_CASE("FrameDecoder: a payload of exactly the limit is a frame; one byte more is FrameTooLarge at the header") {
    const std::string at_limit(100, 'a');
    CHECK(decode(frame(at_limit), {frame(at_limit).size()}, 100) == std::vector<std::string>{at_limit});

    lesson05::FrameDecoder decoder(100);
    decoder.feed(header(101));  // the payload has not arrived, and need not
    try {
        (void)decoder.next_frame();
        FAIL("a header announcing 101 bytes was accepted by a decoder limited to 100");
    } catch (const lesson05::FrameTooLarge& error) {
        CHECK(error.announced() == 101);
        CHECK(error.limit() == 100);
    }
}

TEST_CASE("FrameDecoder: a length of 0xFFFFFFFF with a 1 MiB limit throws FrameTooLarge without allocating it") {
    lesson05::FrameDecoder decoder(1 << 20);
    const LargestAllocation allocated;
    try {
        decoder.feed(header(0xFFFFFFFF) + "abc");
        (void)decoder.next_frame();
        FAIL("a header announcing 4 GiB - 1 bytes was accepted by a decoder limited to 1 MiB");
    } catch (const lesson05::FrameTooLarge& error) {
        CHECK(error.announced() == 0xFFFFFFFF);
        CHECK(error.limit() == 1 << 20);
    } catch (const std::bad_alloc&) {
        FAIL("the decoder asked for " << allocated.bytes()
                                       << " bytes of memory before checking the announced length against its limit");
    }
    CHECK(allocated.bytes() < 1 << 20);
}

TEST_CASE("FrameDecoder: a length of 0xFFFFFFFF under a huge limit waits for its payload (no wrap-around)") {
    lesson05::FrameDecoder decoder(std::size_t{1} << 40);
    decoder.feed(header(0xFFFFFFFF) + "abc");  // 4 + 0xFFFFFFFF wraps to 3 in 32 bits
    std::optional<std::string> payload;
    try {
        payload = decoder.next_frame();
    } catch (const std::bad_alloc&) {
        FAIL("the decoder tried to allocate room for the 4 GiB announced; memory must follow the bytes that "
             "arrived (framing.hpp)");
    }
    CHECK(payload == std::nullopt);
    CHECK(decoder.buffered() == 7);
}

TEST_CASE("FrameDecoder: memory follows the bytes that arrived, not the length announced") {
    lesson05::FrameDecoder decoder(1 << 20);
    const LargestAllocation allocated;
    decoder.feed(header(1 << 20) + "abc");  // within the limit, and only 3 bytes of it so far
    CHECK(decoder.next_frame() == std::nullopt);
    decoder.feed("def");
    CHECK(decoder.next_frame() == std::nullopt);
    INFO("the largest allocation while 6 bytes of a 1 MiB payload had arrived: " << allocated.bytes() << " bytes");
    INFO("a peer may announce 1 MiB and send nothing more, on many connections: reserve nothing for it");
    CHECK(allocated.bytes() < 64 * 1024);
}

// ---- recv_frame over a socket -----------------------------------------------

TEST_CASE("recv_frame reads 2,000 frames through a re-chunking proxy, then nullopt at the close") {
    harness::Wire wire(harness::ProxyOptions{});
    INFO(wire);
    std::mt19937_64 random(harness::test_seed(52));
    std::string stream;
    std::vector<std::string> expected;
    for (int i = 0; i < 2000; ++i) {
        expected.push_back(harness::random_bytes(random() % 1000, random()));
        stream += frame(expected.back());
    }
    std::vector<std::string> payloads;
    bool clean_end = false;
    harness::CodeUnderTest code(wire.mine(), [&] {
        lesson05::FrameDecoder decoder;
        while (std::optional<std::string> payload = lesson05::recv_frame(wire.mine(), decoder)) {
            payloads.push_back(std::move(*payload));
        }
        clean_end = true;
    });
    wire.peer().send(stream, 5s);
    wire.peer().close();
    code.join(2s, "recv_frame reading 2,000 frames, then the close");
    INFO(payloads.size() << " frames arrived");
    REQUIRE(payloads == expected);
    CHECK(clean_end);
}

TEST_CASE("recv_frame returns frames that arrived together one by one, without waiting for more") {
    harness::Wire wire;
    INFO(wire.peer());
    lesson05::FrameDecoder decoder;
    std::vector<std::string> payloads;
    wire.peer().send(frame("one") + frame("") + frame("three"));  // one send; the connection stays open
    harness::CodeUnderTest code(wire.mine(), [&] {
        for (int i = 0; i < 3; ++i) {
            payloads.push_back(lesson05::recv_frame(wire.mine(), decoder).value());
        }
    });
    code.join(1s, "recv_frame returning the 3 frames that arrived in one piece");
    INFO("recv_frame returned " << show(payloads));
    REQUIRE(payloads == std::vector<std::string>{"one", "", "three"});
}

TEST_CASE("recv_frame throws PeerClosed within 1 s when the peer closes mid-frame") {
    for (const std::string& partial : {std::string("\0\0", 2), header(100) + "ten bytes."}) {
        harness::Wire wire;
        INFO(wire.peer());
        lesson05::FrameDecoder decoder;
        harness::CodeUnderTest code(wire.mine(), [&] { (void)lesson05::recv_frame(wire.mine(), decoder); });
        wire.peer().send(partial);
        wire.peer().close();
        REQUIRE_THROWS_AS(code.join(1s, "recv_frame, after the peer closed in the middle of a frame"),
                          lesson05::PeerClosed);
    }
}

TEST_CASE("recv_frame throws FrameTooLarge at the header, without waiting for 4 GiB") {
    harness::Wire wire;
    INFO(wire.peer());
    lesson05::FrameDecoder decoder(1 << 20);
    harness::CodeUnderTest code(wire.mine(), [&] { (void)lesson05::recv_frame(wire.mine(), decoder); });
    wire.peer().send(header(0xFFFFFFFF) + "the start of a very long story");  // the connection stays open
    REQUIRE_THROWS_AS(code.join(1s, "recv_frame, after a header announcing 4 GiB"), lesson05::FrameTooLarge);
}

TEST_CASE("recv_frame keeps going after EINTR (a signal every 300 us while it waits)") {
    harness::Wire wire;
    INFO(wire.peer());
    std::vector<std::string> payloads;
    harness::CodeUnderTest code(wire.mine(), [&] {
        const harness::InterruptStorm storm(::pthread_self());
        lesson05::FrameDecoder decoder;
        while (std::optional<std::string> payload = lesson05::recv_frame(wire.mine(), decoder)) {
            payloads.push_back(std::move(*payload));
        }
    });
    const std::string stream = frame("first") + frame("second");
    wire.peer().send(stream.substr(0, 7));
    code.await_interrupts(10);  // recv_frame waits mid-frame meanwhile: signals hit the blocked recv
    wire.peer().send(stream.substr(7));
    wire.peer().close();
    code.join(1s, "recv_frame reading two frames sent with a pause, then the close");
    INFO("recv_frame returned " << show(payloads));
    REQUIRE(payloads == std::vector<std::string>{"first", "second"});
}
