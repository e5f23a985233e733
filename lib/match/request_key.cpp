#include "match/request_key.hpp"

#include "match/smart_swap.hpp"

#include <nlohmann/json.hpp>

namespace gostly::match {

std::string_view origin_form(std::string_view uri) noexcept {
  auto scheme_end = uri.find("://");
  if (uri.empty() || uri.front() == '/' || scheme_end == std::string_view::npos) return uri;
  auto path = uri.find_first_of("/?", scheme_end + 3);
  if (path == std::string_view::npos) return "/";
  return uri.substr(path);
}

std::string canonical_body(std::string_view body) {
  if (body.empty()) return {};
  if (looks_like_json(body)) {
    // nlohmann::json keeps object keys in a std::map, so dump() is already key-sorted.
    auto parsed = nlohmann::json::parse(body, nullptr, /*allow_exceptions=*/false);
    if (!parsed.is_discarded()) return "j:" + parsed.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
  }
  std::string raw = "b:";
  raw.append(body);
  return raw;
}

} // namespace gostly::match
