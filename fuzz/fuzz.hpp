#pragma once
// What every fuzz target shares: the input as a stream, a quiet logger, and the one rule for
// exceptions. gostly::Error (InputError, LimitError, ...) is the documented way to refuse bad
// input (exit 2 / a 4xx); anything else escaping a parser (a nlohmann type_error, std::out_of_range,
// ...) reaches the user as an unexplained failure, so it is left to escape and libFuzzer reports
// it as a crash.
#include "util/error.hpp"

#include <spdlog/spdlog.h>

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>

namespace gostly::fuzz {

inline std::string_view bytes(const std::uint8_t* data, std::size_t size) {
  return {reinterpret_cast<const char*>(data), size};
}

/// Runs `body`, swallowing only gostly::Error. Logging is off: warnings are expected and slow.
template <typename F> int run(F&& body) {
  static const bool quiet = [] {
    spdlog::set_level(spdlog::level::off);
    // Work budgets are counted, not timed: a fifth of the default shows the same bound holds
    // while keeping one input well inside libFuzzer's -timeout under ASan (35x slower).
    ::setenv("GOSTLY_MAX_SCHEMA_WORK", "100000", /*overwrite=*/0);
    return true;
  }();
  (void)quiet;
  try {
    body();
  } catch (const gostly::Error&) {
  }
  return 0;
}

} // namespace gostly::fuzz
