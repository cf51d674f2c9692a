// raft::core::raft_log, table-driven: positions, terms, the log matching
// check (§5.3), the fast-backup lookups, slicing limits and the §5.4.1
// up-to-date comparison.
#include <catch2/catch.hpp>

#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

#include "actors/core/raft_log.hpp"
#include "tests/core/core_harness.hpp"

using namespace raft;
using namespace raft::core_test;
using raft::core::raft_log;

namespace {

/// The log used by most tables: terms 1 1 2 2 2 3 at indexes 1..6.
raft_log sample() { return raft_log{log_id{}, make_log({1, 1, 2, 2, 2, 3})}; }

/// A log after a snapshot at 2/10, holding 2/11 3/12 3/13.
raft_log compacted() {
  return raft_log{lid(2, 10), make_log({2, 3, 3}, 11)};
}

std::string show(std::optional<term_t> t) {
  return t ? to_string(*t) : std::string{"none"};
}

std::string show(std::optional<index_t> i) {
  return i ? to_string(*i) : std::string{"none"};
}

} // namespace

TEST_CASE("raft_log: an empty log sits at its base", "[raft_log]") {
  struct row {
    log_id base;
    std::uint64_t first, last, last_term;
  };
  auto r = GENERATE(row{lid(0, 0), 1, 0, 0}, row{lid(3, 7), 8, 7, 3});
  raft_log log{r.base, {}};
  INFO("base " << to_string(r.base));
  CHECK(entry_count(log) == 0);
  CHECK(log.first_index() == index_t{r.first});
  CHECK(log.last_index() == index_t{r.last});
  CHECK(log.last_term() == term_t{r.last_term});
  CHECK(to_string(log.last()) == to_string(r.base));
  CHECK(to_string(log.base()) == to_string(r.base));
  CHECK(log.term_at(r.base.index) == std::optional<term_t>{r.base.term});
}

TEST_CASE("raft_log: construction rejects logs that break the invariant",
          "[raft_log]") {
  struct row {
    const char* what;
    log_id base;
    log_entries entries;
    bool valid;
  };
  auto r = GENERATE(
    row{"consecutive from 1", lid(0, 0), make_log({1, 1, 2}), true},
    row{"consecutive after a snapshot", lid(2, 10), make_log({2, 3}, 11),
        true},
    row{"starts at 2 without snapshot", lid(0, 0), make_log({1, 1}, 2), false},
    row{"gap", lid(0, 0), log_entries{entry(1, 1), entry(1, 3)}, false},
    row{"repeated index", lid(0, 0), log_entries{entry(1, 1), entry(1, 1)},
        false},
    row{"decreasing terms", lid(0, 0), make_log({2, 1}), false},
    row{"term below the snapshot's", lid(3, 4), make_log({2}, 5), false});
  INFO(r.what);
  if (r.valid) {
    raft_log log{r.base, r.entries};
    CHECK(entry_count(log) == r.entries.size());
    CHECK(all_entries(log) == r.entries);
  } else {
    CHECK_THROWS_AS((raft_log{r.base, r.entries}), std::invalid_argument);
  }
}

TEST_CASE("raft_log: term_at, matches and at", "[raft_log][paper-5.3]") {
  struct row {
    bool compacted;
    std::uint64_t index;
    std::optional<std::uint64_t> term; // nothing: outside the log
  };
  auto r = GENERATE(row{false, 0, 0}, row{false, 1, 1}, row{false, 2, 1},
                    row{false, 3, 2}, row{false, 5, 2}, row{false, 6, 3},
                    row{false, 7, std::nullopt}, row{false, 100, std::nullopt},
                    row{true, 9, std::nullopt}, row{true, 10, 2},
                    row{true, 11, 2}, row{true, 12, 3}, row{true, 13, 3},
                    row{true, 14, std::nullopt});
  auto log = r.compacted ? compacted() : sample();
  auto i = index_t{r.index};
  INFO((r.compacted ? "compacted" : "sample") << " log, index " << r.index);
  auto expected = r.term ? std::to_string(*r.term) : std::string{"none"};
  CHECK(show(log.term_at(i)) == expected);
  for (std::uint64_t t = 0; t <= 4; ++t)
    CHECK(log.matches(i, term_t{t}) == (r.term && *r.term == t));
  if (r.term && i >= log.first_index()) {
    CHECK(log.at(i).index == i);
    CHECK(log.at(i).term == term_t{*r.term});
  }
}

