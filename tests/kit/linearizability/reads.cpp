#include "tests/kit/linearizability/reads.hpp"

#include <set>
#include <string>
#include <string_view>
#include <unordered_map>

namespace raft::testing::lin::detail {

std::vector<std::size_t> drop_unobserved(const std::vector<operation>& history,
                                         std::vector<std::size_t> ops) {
  auto is_write = [](const operation& op) {
    return op.in.op == kv_input::kind::put
           || op.in.op == kv_input::kind::append
           || op.in.op == kv_input::kind::cas;
  };
  // The unknown writes that are candidates for dropping, by value; and
  // every string somebody saw.
  std::unordered_map<std::string_view, std::vector<std::size_t>> by_value;
  std::set<std::size_t> lengths;
  std::vector<std::string_view> seen;
  for (auto i : ops) {
    const auto& op = history[i];
    if (op.in.op == kv_input::kind::cas) {
      if (!op.out.unknown && !op.out.ok)
        return ops; // a failed cas: any write may matter
      seen.push_back(op.in.expected);
    }
    if (op.in.op == kv_input::kind::get && !op.out.unknown && op.out.found)
      seen.push_back(op.out.value);
    if (op.out.unknown && is_write(op) && !op.in.value.empty()) {
      by_value[op.in.value].push_back(i);
      lengths.insert(op.in.value.size());
    }
  }
  if (by_value.empty())
    return ops;
  // Every substring of a seen string with a length some candidate has.
  std::unordered_map<std::string_view, bool> observed;
  for (auto v : seen)
    for (auto len : lengths)
      for (std::size_t k = 0; k + len <= v.size(); ++k)
        if (auto it = by_value.find(v.substr(k, len)); it != by_value.end())
          observed[it->first] = true;
  std::vector<std::size_t> result;
  result.reserve(ops.size());
  for (auto i : ops) {
    const auto& op = history[i];
    if (op.out.unknown && is_write(op) && !op.in.value.empty()
        && !observed.count(op.in.value))
      continue;
    result.push_back(i);
  }
  return result;
}

read_tracker::read_tracker(const std::vector<operation>& history,
                           const std::vector<std::size_t>& ops)
  : history_(history), ops_(ops), linearized_(ops.size(), false) {
  index_producers();
  index_paths();
}

void read_tracker::index_producers() {
  auto n = ops_.size();
  std::unordered_map<std::string_view, std::vector<int>> sets;    // put, cas
  std::unordered_map<std::string_view, std::vector<int>> appends; // by value
  std::set<std::size_t> append_lengths; // distinct append value lengths
  std::vector<int> dels;
  for (std::size_t i = 0; i < n; ++i) {
    const auto& op = op_(i);
    auto w = static_cast<int>(i);
    switch (op.in.op) {
      case kv_input::kind::put:
        sets[op.in.value].push_back(w);
        break;
      case kv_input::kind::cas:
        if (op.out.unknown || op.out.ok)
          sets[op.in.value].push_back(w);
        break;
      case kv_input::kind::append:
        appends[op.in.value].push_back(w);
        append_lengths.insert(op.in.value.size());
        break;
      case kv_input::kind::del:
        dels.push_back(w);
        ++dels_left_;
        break;
      case kv_input::kind::get:
        break;
    }
  }
  producers_of_.resize(n);
  remaining_.assign(n, 0);
  z_pos_.assign(n, -1);
  for (std::size_t i = 0; i < n; ++i) {
    const auto& op = op_(i);
    if (op.in.op != kv_input::kind::get || op.out.unknown)
      continue;
    auto add = [&](const std::vector<int>& ws) {
      for (auto w : ws)
        producers_of_[w].push_back(static_cast<int>(i));
      remaining_[i] += static_cast<int>(ws.size());
    };
    if (op.out.found) {
      std::string_view v = op.out.value;
      if (auto it = sets.find(v); it != sets.end())
        add(it->second);
      // The appends that can have written v last: those whose value is a
      // suffix of v. Only suffixes of an append's length can match, so
      // this costs O(distinct lengths) lookups per get, not O(|v|) (an
      // append-heavy key's values grow to many KiB).
      for (auto len : append_lengths)
        if (len <= v.size())
          if (auto it = appends.find(v.substr(v.size() - len));
              it != appends.end())
            add(it->second);
    } else {
      add(dels);
    }
    if (remaining_[i] == 0)
      z_insert(static_cast<int>(i));
  }
}

void read_tracker::index_paths() {
  auto n = ops_.size();
  std::unordered_map<std::string_view, std::vector<int>> sets, appends;
  std::set<std::size_t> lengths; // of append values
  for (std::size_t i = 0; i < n; ++i) {
    const auto& op = op_(i);
    auto w = static_cast<int>(i);
    if (op.in.op == kv_input::kind::put
        || (op.in.op == kv_input::kind::cas && (op.out.unknown || op.out.ok)))
      sets[op.in.value].push_back(w);
    if (op.in.op == kv_input::kind::append && !op.in.value.empty()) {
      appends[op.in.value].push_back(w);
      lengths.insert(op.in.value.size());
    }
  }
  graph_.resize(n);
  graph_ok_.assign(n, false);
  resets_.resize(n);
  std::set<std::size_t> set_lengths; // of put and cas values
  for (const auto& [value, ws] : sets)
    set_lengths.insert(value.size());
  constexpr std::size_t max_value = 4096;
  for (std::size_t i = 0; i < n; ++i) {
    const auto& op = op_(i);
    if (op.in.op != kv_input::kind::get || op.out.unknown || !op.out.found)
      continue;
    std::string_view v = op.out.value;
    if (v.size() > max_value) {
      // No graph (it would cost O(|v|) per check and O(|v| * lengths) to
      // build); only the puts and cas ops that write a prefix of v, found
      // by length, for the prefix test of reachable().
      for (auto len : set_lengths) {
        if (len > v.size())
          break;
        if (auto it = sets.find(v.substr(0, len)); it != sets.end())
          resets_[i].insert(resets_[i].end(), it->second.begin(),
                            it->second.end());
      }
      continue;
    }
    graph_ok_[i] = true;
    auto& edges = graph_[i];
    for (std::size_t k = 0; k <= v.size(); ++k) {
      if (auto it = sets.find(v.substr(0, k)); it != sets.end())
        for (auto w : it->second)
          edges.push_back({w, -1, static_cast<int>(k)});
      for (auto len : lengths) {
        if (len > k)
          break;
        if (auto it = appends.find(v.substr(k - len, len));
            it != appends.end())
          for (auto w : it->second)
            edges.push_back(
              {w, static_cast<int>(k - len), static_cast<int>(k)});
      }
    }
  }
}

void read_tracker::count(std::size_t w, int delta) {
  const auto& op = op_(w);
  if (op.in.op == kv_input::kind::del)
    dels_left_ += delta;
  if (op.in.op == kv_input::kind::get && !op.out.unknown) {
    if (delta < 0)
      z_erase(static_cast<int>(w));
    else if (remaining_[w] == 0)
      z_insert(static_cast<int>(w));
  }
  for (auto r : producers_of_[w]) {
    auto before = remaining_[r];
    remaining_[r] += delta;
    if (linearized_[static_cast<std::size_t>(r)])
      continue;
    if (before == 0)
      z_erase(r);
    else if (remaining_[r] == 0)
      z_insert(r);
  }
}

void read_tracker::z_insert(int r) {
  if (z_pos_[r] != -1)
    return;
  z_pos_[r] = static_cast<int>(unreached_.size());
  unreached_.push_back(r);
}

void read_tracker::z_erase(int r) {
  auto p = z_pos_[r];
  if (p == -1)
    return;
  auto last = unreached_.back();
  unreached_[p] = last;
  z_pos_[last] = p;
  unreached_.pop_back();
  z_pos_[r] = -1;
}

int read_tracker::unreachable(const kv_state& state) const {
  for (auto r : unreached_) {
    const auto& op = op_(static_cast<std::size_t>(r));
    kv_state unused;
    if (!kv_step(state, op.in, op.out, unused))
      return r;
  }
  return -1;
}

bool read_tracker::reachable(std::size_t r, const kv_state& state) {
  const auto& out = op_(r).out;
  if (!out.found)
    return !state || dels_left_ > 0;
  const auto& v = out.value;
  if (v.empty())
    return true;
  if (!graph_ok_[r]) {
    // The prefix test alone (v is too long for a graph). Every operation
    // but put, cas and del leaves the state's old value as a prefix of the
    // new one (get and failed cas keep it, append extends it). So if the
    // state is a value that is not a prefix of v, then until a del, or a put
    // or cas writing a prefix of v, is linearized, the state stays a value
    // that is not a prefix of v -- in particular, it is not v. With none of
    // those left, the get can never become legal. (An absent state is
    // like "" here: an append to it starts from "".)
    if (!state || dels_left_ > 0)
      return true;
    if (state->size() <= v.size() && v.compare(0, state->size(), *state) == 0)
      return true;
    for (auto w : resets_[r])
      if (!linearized_[static_cast<std::size_t>(w)])
        return true;
    return false;
  }
  // Nodes: the prefixes of v by length. The empty prefix also stands for
  // "absent" (appending to an absent key starts from "").
  reach_.assign(v.size() + 1, 0);
  if (!state || dels_left_ > 0)
    reach_[0] = 1;
  if (state && state->size() <= v.size()
      && v.compare(0, state->size(), *state) == 0)
    reach_[state->size()] = 1;
  for (const auto& e : graph_[r]) {
    if (linearized_[static_cast<std::size_t>(e.op)])
      continue;
    if (e.from < 0 || reach_[static_cast<std::size_t>(e.from)])
      reach_[static_cast<std::size_t>(e.to)] = 1;
  }
  return reach_[v.size()] != 0;
}

} // namespace raft::testing::lin::detail
