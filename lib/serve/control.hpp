#pragma once
// Helpers shared by the control API's handlers (control_*.cpp; not a public header). The route
// table itself, with each route's method, pattern and limits, is in control.cpp.
#include "record/interaction.hpp"
#include "util/error.hpp"

#include <nlohmann/json.hpp>

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace gostly::serve::control {

using nlohmann::json;

/// A failure with its HTTP status; the dispatcher answers `{"error": what()}`.
class HttpError : public Error {
public:
  HttpError(int status, const std::string& message) : Error(message), status_(status) {}
  int status() const noexcept { return status_; }

private:
  int status_;
};

/// Complete response bytes with a JSON body. Strings that came from the request (a path, a
/// query value) may hold invalid UTF-8: they are written with U+FFFD instead of failing.
std::string reply_json(int status, const json& body, const record::Headers& extra = {});
std::string error_json(int status, const std::string& message, const record::Headers& extra = {});

/// The request body as a JSON object (`{}` when empty), parsed with the nesting limit. Throws
/// HttpError 400 naming the field at fault (`request body: mode: number overflow ...`), the
/// limit (GOSTLY_MAX_DEPTH) or "expected a JSON object".
json parse_body(const record::Request& request);

/// Field accessors that check the type first: HttpError 400 `NAME: expected ...` otherwise.
/// nullopt when the field is absent (or null, where noted).
std::optional<std::string> string_field(const json& body, const char* name); // null = absent
std::optional<std::uint64_t> unsigned_field(const json& body, const char* name, std::uint64_t max);

/// Renames the short field names the CLI flags use (`--baseline`, `--user`) to the API's
/// (moves the value: a body is never copied).
void accept_alias(json& body, const char* alias, const char* name);

/// Query parameters, %XX and '+' decoded (form encoding, as curl --data-urlencode -G sends);
/// UsageError naming the parameter for a broken escape.
std::optional<std::string> query_value(std::string_view uri, std::string_view name);
/// Every value of a repeatable parameter, in order.
std::vector<std::string> query_values(std::string_view uri, std::string_view name);
/// A boolean flag: absent = `fallback`; present with no value = true; else true/false, 1/0,
/// yes/no, on/off (UsageError otherwise).
bool query_flag(std::string_view uri, std::string_view name, bool fallback);
/// `service_id` from the query (validated), or `fallback` when absent.
std::optional<std::string> query_service(std::string_view uri, std::optional<std::string> fallback);

} // namespace gostly::serve::control
