// JSON string literals for the tools' --json output (raft-ctl,
// raft-inspect).
#pragma once

#include <string>
#include <string_view>

namespace raft::apps {

/// `s` as a JSON string literal, quotes included: '"' and '\' escaped, the
/// control characters below 0x20 as \b \f \n \r \t or \u00XX (lowercase
/// hex), every other byte (UTF-8 sequences too) passed through as it is.
inline std::string json_string(std::string_view s) {
  static constexpr char hex[] = "0123456789abcdef";
  std::string out;
  out.reserve(s.size() + 2);
  out += '"';
  for (char ch : s) {
    auto c = static_cast<unsigned char>(ch);
    switch (c) {
      case '"':
        out += "\\\"";
        break;
      case '\\':
        out += "\\\\";
        break;
      case '\b':
        out += "\\b";
        break;
      case '\f':
        out += "\\f";
        break;
      case '\n':
        out += "\\n";
        break;
      case '\r':
        out += "\\r";
        break;
      case '\t':
        out += "\\t";
        break;
      default:
        if (c < 0x20) {
          out += "\\u00";
          out += hex[c >> 4];
          out += hex[c & 15];
        } else {
          out += ch;
        }
    }
  }
  out += '"';
  return out;
}

} // namespace raft::apps
