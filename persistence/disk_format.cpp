#include "persistence/disk_format.hpp"

#include <cstdio>
#include <cstring>
#include <sstream>

#include <boost/archive/binary_iarchive.hpp>
#include <boost/archive/binary_oarchive.hpp>

#include "messages/crc32.hpp"
#include "persistence/serialization.hpp"

namespace raft::persistence::format {

namespace {

constexpr char identity_magic[] = "caf-raft data directory";
constexpr char hard_state_magic[] = "CRAFTHST";
constexpr char segment_magic[] = "CRAFTLOG";
constexpr char snapshot_magic[] = "CRAFTSNP";

void put32(std::string& out, std::uint32_t x) {
  for (int i = 0; i < 4; ++i)
    out.push_back(static_cast<char>((x >> (8 * i)) & 0xffu));
}

void put64(std::string& out, std::uint64_t x) {
  for (int i = 0; i < 8; ++i)
    out.push_back(static_cast<char>((x >> (8 * i)) & 0xffu));
}

std::uint32_t get32(const char* p) {
  std::uint32_t x = 0;
  for (int i = 3; i >= 0; --i)
    x = (x << 8) | static_cast<unsigned char>(p[i]);
  return x;
}

std::uint64_t get64(const char* p) {
  std::uint64_t x = 0;
  for (int i = 7; i >= 0; --i)
    x = (x << 8) | static_cast<unsigned char>(p[i]);
  return x;
}

std::string hex32(std::uint32_t x) {
  char buf[9];
  std::snprintf(buf, sizeof(buf), "%08x", x);
  return buf;
}

/// Strict decimal: digits only, no leading zero (except "0"), fits in 64 bits.
bool parse_decimal(const std::string& s, std::uint64_t& out) {
  if (s.empty() || s.size() > 19 || (s.size() > 1 && s[0] == '0'))
    return false;
  out = 0;
  for (char c : s) {
    if (c < '0' || c > '9')
      return false;
    out = out * 10 + static_cast<std::uint64_t>(c - '0');
  }
  return true;
}

/// Outcome of decoding one record at an offset.
enum class record_status { ok, tail_candidate, corrupt };

/// Decodes the record at `off`. On ok: `e` and `size` are set. Otherwise
/// `why` says what is wrong; `tail_candidate` means a crash during an append
/// could have left it so (incomplete, bad length, CRC mismatch).
record_status decode_record(const std::string& bytes, std::uint64_t off,
                            index_t expected, log_entry& e,
                            std::uint32_t& size, std::string& why) {
  auto avail = bytes.size() - off;
  if (avail < record_header_bytes) {
    why = "incomplete record header (" + std::to_string(avail) + " of "
          + std::to_string(record_header_bytes) + " bytes)";
    return record_status::tail_candidate;
  }
  auto p = bytes.data() + off;
  auto len = get32(p);
  if (len == 0 || len > max_record_bytes) {
    why = "record length " + std::to_string(len) + " outside 1.."
          + std::to_string(max_record_bytes);
    return record_status::tail_candidate;
  }
  if (avail - record_header_bytes < len) {
    why = "incomplete record (" + std::to_string(avail - record_header_bytes)
          + " of " + std::to_string(len) + " payload bytes)";
    return record_status::tail_candidate;
  }
  if (crc32({p + record_header_bytes, len}) != get32(p + 4)) {
    why = "CRC mismatch";
    return record_status::tail_candidate;
  }
  try {
    std::istringstream is{std::string{p + record_header_bytes, len}};
    boost::archive::binary_iarchive ar{is, boost::archive::no_header};
    ar >> e;
  } catch (const std::exception& ex) {
    why = std::string{"CRC-valid record does not deserialise ("} + ex.what()
          + ")";
    return record_status::corrupt;
  }
  if (e.index != expected) {
    why = "CRC-valid record holds entry " + to_string(e.index) + " where "
          + to_string(expected) + " was expected";
    return record_status::corrupt;
  }
  size = static_cast<std::uint32_t>(record_header_bytes + len);
  return record_status::ok;
}

/// True when a valid record (sane length, CRC ok, deserialises, index >=
/// `min_index`) starts at some offset in (from, end); sets `at`.
bool valid_record_after(const std::string& bytes, std::uint64_t from,
                        index_t min_index, std::uint64_t& at) {
  for (auto off = from + 1; off + record_header_bytes < bytes.size(); ++off) {
    auto p = bytes.data() + off;
    auto len = get32(p);
    if (len == 0 || len > max_record_bytes
        || len > bytes.size() - off - record_header_bytes)
      continue;
    if (crc32({p + record_header_bytes, len}) != get32(p + 4))
      continue;
    try {
      log_entry e;
      std::istringstream is{std::string{p + record_header_bytes, len}};
      boost::archive::binary_iarchive ar{is, boost::archive::no_header};
      ar >> e;
      if (e.index >= min_index) {
        at = off;
        return true;
      }
    } catch (const std::exception&) {
      // not a record
    }
  }
  return false;
}

} // namespace

// -- IDENTITY -------------------------------------------------------------------

bool valid_cluster_id(const std::string& id) {
  if (id.empty() || id.size() > 64)
    return false;
  for (unsigned char c : id)
    if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z')
          || (c >= '0' && c <= '9') || c == '.' || c == '_' || c == '-'))
      return false;
  return true;
}

