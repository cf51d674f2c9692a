// CRC-32 as in IEEE 802.3 and zlib's crc32() (reflected polynomial
// 0xEDB88320, initial value and final xor 0xFFFFFFFF), the one checksum of
// the project: an InstallSnapshot carries it for the whole snapshot (Figure
// 13), and every record, header and snapshot file on disk carries it
// (docs/storage-format.md). Table-driven, no dependency (the core uses it).
#pragma once

#include <cstdint>
#include <string_view>

namespace raft {

/// CRC-32 of `bytes`, continuing from `crc` (the CRC of the bytes before
/// them; 0 to start): crc32(b, crc32(a)) == crc32(a + b), like zlib.
/// crc32("123456789") == 0xCBF43926.
std::uint32_t crc32(std::string_view bytes, std::uint32_t crc = 0);

} // namespace raft