TEST_CASE("raft_log: fast backup lookups (XIndex, leader's last of XTerm)",
          "[raft_log][paper-5.3]") {
  SECTION("first_index_of_term_at: start of the term run containing i") {
    struct row {
      std::uint64_t i, expected;
    };
    auto r = GENERATE(row{1, 1}, row{2, 1}, row{3, 3}, row{4, 3}, row{5, 3},
                      row{6, 6});
    INFO("index " << r.i);
    auto log = sample();
    CHECK(log.first_index_of_term_at(index_t{r.i}) == index_t{r.expected});
  }
  SECTION("last_index_of_term: last entry of a term, if any") {
    struct row {
      std::uint64_t term;
      std::optional<std::uint64_t> expected;
    };
    auto r = GENERATE(row{1, 2}, row{2, 5}, row{3, 6},
                      row{4, std::nullopt}, row{7, std::nullopt});
    INFO("term " << r.term);
    auto log = sample();
    auto expected = r.expected ? std::to_string(*r.expected)
                               : std::string{"none"};
    CHECK(show(log.last_index_of_term(term_t{r.term})) == expected);
  }
  SECTION("lookups in a compacted log") {
    auto log = compacted();
    CHECK(log.first_index_of_term_at(13_i) == 12_i);
    CHECK(log.first_index_of_term_at(12_i) == 12_i);
    CHECK(show(log.last_index_of_term(3_t)) == "13");
    CHECK(show(log.last_index_of_term(2_t)) == "11");
  }
}

TEST_CASE("raft_log: append and truncate_from keep the invariant",
          "[raft_log]") {
  auto log = sample();
  log.append(entry(3, 7));
  log.append(entry(4, 8));
  CHECK(log.last_index() == 8_i);
  CHECK(to_string(log.last()) == "4/8");
  CHECK(all_entries(log) == make_log({1, 1, 2, 2, 2, 3, 3, 4}));
  struct row {
    std::uint64_t from;
    std::uint64_t last_index, last_term;
  };
  auto r = GENERATE(row{8, 7, 3}, row{6, 5, 2}, row{3, 2, 1}, row{1, 0, 0});
  INFO("truncate_from " << r.from);
  log.truncate_from(index_t{r.from});
  CHECK(log.last_index() == index_t{r.last_index});
  CHECK(log.last_term() == term_t{r.last_term});
  CHECK(entry_count(log) == r.last_index);
  CHECK(!log.term_at(index_t{r.from}).has_value());
  // The log continues right after the cut, with any term >= the last one.
  log.append(entry(5, r.from));
  CHECK(to_string(log.last()) == "5/" + std::to_string(r.from));
  CHECK(log.at(index_t{r.from}) == entry(5, r.from));
}

TEST_CASE("raft_log: truncate_from after a snapshot keeps the base",
          "[raft_log]") {
  auto log = compacted();
  log.truncate_from(11_i);
  CHECK(entry_count(log) == 0);
  CHECK(to_string(log.last()) == "2/10");
  CHECK(log.first_index() == 11_i);
}

TEST_CASE("raft_log: slice honours max_entries and max_bytes, at least one "
          "entry",
          "[raft_log]") {
  // Entries 1..6 with payloads of 100 bytes each.
  log_entries xs;
  for (std::uint64_t i = 1; i <= 6; ++i)
    xs.push_back(entry(1, i, std::string(100, static_cast<char>('a' + i))));
  raft_log log{log_id{}, xs};
  struct row {
    std::uint64_t from, to;
    std::size_t max_entries, max_bytes;
    std::uint64_t expected_first, expected_last; // expected_last < first: none
  };
  auto r = GENERATE(
    row{1, 6, 256, 1 << 20, 1, 6},  // everything
    row{2, 4, 256, 1 << 20, 2, 4},  // a window
    row{1, 6, 3, 1 << 20, 1, 3},    // entry limit
    row{4, 6, 1, 1 << 20, 4, 4},    // one per message
    row{1, 6, 256, 200, 1, 2},      // byte limit reached exactly
    row{1, 6, 256, 1, 1, 1},        // oversized entry: still one
    row{3, 6, 256, 300, 3, 5},      // byte limit, middle start
    row{5, 5, 256, 1 << 20, 5, 5}); // single entry
  INFO("slice(" << r.from << ", " << r.to << ", " << r.max_entries << ", "
                << r.max_bytes << ")");
  auto got = log.slice(index_t{r.from}, index_t{r.to}, r.max_entries,
                       r.max_bytes);
  CHECK(got == slice_of(xs, r.expected_first, r.expected_last));
}

TEST_CASE("raft_log: is_up_to_date compares last term, then length "
          "(paper 5.4.1)",
          "[raft_log][paper-5.4.1]") {
  // Receiver log ends at 2/3.
  raft_log log{log_id{}, make_log({1, 1, 2})};
  struct row {
    std::uint64_t last_term, last_index;
    bool up_to_date;
  };
  auto r = GENERATE(row{2, 3, true},   // identical
                    row{2, 4, true},   // same term, longer
                    row{3, 1, true},   // later term, shorter
                    row{9, 1, true},   // later term wins whatever the length
                    row{2, 2, false},  // same term, shorter
                    row{1, 9, false},  // earlier term, longer
                    row{0, 0, false}); // empty log
  INFO("candidate last " << r.last_term << "/" << r.last_index);
  CHECK(log.is_up_to_date(index_t{r.last_index}, term_t{r.last_term})
        == r.up_to_date);
  raft_log empty;
  CHECK(empty.is_up_to_date(index_t{r.last_index}, term_t{r.last_term}));
}