std::string encode_identity(const identity& x) {
  std::string body = std::string{identity_magic} + "\nformat "
                     + std::to_string(x.format_version) + "\ncluster "
                     + x.cluster_id + "\nnode " + to_string(x.node) + "\n";
  return body + "crc32 " + hex32(crc32(body)) + "\n";
}

identity decode_identity(const std::string& bytes) {
  std::vector<std::string> lines;
  std::string::size_type start = 0;
  while (start < bytes.size()) {
    auto nl = bytes.find('\n', start);
    if (nl == std::string::npos)
      throw format_error("malformed (last line has no newline)");
    lines.push_back(bytes.substr(start, nl - start));
    start = nl + 1;
  }
  if (lines.empty() || lines[0] != identity_magic)
    throw format_error("not a caf-raft IDENTITY file (bad magic)");
  std::uint64_t ver = 0;
  if (lines.size() < 2 || lines[1].compare(0, 7, "format ") != 0
      || !parse_decimal(lines[1].substr(7), ver))
    throw format_error("malformed format line");
  if (ver != version)
    throw format_error("unknown format version " + std::to_string(ver)
                       + " (this build reads version "
                       + std::to_string(version) + ")");
  if (lines.size() != 5 || lines[2].compare(0, 8, "cluster ") != 0
      || lines[3].compare(0, 5, "node ") != 0
      || lines[4].compare(0, 6, "crc32 ") != 0)
    throw format_error("malformed (expected 5 lines: magic, format, cluster, "
                       "node, crc32)");
  identity x;
  x.format_version = static_cast<std::uint32_t>(ver);
  x.cluster_id = lines[2].substr(8);
  std::uint64_t node = 0;
  if (!parse_decimal(lines[3].substr(5), node) || node == 0
      || node > 0xffffffffu)
    throw format_error("malformed node line");
  x.node = server_id{static_cast<std::uint32_t>(node)};
  // Re-encoding must give the same bytes: this checks the CRC and rejects
  // any other spelling (upper-case hex, extra spaces, a bad cluster id).
  if (!valid_cluster_id(x.cluster_id) || encode_identity(x) != bytes)
    throw format_error("CRC mismatch or malformed content");
  return x;
}

// -- HARDSTATE ------------------------------------------------------------------

std::string encode_hard_state(const hard_state_record& x) {
  std::string out{hard_state_magic, 8};
  put32(out, version);
  put32(out, 0);
  put64(out, x.hard.current_term.value);
  put32(out, x.hard.voted_for.value);
  put32(out, 0);
  put64(out, x.base.term.value);
  put64(out, x.base.index.value);
  put32(out, crc32(out));
  return out;
}

