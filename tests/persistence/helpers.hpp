// Shared helpers of the storage tests: a temporary directory, entries and
// batches, raw file access for tearing and flipping bytes.
#pragma once

#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <memory>
#include <stdexcept>
#include <string>

#include "persistence/disk_store.hpp"

namespace raft::persistence::testing {

/// A fresh directory under $TMPDIR (or /tmp), removed with its content.
class temp_dir {
public:
  temp_dir() {
    auto base = std::filesystem::temp_directory_path() / "caf-raft-XXXXXX";
    std::string templ = base.string();
    if (::mkdtemp(templ.data()) == nullptr)
      throw std::runtime_error("mkdtemp failed");
    path_ = templ;
  }
  ~temp_dir() {
    std::error_code ec;
    std::filesystem::remove_all(path_, ec);
  }
  temp_dir(const temp_dir&) = delete;
  temp_dir& operator=(const temp_dir&) = delete;

  /// The directory itself.
  const std::string& path() const { return path_; }
  /// A (not yet existing) data directory inside it.
  std::string data() const { return path_ + "/data"; }

private:
  std::string path_;
};

inline log_entry entry(std::uint64_t index, std::uint64_t term,
                       std::string data = {}) {
  if (data.empty())
    data = "cmd-" + std::to_string(index) + "-" + std::to_string(term);
  return log_entry{term_t{term}, index_t{index}, entry_kind::command,
                   std::move(data)};
}

/// Entries first..last (inclusive) of `term`.
inline log_entries entries(std::uint64_t first, std::uint64_t last,
                           std::uint64_t term) {
  log_entries result;
  for (auto i = first; i <= last; ++i)
    result.push_back(entry(i, term));
  return result;
}

/// A batch: hard state `hs`, cut from `truncate_from` (0: none), append `es`.
/// `last_index`: the last index after it.
inline persist_batch batch(hard_state hs, log_entries es,
                           std::uint64_t last_index,
                           std::uint64_t truncate_from = 0) {
  persist_batch b;
  b.hard_state = hs;
  b.truncate_from = index_t{truncate_from};
  b.last.index = index_t{last_index};
  b.last.term = es.empty() ? term_t{} : es.back().term;
  b.entries = std::move(es);
  return b;
}

inline hard_state hs(std::uint64_t term, std::uint32_t vote = 0) {
  return hard_state{term_t{term}, server_id{vote}};
}

inline disk_options options(const std::string& dir,
                            std::shared_ptr<file_system> fs = nullptr,
                            std::size_t segment_bytes = 64 << 20) {
  disk_options o;
  o.dir = dir;
  o.cluster_id = "test-cluster";
  o.node = server_id{1};
  o.segment_bytes = segment_bytes;
  o.fs = std::move(fs);
  return o;
}

inline std::string read_bytes(const std::string& path) {
  std::ifstream in{path, std::ios::binary};
  return std::string{std::istreambuf_iterator<char>{in}, {}};
}

inline void write_bytes(const std::string& path, const std::string& bytes) {
  std::ofstream out{path, std::ios::binary | std::ios::trunc};
  out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
}

/// The message of the store_error `f()` throws ("" when it throws nothing).
template <class F>
std::string error_of(F&& f) {
  try {
    f();
  } catch (const store_error& e) {
    return e.what();
  }
  return {};
}

} // namespace raft::persistence::testing
