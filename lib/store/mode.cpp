#include "store/mode.hpp"

#include "util/encoding.hpp"

namespace gostly::store {

std::string_view to_string(Mode mode) noexcept {
  switch (mode) {
  case Mode::learn: return "LEARN";
  case Mode::mock: return "MOCK";
  case Mode::passthrough: return "PASSTHROUGH";
  case Mode::transitioning: return "TRANSITIONING";
  }
  return "LEARN";
}

std::optional<Mode> parse_mode(std::string_view text) noexcept {
  while (!text.empty() && (text.front() == ' ' || text.front() == '\n' || text.front() == '\r' || text.front() == '\t'))
    text.remove_prefix(1);
  while (!text.empty() && (text.back() == ' ' || text.back() == '\n' || text.back() == '\r' || text.back() == '\t'))
    text.remove_suffix(1);
  if (util::iequals(text, "LEARN")) return Mode::learn;
  if (util::iequals(text, "MOCK")) return Mode::mock;
  if (util::iequals(text, "PASSTHROUGH")) return Mode::passthrough;
  if (util::iequals(text, "TRANSITIONING")) return Mode::transitioning;
  return std::nullopt;
}

std::optional<Mode> parse_settable_mode(std::string_view text) noexcept {
  auto mode = parse_mode(text);
  if (mode == Mode::transitioning) return std::nullopt;
  return mode;
}

} // namespace gostly::store
