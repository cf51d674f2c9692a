// Boost.Serialization support for the message types the disk store writes
// (docs/storage-format.md): non-intrusive serialize() free functions, so one
// struct serves both CAF (inspect) and Boost. Used with
// binary_[io]archive(stream, boost::archive::no_header): one archive per log
// record, see persistence/disk_format.hpp.
//
// Versioning: log_entry keeps Boost's default implementation level, so each
// archive carries its class version (BOOST_CLASS_VERSION below); a later
// format can branch on `version` in serialize(). The strong ids are written
// as their raw integer.
#pragma once

#include <cstdint>

#include <boost/archive/archive_exception.hpp>
#include <boost/serialization/serialization.hpp>
#include <boost/serialization/string.hpp>
#include <boost/serialization/version.hpp>

#include "messages/ids.hpp"
#include "messages/log_entry.hpp"
#include "messages/node_messages.hpp"

namespace boost::serialization {

template <class Archive, class Tag, class Rep>
void serialize(Archive& ar, raft::strong_value<Tag, Rep>& x, unsigned) {
  ar& x.value;
}

template <class Archive>
void serialize(Archive& ar, raft::index_t& x, unsigned) {
  ar& x.value;
}

template <class Archive>
void serialize(Archive& ar, raft::log_entry& x, unsigned) {
  ar& x.term.value;
  ar& x.index.value;
  // The kind is one byte on disk; an unknown value makes the record
  // undeserialisable (the caller treats that as a bad record).
  auto kind = static_cast<std::uint8_t>(x.kind);
  ar& kind;
  if (kind > static_cast<std::uint8_t>(raft::entry_kind::noop))
    throw boost::archive::archive_exception(
      boost::archive::archive_exception::input_stream_error);
  x.kind = static_cast<raft::entry_kind>(kind);
  ar& x.data;
}

template <class Archive>
void serialize(Archive& ar, raft::hard_state& x, unsigned) {
  ar& x.current_term.value;
  ar& x.voted_for.value;
}

template <class Archive>
void serialize(Archive& ar, raft::log_id& x, unsigned) {
  ar& x.term.value;
  ar& x.index.value;
}

} // namespace boost::serialization

BOOST_CLASS_VERSION(raft::log_entry, 0)
BOOST_CLASS_VERSION(raft::hard_state, 0)
BOOST_CLASS_VERSION(raft::log_id, 0)
