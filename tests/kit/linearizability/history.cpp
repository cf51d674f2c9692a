#include "tests/kit/linearizability/history.hpp"

#include <cstdio>
#include <stdexcept>
#include <utility>

namespace raft::testing::lin {

// -- building inputs and outputs ---------------------------------------------

namespace {

kv_input make(kv_input::kind k, std::string key, std::string value = {},
              std::string expected = {}) {
  kv_input in;
  in.op = k;
  in.key = std::move(key);
  in.value = std::move(value);
  in.expected = std::move(expected);
  return in;
}

} // namespace

kv_input kv_get(std::string key) {
  return make(kv_input::kind::get, std::move(key));
}

kv_input kv_put(std::string key, std::string value) {
  return make(kv_input::kind::put, std::move(key), std::move(value));
}

kv_input kv_append(std::string key, std::string value) {
  return make(kv_input::kind::append, std::move(key), std::move(value));
}

kv_input kv_del(std::string key) {
  return make(kv_input::kind::del, std::move(key));
}

kv_input kv_cas(std::string key, std::string expected, std::string value) {
  return make(kv_input::kind::cas, std::move(key), std::move(value),
              std::move(expected));
}

kv_output found(std::string value) {
  kv_output out;
  out.found = true;
  out.value = std::move(value);
  return out;
}

kv_output not_found() {
  return kv_output{};
}

kv_output done(bool ok) {
  kv_output out;
  out.ok = ok;
  return out;
}

kv_output unknown_outcome() {
  kv_output out;
  out.unknown = true;
  return out;
}

// -- the sequential model ----------------------------------------------------

bool kv_step(const kv_state& state, const kv_input& in, const kv_output& out,
             kv_state& next) {
  switch (in.op) {
    case kv_input::kind::get:
      if (!out.unknown
          && (out.found != state.has_value()
              || (out.found && out.value != *state)))
        return false;
      next = state;
      return true;
    case kv_input::kind::put:
      next = in.value;
      return true;
    case kv_input::kind::append:
      next = state.value_or(std::string{}) + in.value;
      return true;
    case kv_input::kind::del:
      next.reset();
      return true;
    case kv_input::kind::cas: {
      bool swaps = state.has_value() && *state == in.expected;
      if (!out.unknown && out.ok != swaps)
        return false;
      next = swaps ? kv_state{in.value} : state;
      return true;
    }
  }
  return false;
}

kv_output kv_apply(kv_state& state, const kv_input& in) {
  kv_output out;
  switch (in.op) {
    case kv_input::kind::get:
      out.found = state.has_value();
      if (state)
        out.value = *state;
      break;
    case kv_input::kind::put:
      state = in.value;
      break;
    case kv_input::kind::append:
      state = state.value_or(std::string{}) + in.value;
      break;
    case kv_input::kind::del:
      state.reset();
      break;
    case kv_input::kind::cas:
      out.ok = state.has_value() && *state == in.expected;
      if (out.ok)
        state = in.value;
      break;
  }
  return out;
}

// -- printing ----------------------------------------------------------------

std::string quote(const std::string& s) {
  std::string result = "\"";
  for (unsigned char c : s) {
    switch (c) {
      case '"':
        result += "\\\"";
        break;
      case '\\':
        result += "\\\\";
        break;
      case '\n':
        result += "\\n";
        break;
      case '\t':
        result += "\\t";
        break;
      default:
        if (c < 0x20 || c >= 0x7f) {
          char buf[8];
          std::snprintf(buf, sizeof(buf), "\\x%02x", c);
          result += buf;
        } else {
          result += static_cast<char>(c);
        }
    }
  }
  return result + "\"";
}

const char* to_string(kv_input::kind k) {
  switch (k) {
    case kv_input::kind::get:
      return "get";
    case kv_input::kind::put:
      return "put";
    case kv_input::kind::append:
      return "append";
    case kv_input::kind::del:
      return "del";
    case kv_input::kind::cas:
      return "cas";
  }
  return "?";
}

std::string to_string(const kv_input& in) {
  std::string result = to_string(in.op);
  result += '(';
  result += in.key;
  switch (in.op) {
    case kv_input::kind::put:
    case kv_input::kind::append:
      result += ',' + quote(in.value);
      break;
    case kv_input::kind::cas:
      result += ',' + quote(in.expected) + ',' + quote(in.value);
      break;
    default:
      break;
  }
  return result + ')';
}

std::string to_string(const operation& op) {
  auto result = to_string(op.in);
  if (op.out.unknown)
    return result + " -> ?";
  switch (op.in.op) {
    case kv_input::kind::get:
      return result + " -> " + (op.out.found ? quote(op.out.value) : "none");
    case kv_input::kind::cas:
      return result + (op.out.ok ? " -> true" : " -> false");
    default:
      return result;
  }
}

// -- recording ---------------------------------------------------------------

std::size_t history_recorder::begin(int client, kv_input in,
                                    std::int64_t now) {
  std::lock_guard<std::mutex> guard{mtx_};
  operation op;
  op.client = client;
  op.in = std::move(in);
  op.call = now;
  op.ret = never_returned;
  op.out.unknown = true;
  ops_.push_back(std::move(op));
  status_.push_back(status::pending);
  return ops_.size() - 1;
}

operation& history_recorder::pending_(std::size_t id) {
  if (id >= ops_.size())
    throw std::logic_error("history_recorder: unknown operation id "
                           + std::to_string(id));
  if (status_[id] != status::pending)
    throw std::logic_error("history_recorder: operation "
                           + std::to_string(id) + " already ended");
  return ops_[id];
}

void history_recorder::end(std::size_t id, kv_output out, std::int64_t now) {
  std::lock_guard<std::mutex> guard{mtx_};
  auto& op = pending_(id);
  if (now < op.call)
    throw std::logic_error("history_recorder: operation "
                           + std::to_string(id) + " ends before its call");
  op.out = std::move(out);
  op.ret = now;
  status_[id] = status::ended;
}

void history_recorder::discard(std::size_t id) {
  std::lock_guard<std::mutex> guard{mtx_};
  pending_(id);
  status_[id] = status::discarded;
}

std::vector<operation> history_recorder::operations() const {
  std::lock_guard<std::mutex> guard{mtx_};
  std::vector<operation> result;
  result.reserve(ops_.size());
  for (std::size_t i = 0; i < ops_.size(); ++i)
    if (status_[i] != status::discarded)
      result.push_back(ops_[i]);
  return result;
}

std::size_t history_recorder::size() const {
  std::lock_guard<std::mutex> guard{mtx_};
  return ops_.size();
}

} // namespace raft::testing::lin
