// raft::persistence::format -- the on-disk format of disk_store (one data
// directory per node), and the pure functions that encode, decode and scan
// it. No I/O here: disk_store (reads, writes, recovery) and
// inspect_directory (read-only) both build on these functions. Also
// specified in docs/storage-format.md.
//
// A data directory holds (all integers little-endian):
//
//   IDENTITY   text, written once at initialisation (temp, fsync, rename,
//              fsync dir), exactly these five lines:
//                caf-raft data directory
//                format 1
//                cluster <cluster id: [A-Za-z0-9._-]{1,64}>
//                node <server id, decimal, >= 1>
//                crc32 <8 lowercase hex digits: CRC-32 of the 4 lines above>
//              A "format N" with N != 1 is refused as an unknown version.
//   LOCK       flock(LOCK_EX|LOCK_NB)ed while a disk_store has the directory
//              open; holds the owner's pid as decimal text (informational).
//   HARDSTATE  52 bytes, replaced atomically (HARDSTATE.tmp, fsync, rename,
//              fsync dir) whenever the hard state changes:
//                 0  8  magic "CRAFTHST"
//                 8  4  format version (1)
//                12  4  reserved (0)
//                16  8  current_term
//                24  4  voted_for (0 = nobody)
//                28  4  reserved (0)
//                32  8  base.term   } the position the log follows: the last
//                40  8  base.index  } entry of the snapshot ({0,0}: none yet)
//                48  4  CRC-32 of bytes [0, 48)
//   log-<first index, 20 decimal digits>.seg   the log, in segments. Each
//              starts with a 32-byte header:
//                 0  8  magic "CRAFTLOG"
//                 8  4  format version (1)
//                12  4  reserved (0)
//                16  8  index of the first entry (equals the file name)
//                24  4  CRC-32 of bytes [0, 24)
//                28  4  reserved (0)
//              then records, back to back:
//                [u32 len][u32 crc32(payload)][payload: len bytes]
//              payload = boost::archive::binary_oarchive(os, no_header) of one
//              log_entry (persistence/serialization.hpp); 0 < len <= 64 MiB.
//              Entry indexes are consecutive within and across segments; the
//              first segment starts at base.index + 1. A new segment is
//              started once the active one reaches disk_options::segment_bytes.
//              After a snapshot install the first segment may start earlier
//              than base.index + 1 (the segment holding base.index + 1 is
//              kept whole); entries <= base.index in it are skipped.
//   snapshot-<20-digit last included index>-<20-digit term>.snap   the
//              snapshot named by HARDSTATE's base (at most one is in use).
//              Written as <name>.tmp, fsync, rename, fsync dir BEFORE the
//              HARDSTATE that names it (the HARDSTATE rename is the commit
//              point). A 48-byte header, then the data:
//                 0  8  magic "CRAFTSNP"
//                 8  4  format version (1)
//                12  4  reserved (0)
//                16  8  last_included.index (equals the file name)
//                24  8  last_included.term  (equals the file name)
//                32  8  data size in bytes (file size = 48 + data size)
//                40  4  CRC-32 of the data
//                44  4  CRC-32 of bytes [0, 44)
//
// Install order (sync): snapshot file (temp, fsync, rename, fsync dir), then
// HARDSTATE with the new base (commit point), then older snapshot files
// unlinked, then the log: if it held last_included with the same term, the
// segments whose entries are all <= base are unlinked (oldest first, each
// unlink made durable before the next); otherwise every segment is unlinked
// (newest first, same), and the next append starts log-<base.index + 1>.
//
// Recovery rules: a record is bad when its 8-byte frame is incomplete, len is
// 0 or above the bound, the payload is incomplete, the CRC does not match, the
// payload does not deserialise, or the entry's index is not the next one.
// A bad record in the last segment is a *torn tail* (an unacknowledged write
// cut short by a crash) only if no valid record starts at any later byte
// offset of that file and the bad record is not itself a complete, CRC-valid
// record; the tail is then truncated away and reported. A last segment shorter
// than its header is dropped the same way. Every other defect is corruption and
// recovery refuses to open the directory. CRC-32 is raft::crc32
// (messages/crc32.hpp).
//
// Snapshot recovery rules: when base.index > 0 the file named by base must
// exist, decode and pass both CRCs, else open() refuses. Snapshot files not
// named by HARDSTATE (a crash between the snapshot write and HARDSTATE, or
// before an older one was unlinked) and *.tmp files are removed at open. The
// first segment must start at or before base.index + 1; entries <= base.index
// are skipped. If the log holds base.index with another term than base.term,
// it is the leftover of an install that dropped the log (a crash before all
// segments were unlinked): every segment is unlinked. Segments holding only
// entries <= base.index (an interrupted compaction) are unlinked.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

