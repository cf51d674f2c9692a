// CRC-32 as in IEEE 802.3 and zlib's crc32() (reflected polynomial
// 0xEDB88320, initial value and final xor 0xFFFFFFFF): the checksum an
// InstallSnapshot carries for the whole snapshot (Figure 13). Table-driven,
// no Boost (the core links nothing but raft_messages).
#pragma once

#include <cstdint>
#include <string_view>

namespace raft::core {

/// CRC-32 of `bytes`, continuing from `crc` (the CRC of the bytes before
/// them; 0 to start): crc32(b, crc32(a)) == crc32(a + b), like zlib.
/// crc32("123456789") == 0xCBF43926.
std::uint32_t crc32(std::string_view bytes, std::uint32_t crc = 0);

} // namespace raft::core
