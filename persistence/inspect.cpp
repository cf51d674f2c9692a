// inspect_directory: the read-only view of a data directory (raft-inspect).
// Same checks as disk_store recovery, but it never writes, never takes LOCK
// and never truncates: it reports the first problem instead.
#include "persistence/disk_store.hpp"

#include <algorithm>
#include <map>
#include <string_view>

namespace raft::persistence {

inspection inspect_directory(const std::string& dir_arg,
                             std::shared_ptr<file_system> fs) {
  if (!fs)
    fs = default_file_system();
  auto dir = dir_arg;
  while (dir.size() > 1 && dir.back() == '/')
    dir.pop_back();
  auto path = [&](const std::string& name) { return dir + "/" + name; };
  inspection r;
  auto bad = [&](const std::string& file, std::uint64_t offset,
                 const std::string& why, bool tail) {
    if (!r.ok)
      return; // keep the first problem
    r.ok = false;
    r.bad_file = file;
    r.bad_offset = offset;
    r.bad_reason = why;
    r.bad_is_tail = tail;
  };
  auto names = fs->list_directory(dir);
  auto has = [&](const char* name) {
    return std::find(names.begin(), names.end(), name) != names.end();
  };
  // IDENTITY
  if (has(format::identity_file)) {
    r.has_identity = true;
    try {
      auto id =
        format::decode_identity(fs->read_file(path(format::identity_file)));
      r.format_version = id.format_version;
      r.cluster_id = id.cluster_id;
      r.node = id.node;
    } catch (const std::exception& e) {
      bad(format::identity_file, 0, e.what(), false);
      return r;
    }
  }
  // HARDSTATE
  if (has(format::hard_state_file)) {
    r.has_hard_state = true;
    try {
      auto hs = format::decode_hard_state(
        fs->read_file(path(format::hard_state_file)));
      r.hard = hs.hard;
      r.base = hs.base;
    } catch (const std::exception& e) {
      bad(format::hard_state_file, 0, e.what(), false);
      return r;
    }
  }
  r.first_index = r.base.index.next();
  r.last_index = r.base.index;
  // Snapshot: the file HARDSTATE's base names, with both CRCs checked.
  for (auto& n : names) {
    std::string_view sv{n};
    std::string_view tmp{format::tmp_suffix};
    if (sv.size() > tmp.size() && sv.substr(sv.size() - tmp.size()) == tmp)
      r.temp_files.push_back(n);
  }
  for (auto& n : names)
    if (auto at = format::parse_snapshot_name(n))
      if (r.base.index == index_t{} || *at != r.base)
        r.orphan_snapshots.push_back(n);
  if (r.base.index != index_t{}) {
    r.snapshot_file = format::snapshot_name(r.base);
    std::string bytes;
    r.snapshot_present = has(r.snapshot_file.c_str());
    if (!r.snapshot_present) {
      bad(r.snapshot_file, 0,
          "missing, although HARDSTATE says the log follows a snapshot "
          "through index " + to_string(r.base.index) + " term "
            + to_string(r.base.term),
          false);
    } else {
      try {
        bytes = fs->read_file(path(r.snapshot_file));
      } catch (const std::exception& e) {
        bad(r.snapshot_file, 0, e.what(), false);
      }
    }
    auto scan = format::decode_snapshot(bytes, r.base);
    r.snapshot_bytes = scan.data_bytes;
    r.snapshot_crc_ok = scan.ok;
    if (!scan.ok) // reported; the segments are still listed
      bad(r.snapshot_file, scan.bad_offset, scan.bad_reason, false);
  }
  // Segments
  std::map<std::uint64_t, std::string> files;
  for (auto& n : names)
    if (auto first = format::parse_segment_name(n))
      files.emplace(first->value, n);
  auto expected = r.base.index.next();
  std::size_t k = 0;
  for (auto& [first_value, name] : files) {
    bool last = ++k == files.size();
    index_t first{first_value};
    if (r.segments.empty() && first < expected)
      expected = first; // may hold entries <= base, which are skipped
    if (first != expected) {
      bad(name, 0,
          "gap in segment indexes: expected a segment starting at "
            + to_string(expected) + ", found one starting at "
            + to_string(first),
          false);
      return r;
    }
    std::string bytes;
    try {
      bytes = fs->read_file(path(name));
    } catch (const std::exception& e) {
      bad(name, 0, e.what(), false);
      return r;
    }
    auto scan = format::scan_segment(bytes, first, last);
    segment_info info;
    info.file = name;
    info.first_index = first;
    info.last_index = index_t{first.value - 1 + scan.entries.size()};
    info.bytes = bytes.size();
    info.records = scan.entries.size();
    r.segments.push_back(info);
    for (auto& e : scan.entries) {
      if (e.index <= r.base.index) {
        if (e.index == r.base.index && e.term != r.base.term)
          r.stale_log = true;
        continue;
      }
      r.entries.push_back(std::move(e));
    }
    if (r.stale_log)
      r.entries.clear();
    r.last_index = r.entries.empty() ? r.base.index : r.entries.back().index;
    if (scan.bad) {
      bad(name, scan.bad_offset, scan.bad_reason, scan.bad_is_tail);
      return r;
    }
    expected = info.last_index.next();
  }
  return r;
}

} // namespace raft::persistence