#include "messages/ids.hpp"
#include "messages/log_entry.hpp"
#include "messages/node_messages.hpp"

namespace raft::persistence::format {

// -- constants ------------------------------------------------------------------

inline constexpr std::uint32_t version = 1;
inline constexpr const char* identity_file = "IDENTITY";
inline constexpr const char* lock_file = "LOCK";
inline constexpr const char* hard_state_file = "HARDSTATE";
inline constexpr const char* tmp_suffix = ".tmp";
inline constexpr std::size_t hard_state_bytes = 52;
inline constexpr std::size_t segment_header_bytes = 32;
inline constexpr std::size_t record_header_bytes = 8;
inline constexpr std::uint32_t max_record_bytes = 64u << 20;
inline constexpr std::size_t snapshot_header_bytes = 48;

/// A file whose content breaks the format; what() says why (no file name).
class format_error : public std::runtime_error {
public:
  using std::runtime_error::runtime_error;
};

// -- IDENTITY -------------------------------------------------------------------

struct identity {
  std::uint32_t format_version = version;
  std::string cluster_id;
  server_id node;
};

/// True for [A-Za-z0-9._-]{1,64}.
bool valid_cluster_id(const std::string& id);

std::string encode_identity(const identity& x);

/// Throws format_error (bad magic, unknown version, malformed, CRC).
identity decode_identity(const std::string& bytes);

// -- HARDSTATE ------------------------------------------------------------------

struct hard_state_record {
  hard_state hard;
  log_id base;
};

std::string encode_hard_state(const hard_state_record& x);

/// Throws format_error.
hard_state_record decode_hard_state(const std::string& bytes);

// -- segments -------------------------------------------------------------------

/// "log-00000000000000000001.seg" for index 1.
std::string segment_name(index_t first);

/// The first index a segment file name stands for; nullopt for other names.
std::optional<index_t> parse_segment_name(const std::string& name);

std::string encode_segment_header(index_t first);

/// One framed record: frame + payload.
std::string encode_record(const log_entry& e);

/// Where a valid record lies in its segment file.
struct record_pos {
  std::uint64_t offset = 0;
  /// Frame + payload.
  std::uint32_t bytes = 0;
};

/// What scan_segment found in one segment file.
struct segment_scan {
  /// The valid records, in order, and where they are.
  log_entries entries;
  std::vector<record_pos> positions;
  /// Offset just past the last valid record (the header size if none).
  std::uint64_t good_end = 0;
  /// The file is shorter than a segment header.
  bool header_incomplete = false;
  /// A defect was found at bad_offset (header or record).
  bool bad = false;
  std::uint64_t bad_offset = 0;
  std::string bad_reason;
  /// The defect is a torn tail (only possible when scanning the last
  /// segment): truncating to bad_offset (or dropping a file whose header is
  /// incomplete) loses only an unacknowledged write.
  bool bad_is_tail = false;
};

/// Scans the content of a segment file whose name says `first`. The header
/// must be valid and name `first`; records must carry first, first + 1, ...
/// `last`: the file is the last segment (so a bad record may be a torn tail).
segment_scan scan_segment(const std::string& bytes, index_t first, bool last);

// -- snapshots ------------------------------------------------------------------

/// "snapshot-00000000000000000007-00000000000000000002.snap" for {term 2,
/// index 7}.
std::string snapshot_name(log_id last_included);

/// The position a snapshot file name stands for; nullopt for other names.
std::optional<log_id> parse_snapshot_name(const std::string& name);

/// Header + data.
std::string encode_snapshot(const snapshot_install& x);

/// The 48-byte header of a snapshot file holding `size` bytes of data with
/// CRC-32 `data_crc` (encode_snapshot = header + data).
std::string encode_snapshot_header(log_id last_included, std::uint64_t size,
                                   std::uint32_t data_crc);

/// The staging file of a snapshot being received (a *.tmp: open() removes
/// it, so a transfer interrupted by a crash leaves nothing behind).
inline constexpr const char* snapshot_staging_file = "snapshot-incoming.tmp";

/// What decode_snapshot found; on a defect, where and why.
struct snapshot_scan {
  bool ok = false;
  snapshot_install snapshot;
  std::uint64_t bad_offset = 0;
  std::string bad_reason;
  /// Size of the data as the header says (0 when the header is bad).
  std::uint64_t data_bytes = 0;
};

/// Decodes a snapshot file; `expected` is the position its name stands for
/// (the header must agree). Never throws.
snapshot_scan decode_snapshot(const std::string& bytes, log_id expected);

} // namespace raft::persistence::format