hard_state_record decode_hard_state(const std::string& bytes) {
  if (bytes.size() != hard_state_bytes)
    throw format_error("size " + std::to_string(bytes.size()) + " bytes, not "
                       + std::to_string(hard_state_bytes));
  auto p = bytes.data();
  if (std::memcmp(p, hard_state_magic, 8) != 0)
    throw format_error("bad magic");
  if (auto v = get32(p + 8); v != version)
    throw format_error("unknown format version " + std::to_string(v)
                       + " (this build reads version "
                       + std::to_string(version) + ")");
  if (crc32({p, 48}) != get32(p + 48))
    throw format_error("CRC mismatch");
  if (get32(p + 12) != 0 || get32(p + 28) != 0)
    throw format_error("reserved bytes are not zero");
  hard_state_record x;
  x.hard.current_term = term_t{get64(p + 16)};
  x.hard.voted_for = server_id{get32(p + 24)};
  x.base.term = term_t{get64(p + 32)};
  x.base.index = index_t{get64(p + 40)};
  return x;
}

// -- segments -------------------------------------------------------------------

std::string segment_name(index_t first) {
  char buf[40];
  std::snprintf(buf, sizeof(buf), "log-%020llu.seg",
                static_cast<unsigned long long>(first.value));
  return buf;
}

std::optional<index_t> parse_segment_name(const std::string& name) {
  if (name.size() != 28 || name.compare(0, 4, "log-") != 0
      || name.compare(24, 4, ".seg") != 0)
    return std::nullopt;
  std::uint64_t x = 0;
  for (std::size_t i = 4; i < 24; ++i) {
    char c = name[i];
    if (c < '0' || c > '9')
      return std::nullopt;
    if (x > (UINT64_MAX - 9) / 10)
      return std::nullopt;
    x = x * 10 + static_cast<std::uint64_t>(c - '0');
  }
  return index_t{x};
}

std::string encode_segment_header(index_t first) {
  std::string out{segment_magic, 8};
  put32(out, version);
  put32(out, 0);
  put64(out, first.value);
  put32(out, crc32(out));
  put32(out, 0);
  return out;
}

std::string encode_record(const log_entry& e) {
  std::ostringstream os;
  {
    boost::archive::binary_oarchive ar{os, boost::archive::no_header};
    ar << e;
  }
  auto payload = os.str();
  std::string out;
  out.reserve(record_header_bytes + payload.size());
  put32(out, static_cast<std::uint32_t>(payload.size()));
  put32(out, crc32(payload));
  out += payload;
  return out;
}

segment_scan scan_segment(const std::string& bytes, index_t first, bool last) {
  segment_scan r;
  auto defect = [&](std::uint64_t off, std::string why, bool tail) {
    r.bad = true;
    r.bad_offset = off;
    r.bad_reason = std::move(why);
    r.bad_is_tail = last && tail;
  };
  if (bytes.size() < segment_header_bytes) {
    r.header_incomplete = true;
    defect(0,
           "incomplete segment header (" + std::to_string(bytes.size())
             + " of " + std::to_string(segment_header_bytes) + " bytes)",
           true);
    return r;
  }
  auto p = bytes.data();
  if (std::memcmp(p, segment_magic, 8) != 0) {
    defect(0, "bad segment magic", false);
    return r;
  }
  if (auto v = get32(p + 8); v != version) {
    defect(8,
           "unknown format version " + std::to_string(v)
             + " (this build reads version " + std::to_string(version) + ")",
           false);
    return r;
  }
  if (crc32({p, 24}) != get32(p + 24) || get32(p + 12) != 0
      || get32(p + 28) != 0) {
    defect(0, "segment header CRC mismatch", false);
    return r;
  }
  if (index_t{get64(p + 16)} != first) {
    defect(16,
           "header says first index " + std::to_string(get64(p + 16))
             + " but the file name says " + to_string(first),
           false);
    return r;
  }
  std::uint64_t off = segment_header_bytes;
  auto expected = first;
  while (off < bytes.size()) {
    log_entry e;
    std::uint32_t size = 0;
    std::string why;
    auto st = decode_record(bytes, off, expected, e, size, why);
    if (st != record_status::ok) {
      std::uint64_t at = 0;
      if (!last) {
        defect(off, why + " in a segment followed by later segments "
                          "(corruption, not a torn write)", false);
      } else if (st == record_status::corrupt) {
        defect(off, why + " (corruption, not a torn write)", false);
      } else if (valid_record_after(bytes, off, expected, at)) {
        defect(off, why + " in a record that is followed by a valid record "
                          "at offset " + std::to_string(at)
                      + " (corruption, not a torn write)", false);
      } else {
        defect(off, why, true);
      }
      break;
    }
    r.entries.push_back(std::move(e));
    r.positions.push_back(record_pos{off, size});
    off += size;
    expected = expected.next();
  }
  r.good_end = r.positions.empty()
                 ? segment_header_bytes
                 : r.positions.back().offset + r.positions.back().bytes;
  return r;
}

