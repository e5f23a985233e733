#pragma once
// Limits on what a stranger's input may cost. gostly parses HAR exports, Postman collections,
// OpenAPI specs, bundles and JSONL that other people made; every parser that could recurse or
// expand takes its bound from here, so the limits are documented (gostly-limits in the man pages)
// and tuned in one place. Hitting one is an input error (exit 2, or a 4xx from the control API)
// whose message names the limit and the variable that raises it, never a crash or a hang.
#include "util/error.hpp"

#include <nlohmann/json.hpp>

#include <cstddef>
#include <string>
#include <string_view>

namespace gostly::util {

/// Thrown when an input goes past one of the limits below. `what()` names the limit and how to
/// raise it; `byte` is the 0-based offset in the parsed text where it was hit (0 = unknown).
class LimitError : public Error {
public:
  LimitError(const std::string& what, std::size_t byte = 0) : Error(what), byte_(byte) {}
  std::size_t byte() const noexcept { return byte_; }

private:
  std::size_t byte_;
};

/// Nesting depth of JSON and YAML documents (objects and arrays): GOSTLY_MAX_DEPTH, default 256.
/// Deep enough for any real spec or export; shallow enough that recursive code over the parsed
/// value (dump, copy, schema walks) stays far from the stack's end.
std::size_t max_depth();

/// Reads a positive integer limit from `env_name`, `fallback` when unset; UsageError when the
/// variable is set to anything but a positive integer.
std::size_t limit_from_env(const char* env_name, std::size_t fallback);

/// `text` parsed as JSON like nlohmann::json::parse (parse_error on bad syntax), refusing
/// objects or arrays nested deeper than `depth_limit` with a LimitError at the offending byte.
nlohmann::json parse_json(std::string_view text, std::size_t depth_limit = max_depth());
nlohmann::ordered_json parse_ordered_json(std::string_view text, std::size_t depth_limit = max_depth());

/// The text of a LimitError for nesting, shared by the JSON and YAML readers.
std::string depth_limit_message(std::size_t depth_limit);

} // namespace gostly::util
