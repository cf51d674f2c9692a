// raft-inspect DATA_DIR: what a node's data directory holds -- identity,
// hard state, snapshot (file, index, term, size), log range and segments --
// after verifying every record's and the snapshot's CRC. Read-only: never
// writes, never takes the LOCK, never truncates, so it is safe on the
// directory of a running node.
//
// Exit status (also in --help):
//   0  every record verified
//   1  corruption: a bad record that is not a torn tail, or a snapshot file
//      that is missing or fails its CRC (the node would refuse to start); the
//      file and offset are printed
//   2  bad usage
//   3  only a torn tail: the last record is incomplete or fails its CRC and
//      nothing valid follows (the node would drop it on start and report it)
//   4  not a caf-raft data directory, or it cannot be read
#include <iostream>
#include <sstream>
#include <string>

#include "messages/to_string.hpp"
#include "persistence/disk_store.hpp"
#include "apps/json_string.hpp"

namespace {

using raft::persistence::inspection;
using raft::apps::json_string;

constexpr int exit_ok = 0;
constexpr int exit_corrupt = 1;
constexpr int exit_usage = 2;
constexpr int exit_torn_tail = 3;
constexpr int exit_unreadable = 4;

void print_help() {
  std::cout
    << "usage: raft-inspect [--json] DATA_DIR\n"
       "\n"
       "Shows a caf-raft node's data directory: identity (format version,\n"
       "cluster id, node id), hard state (current term, vote), snapshot\n"
       "(file, last included index and term, size), log range and segments.\n"
       "Verifies the CRC of every record and of the snapshot.\n"
       "Read-only; safe while the node runs.\n"
       "\n"
       "  --json   one JSON object on stdout instead of text\n"
       "  --help   this text\n"
       "\n"
       "Exit status: 0 all records verified; 1 corruption (file and offset\n"
       "printed; the node refuses to start); 2 bad usage; 3 only a torn tail\n"
       "(the node drops it on start); 4 not a data directory or unreadable.\n";
}

int status_of(const inspection& x) {
  if (!x.has_identity)
    return exit_unreadable;
  if (x.ok)
    return exit_ok;
  return x.bad_is_tail ? exit_torn_tail : exit_corrupt;
}

std::string verdict(const inspection& x) {
  if (!x.has_identity)
    return "not a caf-raft data directory (no IDENTITY)";
  if (x.ok)
    return "ok: every record verified";
  std::ostringstream os;
  os << (x.bad_is_tail ? "torn tail" : "CORRUPT") << ": " << x.bad_file
     << " offset " << x.bad_offset << ": " << x.bad_reason;
  if (x.bad_is_tail)
    os << " (the node drops this unacknowledged tail on start)";
  else
    os << " (the node refuses to start; restore it from a backup or wipe"
          " the directory and let it rejoin)";
  return os.str();
}

void print_text(const std::string& dir, const inspection& x) {
  std::cout << "data directory  " << dir << "\n";
  if (x.has_identity)
    std::cout << "identity        format " << x.format_version << ", cluster "
              << x.cluster_id << ", node " << raft::to_string(x.node) << "\n";
  if (x.has_hard_state)
    std::cout << "hard state      term " << raft::to_string(x.hard.current_term)
              << ", voted for "
              << (x.hard.voted_for == raft::no_server
                    ? std::string{"nobody"}
                    : raft::to_string(x.hard.voted_for))
              << "\n";
  else
    std::cout << "hard state      none yet (term 0, no vote)\n";
  if (x.base.index.value == 0)
    std::cout << "snapshot        none (the log starts at index 1)\n";
  else
    std::cout << "snapshot        through index "
              << raft::to_string(x.base.index) << " (term "
              << raft::to_string(x.base.term) << "), " << x.snapshot_file
              << ", "
              << (!x.snapshot_present ? std::string{"MISSING"}
                  : x.snapshot_crc_ok
                    ? std::to_string(x.snapshot_bytes) + " bytes, CRC ok"
                    : std::string{"CRC BAD"})
              << "\n";
  for (auto& f : x.orphan_snapshots)
    std::cout << "  orphan " << f << " (not named by HARDSTATE; removed on "
                 "start)\n";
  for (auto& f : x.temp_files)
    std::cout << "  temp file " << f
              << (f == raft::persistence::format::snapshot_staging_file
                    ? " (a snapshot transfer a crash interrupted"
                    : " (a replacement a crash interrupted")
              << "; not state, removed on start)\n";
  if (x.stale_log)
    std::cout << "  the log holds the snapshot's index with another term: "
                 "leftover of an interrupted install, dropped on start\n";
  if (x.entries.empty())
    std::cout << "log             empty\n";
  else
    std::cout << "log             " << raft::to_string(x.first_index) << ".."
              << raft::to_string(x.last_index) << " (" << x.entries.size()
              << " entries, last term "
              << raft::to_string(x.entries.back().term) << ")\n";
  std::cout << "segments        " << x.segments.size() << "\n";
  for (auto& s : x.segments) {
    std::cout << "  " << s.file << "  ";
    if (s.records == 0)
      std::cout << "no records";
    else
      std::cout << raft::to_string(s.first_index) << ".."
                << raft::to_string(s.last_index);
    std::cout << "  " << s.records << " records, " << s.bytes << " bytes\n";
  }
  std::cout << "verdict         " << verdict(x) << "\n";
}

void print_json(const std::string& dir, const inspection& x) {
  std::ostringstream os;
  os << "{\"dir\":" << json_string(dir);
  os << ",\"identity\":";
  if (x.has_identity)
    os << "{\"format_version\":" << x.format_version
       << ",\"cluster_id\":" << json_string(x.cluster_id)
       << ",\"node\":" << x.node.value << "}";
  else
    os << "null";
  os << ",\"hard_state\":{\"current_term\":" << x.hard.current_term.value
     << ",\"voted_for\":"
     << (x.hard.voted_for == raft::no_server
           ? std::string{"null"}
           : std::to_string(x.hard.voted_for.value))
     << "}";
  os << ",\"snapshot\":";
  if (x.base.index.value == 0)
    os << "null";
  else
    os << "{\"index\":" << x.base.index.value
       << ",\"term\":" << x.base.term.value
       << ",\"file\":" << json_string(x.snapshot_file)
       << ",\"size\":" << x.snapshot_bytes
       << ",\"crc_ok\":" << (x.snapshot_crc_ok ? "true" : "false") << "}";
  os << ",\"log\":{\"entries\":" << x.entries.size();
  if (!x.entries.empty())
    os << ",\"first_index\":" << x.first_index.value
       << ",\"last_index\":" << x.last_index.value
       << ",\"last_term\":" << x.entries.back().term.value;
  os << "},\"segments\":[";
  const char* sep = "";
  for (auto& s : x.segments) {
    os << sep << "{\"file\":" << json_string(s.file)
       << ",\"records\":" << s.records << ",\"bytes\":" << s.bytes;
    if (s.records > 0)
      os << ",\"first_index\":" << s.first_index.value
         << ",\"last_index\":" << s.last_index.value;
    os << "}";
    sep = ",";
  }
  os << "],\"temp_files\":[";
  sep = "";
  for (auto& f : x.temp_files) {
    os << sep << json_string(f);
    sep = ",";
  }
  os << "],\"ok\":" << (x.ok && x.has_identity ? "true" : "false");
  if (!x.ok)
    os << ",\"bad\":{\"file\":" << json_string(x.bad_file)
       << ",\"offset\":" << x.bad_offset
       << ",\"reason\":" << json_string(x.bad_reason)
       << ",\"torn_tail\":" << (x.bad_is_tail ? "true" : "false") << "}";
  os << ",\"verdict\":" << json_string(verdict(x)) << "}";
  std::cout << os.str() << "\n";
}

} // namespace

int main(int argc, char** argv) {
  bool json = false;
  std::string dir;
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    if (a == "--help" || a == "-h") {
      print_help();
      return exit_ok;
    }
    if (a == "--json") {
      json = true;
    } else if (!a.empty() && a[0] == '-') {
      std::cerr << "raft-inspect: unknown option " << a
                << " (see raft-inspect --help)\n";
      return exit_usage;
    } else if (dir.empty()) {
      dir = a;
    } else {
      std::cerr << "raft-inspect: one DATA_DIR only (see raft-inspect "
                   "--help)\n";
      return exit_usage;
    }
  }
  if (dir.empty()) {
    std::cerr << "raft-inspect: missing DATA_DIR (see raft-inspect --help)\n";
    return exit_usage;
  }
  inspection x;
  try {
    x = raft::persistence::inspect_directory(dir);
  } catch (const std::exception& e) {
    std::cerr << "raft-inspect: " << e.what() << "\n";
    return exit_unreadable;
  }
  if (json)
    print_json(dir, x);
  else
    print_text(dir, x);
  if (!x.has_identity && !json)
    std::cerr << "raft-inspect: " << dir
              << " has no IDENTITY file: not a caf-raft data directory\n";
  return status_of(x);
}
