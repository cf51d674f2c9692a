// raft::kv -- the snapshot codec: the whole kv_state (data AND sessions, so
// exactly-once survives a restart or an InstallSnapshot) as opaque bytes for
// Raft (6.5840 Snapshot(index, bytes)).
//
// Encoding (version 1); varint and string as in kv_command.hpp:
//
//   snapshot := magic:u8 'K'  magic:u8 'V'  version:u8 = 1
//               last_index:varint
//               n_keys:varint      n_keys x (key:string value:string)
//               n_sessions:varint  n_sessions x session
//   session  := client_id:varint  last_seq:varint  last_index:varint
//               kind:u8 (op; 5 = open iff last_seq 0: a session opened
//                        but not used yet)  error:u8 (errc)  reason:u8
//               flags:u8 (bit 0 found, bit 1 ok; bits 2-7 zero)
//
// Deterministic: keys and client ids in ascending order (std::map order),
// so equal states give byte-identical snapshots on every replica. A store
// with one short key and two sessions takes about 50 bytes (kvraft's
// TestSnapshotSize3B allows 500).
//
// Session ids are the log indexes of their opens, but stores written before
// op::open hold client-chosen ids; the decoder takes any non-zero id, so
// such snapshots still load (the version byte did not change: the layout is
// the same, only last_seq 0 with kind open is new, which older code
// rejects).
//
// decode_snapshot is strict and never throws or reads out of bounds; it
// returns std::nullopt for a wrong magic or version, truncation, trailing
// bytes, keys or client ids not strictly ascending, an empty key, client id
// 0, seq 0 without kind open (or kind open with seq != 0), a session
// last_index > last_index, an unknown op, errc or reason, an errc that
// does not match its reason, or a reserved flag bit.
// The bytes carry no checksum: the persister frames and checks them.
// Limits are not enforced on decode (a snapshot written under larger limits
// still loads).
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "actors/kv/kv_store.hpp"

namespace raft::kv {

/// Version of the snapshot encoding (third byte).
inline constexpr std::uint8_t snapshot_version = 1;

/// Encodes the whole state.
std::string encode_snapshot(const kv_state& st);

/// Decodes a snapshot; std::nullopt when malformed (the caller must fail
/// loudly: a replica cannot continue without its state). Never throws.
std::optional<kv_state> decode_snapshot(std::string_view bytes) noexcept;

} // namespace raft::kv
