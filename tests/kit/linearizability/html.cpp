#include "tests/kit/linearizability/html.hpp"

#include <algorithm>
#include <fstream>
#include <map>
#include <set>
#include <sstream>
#include <stdexcept>

namespace raft::testing::lin {

namespace {

/// Geometry of a time line, in pixels.
constexpr int label_width = 90;  // the client column
constexpr int step_width = 40;   // between two consecutive event times
constexpr int row_height = 30;   // one client
constexpr int bar_height = 22;
constexpr int min_bar = 10;      // a bar whose call and return coincide

const char* style = R"css(
body { font: 13px/1.4 system-ui, sans-serif; margin: 16px; color: #222; }
h1 { font-size: 18px; margin: 0 0 8px; }
pre.summary { background: #f6f6f6; padding: 8px; white-space: pre-wrap; }
#details { position: sticky; top: 0; z-index: 5; background: #fffbe6;
  border: 1px solid #e6d98c; padding: 4px 8px; min-height: 1.4em;
  white-space: pre-wrap; font-family: monospace; }
details { margin: 12px 0; }
summary { font-weight: 600; cursor: pointer; }
summary.illegal { color: #b00020; } summary.unknown { color: #a06000; }
.scroll { overflow-x: auto; border: 1px solid #ddd; }
.timeline { position: relative; }
.client { position: absolute; left: 0; width: 84px; padding-left: 4px;
  font-family: monospace; color: #555; background: #fafafa;
  border-bottom: 1px solid #eee; }
.op { position: absolute; box-sizing: border-box; overflow: hidden;
  white-space: nowrap; text-overflow: ellipsis; font-family: monospace;
  font-size: 11px; padding: 2px 3px; border: 1px solid #7a9cc6;
  background: #dbe8f7; border-radius: 3px; cursor: default; }
.op.lin { background: #cdebd0; border-color: #5a9e62; }
.op.unk { border-style: dashed; background: #eee; }
.op.dropped { opacity: 0.5; }
.op.stuck { background: #f8c9cf; border: 2px solid #b00020; }
.op:hover { outline: 2px solid #333; z-index: 4; }
.op .n { font-weight: 700; color: #1d5e25; margin-right: 4px; }
.stuckline { position: absolute; top: 0; width: 0;
  border-left: 2px solid #b00020; z-index: 3; }
.stucklabel { position: absolute; color: #b00020; font-weight: 600;
  white-space: nowrap; font-size: 11px; }
)css";

const char* script = R"js(
document.addEventListener('mouseover', function (e) {
  var t = e.target.closest ? e.target.closest('.op') : null;
  if (t) document.getElementById('details').textContent = t.dataset.d;
});
)js";

std::string time_text(std::int64_t t) {
  return t == never_returned ? std::string{"never"} : std::to_string(t);
}

/// Renders the time line of one key.
void render_key(std::ostringstream& out, const std::vector<operation>& history,
                const key_result& k) {
  // The key's operations (including dropped unknown gets) and clients.
  std::vector<std::size_t> ops;
  std::set<int> clients;
  for (std::size_t i = 0; i < history.size(); ++i) {
    if (history[i].in.key == k.key) {
      ops.push_back(i);
      clients.insert(history[i].client);
    }
  }
  // Compressed axis: rank of each distinct finite time; "never" after all.
  std::set<std::int64_t> times;
  for (auto i : ops) {
    times.insert(history[i].call);
    if (!history[i].out.unknown && history[i].ret != never_returned)
      times.insert(history[i].ret);
  }
  std::map<std::int64_t, int> rank;
  for (auto t : times)
    rank.emplace(t, static_cast<int>(rank.size()));
  auto x_of = [&](std::int64_t t) {
    auto it = rank.find(t);
    int r = it == rank.end() ? static_cast<int>(rank.size()) + 1 : it->second;
    return label_width + step_width / 2 + r * step_width;
  };
  std::map<int, int> row;
  for (auto c : clients)
    row.emplace(c, static_cast<int>(row.size()));
  std::map<std::size_t, std::size_t> order; // op -> linearization number
  for (std::size_t i = 0; i < k.prefix.size(); ++i)
    order.emplace(k.prefix[i], i + 1);
  std::set<std::size_t> stuck(k.stuck.begin(), k.stuck.end());
  int width = x_of(never_returned) + step_width;
  int height = static_cast<int>(row.size()) * row_height + 20;
  auto title = "key " + quote(k.key) + ": " + to_string(k.v) + " -- "
               + std::to_string(ops.size()) + " operations, "
               + std::to_string(clients.size()) + " clients";
  out << "<details" << (k.v == verdict::ok ? "" : " open") << "><summary class=\""
      << to_string(k.v) << "\">" << html_escape(title) << "</summary>\n"
      << "<div class=\"scroll\"><div class=\"timeline\" style=\"width:"
      << width << "px;height:" << height << "px\">\n";
  for (auto [c, r] : row)
    out << "<div class=\"client\" style=\"top:" << r * row_height
        << "px;height:" << row_height - 1 << "px;line-height:" << row_height
        << "px\">client " << c << "</div>\n";
  for (auto i : ops) {
    const auto& op = history[i];
    bool unk = op.out.unknown;
    bool dropped = unk && op.in.op == kv_input::kind::get;
    int x0 = x_of(op.call);
    int x1 = unk ? x_of(never_returned) : x_of(op.ret);
    std::string cls = "op";
    if (order.count(i))
      cls += " lin";
    if (unk)
      cls += " unk";
    if (dropped)
      cls += " dropped";
    if (stuck.count(i))
      cls += " stuck";
    auto label = to_string(op);
    std::string detail = "op " + std::to_string(i) + ", client "
                         + std::to_string(op.client) + ": " + label
                         + "\ncall t=" + std::to_string(op.call) + ", return t="
                         + (unk ? "never (outcome unknown"
                                    + (op.ret != never_returned
                                         ? ", client gave up at t="
                                             + std::to_string(op.ret)
                                         : std::string{})
                                    + ")"
                                : time_text(op.ret));
    if (auto it = order.find(i); it != order.end())
      detail += "\nlinearized #" + std::to_string(it->second);
    if (stuck.count(i))
      detail += "\ncould not be linearized next";
    if (dropped)
      detail += "\nignored: a get with unknown outcome constrains nothing";
    out << "<div class=\"" << cls << "\" style=\"left:" << x0
        << "px;top:" << row.at(op.client) * row_height + 4
        << "px;width:" << std::max(x1 - x0, min_bar)
        << "px;height:" << bar_height << "px\" title=\"" << html_escape(detail)
        << "\" data-d=\"" << html_escape(detail) << "\">";
    if (auto it = order.find(i); it != order.end())
      out << "<span class=\"n\">#" << it->second << "</span>";
    out << html_escape(label) << "</div>\n";
  }
  if (k.v == verdict::illegal) {
    int x = x_of(k.stuck_at);
    out << "<div class=\"stuckline\" style=\"left:" << x << "px;height:"
        << height << "px\" title=\"no linearization exists past t="
        << time_text(k.stuck_at) << "\"></div>\n"
        << "<div class=\"stucklabel\" style=\"left:" << x + 4
        << "px;top:" << height - 16 << "px\">no linearization past t="
        << time_text(k.stuck_at) << "</div>\n";
  }
  out << "</div></div></details>\n";
}

} // namespace

std::string html_escape(const std::string& s) {
  std::string result;
  result.reserve(s.size());
  for (char c : s) {
    switch (c) {
      case '&':
        result += "&amp;";
        break;
      case '<':
        result += "&lt;";
        break;
      case '>':
        result += "&gt;";
        break;
      case '"':
        result += "&quot;";
        break;
      case '\'':
        result += "&#39;";
        break;
      default:
        result += c;
    }
  }
  return result;
}

std::string render_html(const std::vector<operation>& history,
                        const check_result& result) {
  std::ostringstream out;
  out << "<!DOCTYPE html>\n<html><head><meta charset=\"utf-8\">\n"
      << "<title>linearizability: " << to_string(result.v) << "</title>\n"
      << "<style>" << style << "</style>\n</head><body>\n"
      << "<h1>Linearizability check: " << to_string(result.v) << "</h1>\n"
      << "<pre class=\"summary\">" << html_escape(describe(result))
      << "</pre>\n"
      << "<div id=\"details\">hover an operation for details</div>\n";
  // Keys that are not linearizable (or undecided) first.
  for (auto v : {verdict::illegal, verdict::unknown, verdict::ok})
    for (const auto& k : result.keys)
      if (k.v == v)
        render_key(out, history, k);
  out << "<script>" << script << "</script>\n</body></html>\n";
  return out.str();
}

void write_html(const std::string& path, const std::vector<operation>& history,
                const check_result& result) {
  std::ofstream file{path, std::ios::binary | std::ios::trunc};
  if (!file)
    throw std::runtime_error("lin::write_html: cannot open " + path);
  file << render_html(history, result);
  if (!file.flush())
    throw std::runtime_error("lin::write_html: cannot write " + path);
}

} // namespace raft::testing::lin
