// messages/to_string.cpp: the transcript lines every test failure and log
// uses. They are part of the test vocabulary, so they are pinned here.
#include <catch2/catch.hpp>

#include <sstream>
#include <string>

#include "messages/to_string.hpp"
#include "tests/core/core_harness.hpp"

using namespace raft;
using namespace raft::core_test;

namespace {

/// `m` carrying ReadIndex round `seq` (thesis §6.4).
template <class Message>
Message with_read(Message m, std::uint64_t seq) {
  m.read_seq = seq;
  return m;
}

} // namespace

TEST_CASE("to_string: Raft messages read like etcd transcripts",
          "[to_string]") {
  struct row {
    envelope env;
    std::string expected;
  };
  auto r = GENERATE(
    row{{1_s, 2_s, ae(3, 1, lid(2, 7), {entry(3, 8), entry(3, 9)}, 7)},
        "1->2 append_entries term=3 prev=2/7 entries=[8..9] commit=7"},
    row{{1_s, 2_s, ae(3, 1, lid(2, 7), {entry(3, 8)}, 7)},
        "1->2 append_entries term=3 prev=2/7 entries=[8] commit=7"},
    row{{1_s, 3_s, ae(3, 1, lid(0, 0), {}, 0)},
        "1->3 append_entries term=3 prev=0/0 entries=[] commit=0"},
    row{{4_s, 3_s, ae(3, 1, lid(0, 0), {}, 0)},
        "4->3 append_entries term=3 prev=0/0 entries=[] commit=0 leader=1"},
    row{{2_s, 1_s, ae_ok(3, 7, 9)},
        "2->1 append_entries_reply term=3 success=true prev=7 match=9"},
    row{{1_s, 2_s, with_read(ae(3, 1, lid(2, 9), {}, 9), 4)},
        "1->2 append_entries term=3 prev=2/9 entries=[] commit=9 read=4"},
    row{{2_s, 1_s, with_read(ae_ok(3, 9, 9), 4)},
        "2->1 append_entries_reply term=3 success=true prev=9 match=9 "
        "read=4"},
    row{{2_s, 1_s, with_read(ae_reject(3, 7, 2, 5, 7), 4)},
        "2->1 append_entries_reply term=3 success=false prev=7 xterm=2 "
        "xindex=5 xlen=7 read=4"},
    row{{2_s, 1_s, ae_reject(3, 7, 2, 5, 7)},
        "2->1 append_entries_reply term=3 success=false prev=7 xterm=2 "
        "xindex=5 xlen=7"},
    row{{1_s, 3_s, rv(3, 1, lid(2, 7))},
        "1->3 request_vote term=3 cand=1 last=2/7"},
    row{{3_s, 1_s, rv_reply(3, true)},
        "3->1 request_vote_reply term=3 granted=true"},
    row{{3_s, 1_s, rv_reply(4, false)},
        "3->1 request_vote_reply term=4 granted=false"},
    row{{1_s, 2_s, install_snapshot{3_t, 1_s, lid(2, 7), 4, "5678", false, 9,
                                    0xcbf43926u}},
        "1->2 install_snapshot term=3 last=2/7 offset=4 bytes=4 done=false "
        "total=9 crc=cbf43926"},
    row{{4_s, 2_s, install_snapshot{3_t, 1_s, lid(2, 7), 0, "", true, 0, 0}},
        "4->2 install_snapshot term=3 last=2/7 offset=0 bytes=0 done=true "
        "total=0 crc=00000000 leader=1"},
    row{{2_s, 1_s, install_snapshot_reply{3_t, lid(2, 7), 8, false}},
        "2->1 install_snapshot_reply term=3 last=2/7 next=8 installed=false"},
    row{{2_s, 1_s, install_snapshot_reply{3_t, lid(2, 7), 9, true}},
        "2->1 install_snapshot_reply term=3 last=2/7 next=9 installed=true"});
  CHECK(to_string(r.env) == r.expected);
  std::ostringstream os;
  os << r.env;
  CHECK(os.str() == r.expected);
  // The message alone is the line without its addresses.
  auto msg_only = r.expected.substr(r.expected.find(' ') + 1);
  if (auto pos = msg_only.find(" leader="); pos != std::string::npos)
    msg_only.erase(pos);
  CHECK(to_string(r.env.msg) == msg_only);
}

