// The pure transition without sessions: what each op does, and the limits
// and field rules (validate() and apply() agree; a rejected command changes
// nothing).
#include <catch2/catch.hpp>

#include "tests/kv/kv_helpers.hpp"

using namespace raft;
using namespace raft::kv;
using namespace raft::kv::test;

namespace {

reply ok_reply(bool found, bool ok, std::string value = {}) {
  reply r;
  r.found = found;
  r.ok = ok;
  r.value = std::move(value);
  return r;
}

} // namespace

TEST_CASE("kv store: get returns the value or not found", "[kv][store]") {
  store s;
  CHECK(s.run(get("a")) == ok_reply(false, false));
  s.run(put("a", "1"));
  CHECK(s.run(get("a")) == ok_reply(true, true, "1"));
  s.run(put("e", ""));
  CHECK(s.run(get("e")) == ok_reply(true, true, ""));
  CHECK(s.st.last_index == index_t{5});
}

TEST_CASE("kv store: put sets and overwrites", "[kv][store]") {
  store s;
  CHECK(s.run(put("a", "1")) == ok_reply(false, true));
  CHECK(s.run(put("a", "2")) == ok_reply(true, true));
  CHECK(s.st.data == std::map<std::string, std::string>{{"a", "2"}});
}

TEST_CASE("kv store: append appends and creates absent keys",
          "[kv][store]") {
  store s;
  CHECK(s.run(append("a", "x")) == ok_reply(false, true));
  CHECK(s.run(append("a", "y")) == ok_reply(true, true));
  CHECK(s.run(append("a", "")) == ok_reply(true, true));
  CHECK(s.st.data.at("a") == "xy");
}

TEST_CASE("kv store: del erases and says whether the key existed",
          "[kv][store]") {
  store s;
  s.run(put("a", "1"));
  CHECK(s.run(del("a")) == ok_reply(true, true));
  CHECK(s.run(del("a")) == ok_reply(false, false));
  CHECK(s.st.data.empty());
}

TEST_CASE("kv store: cas swaps only on a match of a present key",
          "[kv][store]") {
  store s;
  CHECK(s.run(cas("a", "", "1")) == ok_reply(false, false)); // absent fails
  CHECK(s.st.data.empty());
  s.run(put("a", "1"));
  CHECK(s.run(cas("a", "0", "2")) == ok_reply(true, false));
  CHECK(s.st.data.at("a") == "1");
  CHECK(s.run(cas("a", "1", "2")) == ok_reply(true, true));
  CHECK(s.st.data.at("a") == "2");
  CHECK(s.run(cas("a", "2", "")) == ok_reply(true, true)); // swap to ""
  CHECK(s.run(cas("a", "", "3")) == ok_reply(true, true)); // "" matches ""
  CHECK(s.st.data.at("a") == "3");
}

TEST_CASE("kv store: cas with expect_absent creates only absent keys",
          "[kv][store]") {
  store s;
  CHECK(s.run(cas_absent("a", "1")) == ok_reply(false, true));
  CHECK(s.run(cas_absent("a", "2")) == ok_reply(true, false));
  CHECK(s.st.data.at("a") == "1");
}

TEST_CASE("kv store: impossible field combinations are bad requests",
          "[kv][store][limits]") {
  struct row {
    const char* what;
    command c;
    reason why;
  };
  auto with_absent = [](command c) {
    c.expect_absent = true;
    return c;
  };
  auto with_expected = [](command c) {
    c.expected = "e";
    return c;
  };
  std::vector<row> rows{
    {"empty key", put("", "v"), reason::empty_key},
    {"get with a value", make(op::get, "k", "v"), reason::bad_fields},
    {"get with expected", make(op::get, "k", "", "e"), reason::bad_fields},
    {"del with a value", make(op::del, "k", "v"), reason::bad_fields},
    {"put with expected", with_expected(put("k", "v")), reason::bad_fields},
    {"append with expect_absent", with_absent(append("k", "v")),
     reason::bad_fields},
    {"get with expect_absent", with_absent(get("k")), reason::bad_fields},
    {"cas absent with expected", with_expected(cas_absent("k", "v")),
     reason::bad_fields},
    {"client without seq", as(5, 0, get("k")), reason::bad_session},
    {"seq without client", as(0, 5, get("k")), reason::bad_session},
    {"open with a client", as(5, 0, open_command()), reason::bad_session},
    {"open with a seq", as(0, 5, open_command()), reason::bad_session},
    {"open with a session", as(5, 5, open_command()), reason::bad_session},
    {"open with a key", make(op::open, "k"), reason::bad_fields},
    {"open with a value", make(op::open, "", "v"), reason::bad_fields},
    {"open with expected", make(op::open, "", "", "e"), reason::bad_fields},
    {"open with expect_absent", with_absent(open_command()),
     reason::bad_fields},
  };
  for (const auto& r : rows) {
    INFO(r.what << ": " << r.c);
    kv_limits limits;
    CHECK(validate(r.c, limits) == errc::bad_request);
    CHECK(check(r.c, limits).why == r.why);
    store s;
    s.run(put("k", "old"));
    auto before = s.st.data;
    CHECK(s.run(r.c) == failure(r.why));
    CHECK(s.st.data == before);
    CHECK(s.st.sessions.empty());
  }
  CHECK(validate(open_command(), kv_limits{}) == errc::none);
}

