// raft::testing::lin::write_html -- a picture of a checked history, for the
// moment a test reports "history is not linearizable" (porcupine's
// visualization, in our own form).
//
// One self-contained HTML file: inline CSS and a few lines of inline
// JavaScript, nothing fetched from the network. Per key, a time line with one
// row per client; each operation is a bar from its call to its return,
// labelled like `put(k,"v")` or `get(k) -> "v"`. Operations whose outcome is
// unknown run to the right edge, dashed. For a key that is not linearizable:
// the operations of the longest linearized prefix carry their order number
// (#1, #2, ...), the operations none of which could go next are red, and a
// red vertical line marks the point where no linearization exists (the
// return by which one of them had to take effect). Hovering a bar shows its
// details. Keys that are linearizable are collapsed.
//
// The horizontal axis is compressed: distinct event times are evenly spaced
// (order is kept, distances are not), so long idle gaps take no room.
#pragma once

#include <string>
#include <vector>

#include "tests/kit/linearizability/checker.hpp"
#include "tests/kit/linearizability/history.hpp"

namespace raft::testing::lin {

/// Writes the picture of `history`, checked as `result`, to `path`.
/// Throws std::runtime_error when the file cannot be written.
void write_html(const std::string& path, const std::vector<operation>& history,
                const check_result& result);

/// The same document as a string.
std::string render_html(const std::vector<operation>& history,
                        const check_result& result);

/// `s` with &, <, >, " and ' replaced by character references.
std::string html_escape(const std::string& s);

} // namespace raft::testing::lin