// -- snapshots ------------------------------------------------------------------

std::string snapshot_name(log_id last_included) {
  char buf[64];
  std::snprintf(buf, sizeof(buf), "snapshot-%020llu-%020llu.snap",
                static_cast<unsigned long long>(last_included.index.value),
                static_cast<unsigned long long>(last_included.term.value));
  return buf;
}

std::optional<log_id> parse_snapshot_name(const std::string& name) {
  // "snapshot-" (9) + 20 digits + "-" + 20 digits + ".snap" (5) = 55
  if (name.size() != 55 || name.compare(0, 9, "snapshot-") != 0
      || name[29] != '-' || name.compare(50, 5, ".snap") != 0)
    return std::nullopt;
  auto number = [&](std::size_t from, std::uint64_t& x) {
    x = 0;
    for (auto i = from; i < from + 20; ++i) {
      char c = name[i];
      if (c < '0' || c > '9' || x > (UINT64_MAX - 9) / 10)
        return false;
      x = x * 10 + static_cast<std::uint64_t>(c - '0');
    }
    return true;
  };
  std::uint64_t index = 0;
  std::uint64_t term = 0;
  if (!number(9, index) || !number(30, term))
    return std::nullopt;
  return log_id{term_t{term}, index_t{index}};
}

std::string encode_snapshot_header(log_id last_included, std::uint64_t size,
                                   std::uint32_t data_crc) {
  std::string out{snapshot_magic, 8};
  put32(out, version);
  put32(out, 0);
  put64(out, last_included.index.value);
  put64(out, last_included.term.value);
  put64(out, size);
  put32(out, data_crc);
  put32(out, crc32(out));
  return out;
}

std::string encode_snapshot(const snapshot_install& x) {
  std::string out;
  out.reserve(snapshot_header_bytes + x.data.size());
  out = encode_snapshot_header(x.last_included, x.data.size(),
                               crc32(x.data));
  out += x.data;
  return out;
}

snapshot_scan decode_snapshot(const std::string& bytes, log_id expected) {
  snapshot_scan r;
  auto defect = [&](std::uint64_t off, std::string why) {
    r.bad_offset = off;
    r.bad_reason = std::move(why);
    return r;
  };
  if (bytes.size() < snapshot_header_bytes)
    return defect(0, "incomplete snapshot header ("
                       + std::to_string(bytes.size()) + " of "
                       + std::to_string(snapshot_header_bytes) + " bytes)");
  auto p = bytes.data();
  if (std::memcmp(p, snapshot_magic, 8) != 0)
    return defect(0, "bad snapshot magic");
  if (auto v = get32(p + 8); v != version)
    return defect(8, "unknown format version " + std::to_string(v)
                       + " (this build reads version "
                       + std::to_string(version) + ")");
  if (crc32({p, 44}) != get32(p + 44) || get32(p + 12) != 0)
    return defect(0, "snapshot header CRC mismatch");
  log_id at{term_t{get64(p + 24)}, index_t{get64(p + 16)}};
  if (at != expected)
    return defect(16, "header says index " + to_string(at.index) + " term "
                        + to_string(at.term) + " but the file name says index "
                        + to_string(expected.index) + " term "
                        + to_string(expected.term));
  auto size = get64(p + 32);
  r.data_bytes = size;
  if (bytes.size() - snapshot_header_bytes != size)
    return defect(snapshot_header_bytes,
                  "data is " + std::to_string(bytes.size()
                                              - snapshot_header_bytes)
                    + " bytes but the header says " + std::to_string(size));
  if (crc32({p + snapshot_header_bytes, size}) != get32(p + 40))
    return defect(snapshot_header_bytes, "snapshot data CRC mismatch");
  r.ok = true;
  r.snapshot.last_included = at;
  r.snapshot.data.assign(p + snapshot_header_bytes, size);
  return r;
}

} // namespace raft::persistence::format
