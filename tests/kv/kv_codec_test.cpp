// The command and reply codecs: exact round trips, strictness, and garbage
// that never crashes or throws.
#include <catch2/catch.hpp>

#include "actors/kv/kv_wire.hpp"
#include "tests/kv/kv_helpers.hpp"

using namespace raft;
using namespace raft::kv;
using namespace raft::kv::test;

namespace {

reply random_reply(std::mt19937_64& rng) {
  std::uniform_int_distribution<int> why(0, 10);
  std::uniform_int_distribution<int> coin(0, 1);
  reply r = failure(static_cast<reason>(why(rng)));
  r.found = coin(rng) == 1;
  r.ok = coin(rng) == 1;
  r.value = random_string(rng, coin(rng) ? 2 : 200, false);
  return r;
}

} // namespace

TEST_CASE("kv codec: a put encodes in a handful of bytes", "[kv][codec]") {
  auto bytes = encode(as(7, 3, put("x", "0")));
  // version, head, client 7, seq 3, "x", "0"
  CHECK(bytes == std::string{"\x01\x11\x07\x03\x01x\x01" "0", 8});
  CHECK(encode(reply{}) == std::string{"\x01\x00\x00\x00", 4});
  auto big = as(UINT64_MAX, UINT64_MAX, cas("k", "e", "v"));
  CHECK(encode(big).size() == 2 + 10 + 10 + 2 + 2 + 2);
}

TEST_CASE("kv codec: an open is op 5 with no session and no key",
          "[kv][codec][session]") {
  auto bytes = encode(open_command());
  // version, head (op 5), client 0, seq 0, key ""
  CHECK(bytes == std::string{"\x01\x05\x00\x00\x00", 5});
  auto back = decode_command(bytes);
  REQUIRE(back);
  CHECK(back->kind == op::open);
  CHECK(*back == open_command());
  CHECK(to_string(*back).rfind("open c=0 s=0 k=", 0) == 0);
  // Its reply carries the session id as decimal digits.
  reply r;
  r.ok = true;
  r.value = "42";
  CHECK(session_id_of(r) == 42);
  CHECK(session_id_of(*decode_reply(encode(r))) == 42);
  r.value = "18446744073709551615";
  CHECK(session_id_of(r) == UINT64_MAX);
  for (std::string v : {"", "0", "042", "4x", "18446744073709551616",
                        "-1", "123456789012345678901"}) {
    r.value = v;
    CHECK(session_id_of(r) == 0);
  }
  r.value = "42";
  r.ok = false;
  CHECK(session_id_of(r) == 0);
  CHECK(session_id_of(failure(reason::bad_session)) == 0);
}

TEST_CASE("kv codec: commands and replies round trip exactly",
          "[kv][codec]") {
  for (auto seed : seeds()) {
    INFO(replay(seed));
    std::mt19937_64 rng{seed};
    for (int i = 0; i < 2000; ++i) {
      auto c = random_command(rng);
      auto bytes = encode(c);
      auto back = decode_command(bytes);
      REQUIRE(back);
      REQUIRE(*back == c);
      auto r = random_reply(rng);
      auto rb = decode_reply(encode(r));
      REQUIRE(rb);
      REQUIRE(*rb == r);
    }
  }
}

TEST_CASE("kv codec: every strict prefix of an encoding is rejected",
          "[kv][codec]") {
  for (auto seed : seeds()) {
    INFO(replay(seed));
    std::mt19937_64 rng{seed};
    for (int i = 0; i < 200; ++i) {
      auto bytes = encode(random_command(rng));
      for (std::size_t n = 0; n < bytes.size(); ++n)
        REQUIRE_FALSE(decode_command(std::string_view{bytes}.substr(0, n)));
      REQUIRE_FALSE(decode_command(bytes + '\0')); // trailing byte
      auto rbytes = encode(random_reply(rng));
      for (std::size_t n = 0; n < rbytes.size(); ++n)
        REQUIRE_FALSE(decode_reply(std::string_view{rbytes}.substr(0, n)));
      REQUIRE_FALSE(decode_reply(rbytes + 'x'));
    }
  }
}

