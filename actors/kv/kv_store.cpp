// The pure KV transition (semantics in kv_store.hpp).
#include "actors/kv/kv_store.hpp"

namespace raft::kv {

namespace {

/// Runs a command that passed check() against the data. Never touches the
/// sessions.
reply execute(std::map<std::string, std::string>& data, const command& c,
              const kv_limits& limits) {
  reply r;
  auto it = data.find(c.key);
  r.found = it != data.end();
  switch (c.kind) {
    case op::get:
      r.ok = r.found;
      if (r.found)
        r.value = it->second;
      break;
    case op::put:
      data.insert_or_assign(c.key, c.value);
      r.ok = true;
      break;
    case op::append:
      if (r.found) {
        if (it->second.size() + c.value.size() > limits.max_value_bytes)
          return failure(reason::value_too_large);
        it->second += c.value;
      } else {
        data.emplace(c.key, c.value);
      }
      r.ok = true;
      break;
    case op::del:
      r.ok = r.found;
      if (r.found)
        data.erase(it);
      break;
    case op::cas:
      r.ok = c.expect_absent ? !r.found
                             : r.found && it->second == c.expected;
      if (r.ok)
        data.insert_or_assign(c.key, c.value);
      break;
    case op::open:
      return failure(reason::bad_fields); // apply() handles opens
  }
  return r;
}

/// check() then execute().
reply run(std::map<std::string, std::string>& data, const command& c,
          const kv_limits& limits) {
  if (auto v = check(c, limits); !v)
    return failure(v.why);
  return execute(data, c, limits);
}

/// Evicts least recently used sessions (smallest last_index; client_id
/// breaks ties, which cannot occur with one command per index) until at
/// most `max` remain, never evicting `keep`. O(n) per eviction: it runs
/// only when an open overflows the table.
void evict(std::map<std::uint64_t, session>& sessions, std::size_t max,
           std::uint64_t keep) {
  while (sessions.size() > max && sessions.size() > 1) {
    auto victim = sessions.end();
    for (auto i = sessions.begin(); i != sessions.end(); ++i) {
      if (i->first == keep)
        continue;
      if (victim == sessions.end()
          || i->second.last_index < victim->second.last_index)
        victim = i;
    }
    sessions.erase(victim);
  }
}

/// An open (passed check()) applied at `index`: the session `index`.
reply open_session(kv_state& st, index_t index, const kv_limits& limits) {
  auto id = index.value;
  // Cannot happen in a Raft log (indexes start at 1 and are unique); only
  // a caller replaying indexes, or a client-chosen id of an older store,
  // could collide. Never hand out a live session's id.
  if (id == 0 || st.sessions.count(id) != 0)
    return failure(reason::bad_session);
  reply r;
  r.ok = true;
  auto& s = st.sessions[id];
  s.last_seq = 0;
  s.last_index = index;
  s.kind = op::open;
  s.last_reply = r;
  evict(st.sessions, limits.max_sessions, id);
  r.value = std::to_string(id);
  return r;
}

} // namespace

reply apply(kv_state& st, const command& c, index_t index,
            const kv_limits& limits) {
  if (index > st.last_index)
    st.last_index = index; // commands arrive in index order; keep the max
  if (c.kind == op::open) {
    if (auto v = check(c, limits); !v)
      return failure(v.why);
    return open_session(st, index, limits);
  }
  if (c.client_id == 0 && c.seq == 0)
    return run(st.data, c, limits);
  if (c.client_id == 0 || c.seq == 0)
    return failure(reason::bad_session);
  auto it = st.sessions.find(c.client_id);
  if (it == st.sessions.end())
    return failure(reason::session_expired); // only an open creates one
  auto& s = it->second;
  if (c.seq < s.last_seq)
    return failure(reason::stale_seq);
  if (c.seq == s.last_seq) {
    if (c.kind != s.kind)
      return failure(reason::seq_reused);
    s.last_index = index;
    // A read is re-run (see the header); a write is answered from cache.
    return c.kind == op::get ? run(st.data, c, limits) : s.last_reply;
  }
  auto r = run(st.data, c, limits);
  s.last_seq = c.seq;
  s.last_index = index;
  s.kind = c.kind;
  s.last_reply = r;
  s.last_reply.value.clear();
  return r;
}

std::size_t data_bytes(const kv_state& st) {
  std::size_t n = 0;
  for (const auto& [k, v] : st.data)
    n += k.size() + v.size();
  return n;
}

} // namespace raft::kv
