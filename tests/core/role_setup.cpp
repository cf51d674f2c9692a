#include "tests/core/role_setup.hpp"

#include "messages/to_string.hpp"

namespace raft::core_test {

harness make_in_role(raft::role r, role_setup s) {
  INFO("putting server 1 into role " << to_string(r) << " at term "
                                     << s.term);
  auto cfg = s.cfg;
  cfg.id = 1_s;
  cfg.members.clear();
  for (std::uint32_t i = 1; i <= s.servers; ++i)
    cfg.members.push_back(server_id{i});
  stored_state st;
  st.entries = s.log;
  if (!s.log.empty())
    st.base = log_id{s.log.front().term, s.log.front().index.prev()};
  if (!s.log.empty() && s.log.front().index.value > 1) {
    // A log that starts later follows a snapshot of its first entry's
    // term (tests of compacted leaders).
    st.snapshot = "snap@" + to_string(st.base.index);
  } else {
    st.base = log_id{};
  }
  auto last = s.log.empty() ? log_id{}
                            : log_id{s.log.back().term, s.log.back().index};
  if (r == raft::role::follower) {
    REQUIRE(s.term >= 1);
    st.hard = hs(s.term - 1, 0);
    harness h{cfg, st};
    h.step(2, ae(s.term, 2, last, {}, 0));
    h.ack_all();
    REQUIRE(h->role() == raft::role::follower);
    REQUIRE(h->leader() == 2_s);
    REQUIRE(h->current_term() == term_t{s.term});
    return h;
  }
  REQUIRE(s.term >= 1);
  for (const auto& e : s.log)
    REQUIRE(e.term.value < s.term);
  st.hard = hs(s.term - 1, 0);
  harness h{cfg, st};
  for (int i = 0; i <= 2 * cfg.election_ticks
                  && h->role() == raft::role::follower;
       ++i)
    h.tick();
  REQUIRE(h->role() == raft::role::candidate);
  h.ack_all();
  REQUIRE(h->current_term() == term_t{s.term});
  if (r == raft::role::candidate)
    return h;
  auto quorum = s.servers / 2 + 1;
  for (std::uint32_t v = 2; v <= quorum; ++v)
    h.step(v, rv_reply(s.term, true));
  h.ack_all();
  REQUIRE(h->role() == raft::role::leader);
  if (s.followers_caught_up) {
    auto leader_last = h->log().last();
    for (std::uint32_t f = 2; f <= s.servers; ++f)
      h.step(f, ae_ok(s.term, leader_last.index.value,
                      leader_last.index.value));
    h.ack_all();
  }
  return h;
}

} // namespace raft::core_test