TEST_CASE("to_string: node-internal and client messages", "[to_string]") {
  CHECK(to_string(hs(3, 0)) == "term=3 vote=none");
  CHECK(to_string(hs(3, 2)) == "term=3 vote=2");
  CHECK(to_string(batch(hs(3, 1), 0, {entry(3, 4), entry(3, 5)}, lid(3, 5)))
        == "persist term=3 vote=1 entries=[4..5] last=3/5");
  CHECK(to_string(batch(hs(3, 1), 4, {entry(3, 4)}, lid(3, 4)))
        == "persist term=3 vote=1 truncate=4 entries=[4] last=3/4");
  CHECK(to_string(batch(hs(3, 1), lid(2, 5), "state", 0, {entry(3, 6)},
                        lid(3, 6)))
        == "persist term=3 vote=1 snapshot=2/5 bytes=5 entries=[6] last=3/6");
  CHECK(to_string(persisted{3_t, 5_i}) == "persisted 3/5");
  CHECK(to_string(entry(2, 9, "set x 1")) == "2/9 \"set x 1\"");
  auto noop = entry(2, 10, "");
  noop.kind = entry_kind::noop;
  CHECK(to_string(noop) == "2/10 noop");
  CHECK(to_string(lid(2, 7)) == "2/7");
  CHECK(to_string(role::follower) == "follower");
  CHECK(to_string(role::candidate) == "candidate");
  CHECK(to_string(role::leader) == "leader");
  CHECK(to_string(entry_kind::command) == "command");
  CHECK(to_string(errc::not_leader) == "not_leader");
  CHECK(to_string(errc::dropped_entry) == "dropped_entry");
  CHECK(to_string(errc::too_large) == "too_large");

  apply_msg a;
  a.command_valid = true;
  a.command = "put k v";
  a.command_index = 5_i;
  a.command_term = 2_t;
  CHECK(to_string(a) == "apply command 2/5 \"put k v\"");
  apply_msg snap;
  snap.snapshot_valid = true;
  snap.snapshot = std::string(10, 'x');
  snap.snapshot_index = 10_i;
  snap.snapshot_term = 3_t;
  CHECK(to_string(snap) == "apply snapshot 3/10 bytes=10");

  CHECK(to_string(propose_result{7_i, 3_t, true, 1_s})
        == "propose accepted at 3/7");
  CHECK(to_string(propose_result{{}, {}, false, 2_s})
        == "propose not_leader hint=2");
  CHECK(to_string(propose_result{{}, {}, false, no_server})
        == "propose not_leader hint=none");

  peer_status st;
  st.id = 2_s;
  st.role = role::leader;
  st.term = 4_t;
  st.leader = 2_s;
  st.voted_for = 2_s;
  st.commit_index = 5_i;
  st.last_applied = 4_i;
  st.first_index = 1_i;
  st.last_index = 7_i;
  st.durable_index = 6_i;
  CHECK(to_string(st)
        == "peer 2 leader term=4 leader=2 vote=2 log=[1..7] durable=6 "
           "commit=5 applied=4 snapshot=0/0");
  st.snapshot = log_id{3_t, 2_i}; // term/index, as everywhere else
  st.first_index = 3_i;
  CHECK(to_string(st)
        == "peer 2 leader term=4 leader=2 vote=2 log=[3..7] durable=6 "
           "commit=5 applied=4 snapshot=3/2");

  client_reply ok;
  ok.index = 5_i;
  ok.term = 2_t;
  ok.result = "v";
  CHECK(to_string(ok) == "reply ok at 2/5 result=\"v\"");
  client_reply nl;
  nl.error = errc::not_leader;
  nl.leader_hint = 3_s;
  CHECK(to_string(nl) == "reply not_leader hint=3");
  client_reply to;
  to.error = errc::timeout;
  CHECK(to_string(to) == "reply timeout");
}

TEST_CASE("to_string: printable escapes and truncates command bytes",
          "[to_string]") {
  struct row {
    std::string bytes;
    std::size_t max;
    std::string expected;
  };
  auto r = GENERATE(row{"set x 1", 32, "set x 1"},
                    row{"", 32, ""},
                    row{"a\nb\tc\rd", 32, "a\\nb\\tc\\rd"},
                    row{"say \"hi\" \\o/", 32, "say \\\"hi\\\" \\\\o/"},
                    row{std::string("\x00\x01\xff", 3), 32, "\\x00\\x01\\xff"},
                    row{"0123456789", 4, "0123..."},
                    row{"0123", 4, "0123"},
                    row{std::string(100, 'z'), 32,
                        std::string(32, 'z') + "..."},
                    row{"\x7f" "abc", 2, "\\x7fa..."});
  CHECK(printable(r.bytes, r.max) == r.expected);
}

TEST_CASE("to_string: read outcomes", "[to_string][thesis-6.4]") {
  CHECK(core::to_string(core::read_state{7, 3_i}) == "read 7 index=3");
  CHECK(core::to_string(core::read_failure{7, 2_s, errc::not_leader})
        == "read 7 failed not_leader leader=2");
  CHECK(core::to_string(core::read_failure{8, no_server, errc::not_leader})
        == "read 8 failed not_leader leader=none");
  CHECK(core::to_string(core::read_failure{9, 1_s, errc::timeout})
        == "read 9 failed timeout leader=1");
}