TEST_CASE("kv store: sizes at the limit pass and one byte more is too large",
          "[kv][store][limits]") {
  kv_limits limits;
  limits.max_key_bytes = 8;
  limits.max_value_bytes = 16;
  std::string key(8, 'k');
  std::string value(16, 'v');
  struct row {
    const char* what;
    command at_limit;
    command over;
    reason why;
  };
  std::vector<row> rows{
    {"key", put(key, "v"), put(key + "k", "v"), reason::key_too_large},
    {"value", put("a", value), put("a", value + "v"), reason::value_too_large},
    {"append value", append("b", value), append("b", value + "v"),
     reason::value_too_large},
    {"cas value", cas("a", "0", value), cas("a", "0", value + "v"),
     reason::value_too_large},
    {"cas expected", cas("a", value, "1"), cas("a", value + "e", "1"),
     reason::expected_too_large},
  };
  for (const auto& r : rows) {
    INFO(r.what);
    CHECK(validate(r.at_limit, limits) == errc::none);
    CHECK(validate(r.over, limits) == errc::too_large);
    CHECK(check(r.over, limits).why == r.why);
    store s;
    s.limits = limits;
    s.run(put("a", "0"));
    auto before = s.st.data;
    auto rejected = s.run(r.over);
    CHECK(rejected == failure(r.why));
    CHECK(rejected.error == errc::too_large);
    CHECK(s.st.data == before);
    CHECK(s.run(r.at_limit).error == errc::none);
  }
  CHECK(check(put("", std::string(17, 'v')), limits).why
        == reason::empty_key); // shape before size
}

TEST_CASE("kv store: an append whose result would be too large changes "
          "nothing",
          "[kv][store][limits]") {
  store s;
  s.limits.max_value_bytes = 10;
  s.run(put("a", "12345"));
  CHECK(s.run(append("a", "67890")).ok); // exactly 10
  CHECK(s.run(append("a", "x")) == failure(reason::value_too_large));
  CHECK(s.st.data.at("a") == "1234567890");
}

TEST_CASE("kv store: the default limits fit the Raft entry limit",
          "[kv][limits]") {
  kv_limits d;
  CHECK(d.max_key_bytes == 1024);
  CHECK(d.max_value_bytes == 1024 * 1024);
  CHECK(d.max_sessions == 4096);
  // The largest valid command: a cas with a full key, value and expected.
  command worst = as(UINT64_MAX, UINT64_MAX,
                     cas(std::string(d.max_key_bytes, 'k'),
                         std::string(d.max_value_bytes, 'e'),
                         std::string(d.max_value_bytes, 'v')));
  REQUIRE(validate(worst, d) == errc::none);
  CHECK(encode(worst).size() == max_command_bytes(d));
  CHECK(max_command_bytes(d) == 2 * 1024 * 1024 + 1024 + 30);
  // persistence::format::max_record_bytes (64 MiB) bounds one log record.
  CHECK(max_command_bytes(d) < (std::size_t{64} << 20));
}

TEST_CASE("kv store: commands without a session run every time",
          "[kv][store]") {
  store s;
  s.run(append("a", "x"));
  s.run(append("a", "x"));
  CHECK(s.st.data.at("a") == "xx");
  CHECK(s.st.sessions.empty());
}
