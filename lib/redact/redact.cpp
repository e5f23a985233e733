#include "redact/redact.hpp"

#include "util/encoding.hpp"

#include <algorithm>
#include <cctype>
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
  for (std::string_view item : util::split_list(list)) {
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

bool strip_userinfo_from_authority(std::string& authority) {
  auto at = authority.rfind('@');
  if (at == std::string::npos) return false;
  authority.erase(0, at + 1);
  return true;
}

bool strip_userinfo_from_url(std::string& url) {
  // RFC 3986: scheme = ALPHA *( ALPHA / DIGIT / "+" / "-" / "." ), then "://" and the authority,
  // which ends at the first '/', '?' or '#'.
  auto colon = url.find("://");
  if (colon == std::string::npos || colon == 0) return false;
  for (std::size_t i = 0; i < colon; ++i) {
    auto c = static_cast<unsigned char>(url[i]);
    if (!(std::isalpha(c) || (i > 0 && (std::isdigit(c) || c == '+' || c == '-' || c == '.')))) return false;
  }
  const std::size_t start = colon + 3;
  const std::size_t end = std::min(url.find_first_of("/?#", start), url.size());
  auto at = url.rfind('@', end == 0 ? 0 : end - 1);
  if (at == std::string::npos || at < start) return false;
  url.erase(start, at + 1 - start);
  return true;
}

void Redactor::apply(record::Interaction& interaction) const {
  strip(interaction.request.headers, interaction.redacted);
  strip(interaction.response.headers, interaction.redacted);
  // URL credentials: a forward-proxied `GET http://user:pass@host/` and whatever an importer
  // took from a URL. One find('@') per field when there are none (the LEARN path).
  auto& request = interaction.request;
  bool userinfo = false;
  if (request.host.find('@') != std::string::npos) userinfo |= strip_userinfo_from_authority(request.host);
  if (request.uri.find('@') != std::string::npos) userinfo |= strip_userinfo_from_url(request.uri);
  for (auto& [name, value] : request.headers)
    if (util::iequals(name, "host") && value.find('@') != std::string::npos) userinfo |= strip_userinfo_from_authority(value);
  if (userinfo && std::find(interaction.redacted.begin(), interaction.redacted.end(), kUserinfo) == interaction.redacted.end())
    interaction.redacted.emplace_back(kUserinfo);
}

} // namespace gostly::redact