TEST_CASE("kv codec: unknown versions and reserved bits are rejected",
          "[kv][codec]") {
  auto good = encode(as(1, 1, put("k", "v")));
  REQUIRE(decode_command(good));
  auto mutate = [&](std::size_t at, char to) {
    auto b = good;
    b[at] = to;
    return decode_command(b);
  };
  CHECK_FALSE(mutate(0, 0));    // version 0
  CHECK_FALSE(mutate(0, 2));    // version 2
  CHECK(mutate(1, 0x15));       // op 5 (open) decodes (check() refuses it)
  CHECK_FALSE(mutate(1, 0x16)); // op 6
  CHECK_FALSE(mutate(1, 0x17)); // op 7
  CHECK_FALSE(mutate(1, 0x51)); // reserved bit 6
  CHECK_FALSE(mutate(1, static_cast<char>(0x91))); // reserved bit 7
  CHECK_FALSE(mutate(1, 0x31)); // expected flagged but missing
  CHECK_FALSE(mutate(1, 0x01)); // value present but not flagged: trailing
  // A flagged but empty value is non-canonical.
  CHECK_FALSE(decode_command(std::string{"\x01\x11\x01\x01\x01k\x00", 7}));
  // Reply: errc 7, reason 11, reserved flag bits.
  CHECK_FALSE(decode_reply(std::string{"\x01\x07\x00\x00", 4}));
  CHECK_FALSE(decode_reply(std::string{"\x01\x00\x0b\x00", 4}));
  CHECK_FALSE(decode_reply(std::string{"\x01\x00\x00\x08", 4}));
  CHECK_FALSE(decode_reply(std::string{"\x02\x00\x00\x00", 4}));
  CHECK(decode_reply(std::string{"\x01\x00\x00\x03", 4}));
}

TEST_CASE("kv codec: varints are canonical and bounded", "[kv][codec]") {
  auto read = [](std::string bytes) -> std::optional<std::uint64_t> {
    wire::reader in{bytes};
    std::uint64_t x = 0;
    if (!in.get_varint(x) || !in.at_end())
      return std::nullopt;
    return x;
  };
  for (std::uint64_t x : {std::uint64_t{0}, std::uint64_t{127},
                          std::uint64_t{128}, std::uint64_t{1} << 35,
                          UINT64_MAX}) {
    std::string b;
    wire::put_varint(b, x);
    CHECK(b.size() == wire::varint_size(x));
    CHECK(read(b) == x);
  }
  CHECK(read(std::string{"\x80\x00", 2}) == std::nullopt); // overlong 0
  CHECK(read(std::string{"\xff\x00", 2}) == std::nullopt); // overlong 127
  CHECK(read(std::string(10, '\xff')) == std::nullopt);    // > 64 bits
  CHECK(read(std::string(9, '\xff') + '\x02') == std::nullopt);
  CHECK(read(std::string(11, '\x80')) == std::nullopt);
  CHECK(read(std::string(9, '\xff') + '\x01') == UINT64_MAX);
  // A string whose length runs past the input.
  wire::reader in{std::string_view{"\x05" "abc", 4}};
  std::string s;
  CHECK_FALSE(in.get_string(s));
}

TEST_CASE("kv codec: random garbage never crashes and decodes canonically",
          "[kv][codec][fuzz]") {
  for (auto seed : seeds()) {
    INFO(replay(seed));
    std::mt19937_64 rng{seed};
    std::uniform_int_distribution<std::size_t> len(0, 64);
    std::uniform_int_distribution<int> byte(0, 255);
    std::uniform_int_distribution<int> pick(0, 2);
    std::size_t commands = 0;
    std::size_t replies = 0;
    for (int i = 0; i < 100000; ++i) {
      std::string b(len(rng), '\0');
      for (auto& ch : b)
        ch = static_cast<char>(byte(rng));
      // Bias a third of the inputs towards plausible headers.
      if (!b.empty() && pick(rng) == 0)
        b[0] = '\x01';
      if (b.size() > 1 && pick(rng) == 0)
        b[1] = static_cast<char>(b[1] & 0x3f);
      std::optional<command> c;
      std::optional<reply> r;
      REQUIRE_NOTHROW(c = decode_command(b));
      REQUIRE_NOTHROW(r = decode_reply(b));
      if (c) {
        ++commands;
        REQUIRE(encode(*c) == b); // one encoding per value
      }
      if (r) {
        ++replies;
        REQUIRE(encode(*r) == b);
      }
    }
    // The biased inputs do decode sometimes, so the checks above ran.
    CHECK(commands + replies > 0);
  }
}

TEST_CASE("kv codec: printing names the op and the reason", "[kv][codec]") {
  CHECK(to_string(as(7, 3, cas("x", "e", "vvvvv")))
        == "cas c=7 s=3 k=x v=5B e=1B");
  CHECK(to_string(failure(reason::stale_seq))
        == "bad_request/stale_seq found=0 ok=0");
  CHECK(to_string(op::del) == "del");
  CHECK(to_string(op::open) == "open");
}
