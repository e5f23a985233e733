#include "drift/settings.hpp"

#include "util/encoding.hpp"
#include "util/error.hpp"

#include <charconv>
#include <cstdlib>
#include <string>

namespace gostly::drift {

std::optional<bool> parse_bool(std::string_view text) noexcept {
  for (std::string_view yes : {"true", "1", "yes", "on"})
    if (util::iequals(text, yes)) return true;
  for (std::string_view no : {"false", "0", "no", "off"})
    if (util::iequals(text, no)) return false;
  return std::nullopt;
}

DriftSettings DriftSettings::from_environment() {
  DriftSettings settings;
  if (const char* raw = std::getenv("GOSTLY_DRIFT_MIN_BEHAVIORAL_SAMPLES"); raw && *raw) {
    std::string_view text(raw);
    std::uint64_t value = 0;
    auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
    if (ec != std::errc() || end != text.data() + text.size() || value == 0)
      throw UsageError("GOSTLY_DRIFT_MIN_BEHAVIORAL_SAMPLES: expected a positive integer, got '" + std::string(text) + "'");
    settings.min_behavioral_samples = value;
  }
  if (const char* raw = std::getenv("GOSTLY_DRIFT_LEARN_MODE_ONLY"); raw && *raw) {
    auto value = parse_bool(raw);
    if (!value)
      throw UsageError(std::string("GOSTLY_DRIFT_LEARN_MODE_ONLY: expected true or false, got '") + raw + "'");
    settings.learn_only = *value;
  }
  return settings;
}

} // namespace gostly::drift
