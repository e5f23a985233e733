#include "record/interaction.hpp"

#include "util/encoding.hpp"

namespace gostly::record {

const std::string* find_header(const Headers& headers, std::string_view name) noexcept {
  for (const auto& [key, value] : headers)
    if (util::iequals(key, name)) return &value;
  return nullptr;
}

std::string_view uri_path(std::string_view uri) noexcept {
  auto q = uri.find('?');
  return q == std::string_view::npos ? uri : uri.substr(0, q);
}

std::string_view uri_query(std::string_view uri) noexcept {
  auto q = uri.find('?');
  return q == std::string_view::npos ? std::string_view{} : uri.substr(q + 1);
}

} // namespace gostly::record
