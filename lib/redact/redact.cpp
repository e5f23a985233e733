#include "redact/redact.hpp"

#include "util/encoding.hpp"

#include <algorithm>
#include <cstdlib>

namespace gostly::redact {

Redactor::Redactor() {
  for (auto name : kCredentialFloor) names_.emplace_back(name);
}

Redactor Redactor::from_environment() {
  Redactor redactor;
  if (const char* extra = std::getenv("REDACT_HEADERS")) redactor.add(extra);
  return redactor;
}

void Redactor::add(std::string_view list) {
  while (!list.empty()) {
    auto comma = list.find(',');
    std::string_view item = list.substr(0, comma);
    list = comma == std::string_view::npos ? std::string_view{} : list.substr(comma + 1);
    while (!item.empty() && (item.front() == ' ' || item.front() == '\t')) item.remove_prefix(1);
    while (!item.empty() && (item.back() == ' ' || item.back() == '\t')) item.remove_suffix(1);
    if (item.empty()) continue;
    std::string name = util::to_lower(item);
    if (std::find(names_.begin(), names_.end(), name) == names_.end()) names_.push_back(std::move(name));
  }
}

bool Redactor::is_redacted(std::string_view header_name) const noexcept {
  for (const auto& name : names_)
    if (util::iequals(name, header_name)) return true;
  return false;
}

void Redactor::strip(record::Headers& headers, std::vector<std::string>& removed) const {
  auto keep = headers.begin();
  for (auto it = headers.begin(); it != headers.end(); ++it) {
    if (is_redacted(it->first)) {
      std::string name = util::to_lower(it->first);
      if (std::find(removed.begin(), removed.end(), name) == removed.end()) removed.push_back(std::move(name));
    } else {
      if (keep != it) *keep = std::move(*it);
      ++keep;
    }
  }
  headers.erase(keep, headers.end());
}

void Redactor::apply(record::Interaction& interaction) const {
  strip(interaction.request.headers, interaction.redacted);
  strip(interaction.response.headers, interaction.redacted);
}

} // namespace gostly::redact
