#include "redact/redact.hpp"

#include "util/encoding.hpp"

#include <algorithm>
#include <cctype>
#include <cstdlib>
#include <utility>

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

void Redactor::mask(record::Headers& headers, std::vector<std::string>& masked) const {
  for (auto& header : headers) {
    const std::string& name = header.first; // not a structured binding: clang 14 (fuzz build) cannot capture one
    if (!is_redacted(name)) continue;
    header.second = mask_value(name, header.second);
    if (std::none_of(masked.begin(), masked.end(), [&](const std::string& m) { return util::iequals(m, name); }))
      masked.push_back(util::to_lower(name));
  }
}

namespace {

bool is_space(char c) noexcept { return c == ' ' || c == '\t'; }

// Appends `piece` (one `name=value` of a cookie header, spacing around it kept) with its value
// masked. A value already empty stays so; a quoted value keeps its quotes; a piece without '='
// is all value (RFC 6265 reads `Cookie: abc` as a nameless cookie).
void append_masked_pair(std::string& out, std::string_view piece) {
  std::size_t b = 0, e = piece.size();
  while (b < e && is_space(piece[b])) ++b;
  while (e > b && is_space(piece[e - 1])) --e;
  std::string_view core = piece.substr(b, e - b);
  out.append(piece.substr(0, b));
  if (auto eq = core.find('='); eq == std::string_view::npos) {
    if (!core.empty()) out.append(kMask);
  } else {
    out.append(core.substr(0, eq + 1));
    std::string_view v = core.substr(eq + 1);
    std::size_t lead = 0;
    while (lead < v.size() && is_space(v[lead])) ++lead;
    out.append(v.substr(0, lead));
    v.remove_prefix(lead);
    if (v.size() >= 2 && v.front() == '"' && v.back() == '"') {
      if (v.size() > 2) {
        out += '"';
        out.append(kMask);
        out += '"';
      } else {
        out.append(v);
      }
    } else if (!v.empty()) {
      out.append(kMask);
    }
  }
  out.append(piece.substr(e));
}

// Masks the values of `;`-separated pairs: all of them (Cookie), or only the first, the cookie
// itself, leaving the attributes (Set-Cookie).
std::string mask_pairs(std::string_view value, bool first_only) {
  std::string out;
  out.reserve(value.size() + kMask.size());
  for (std::size_t pos = 0, n = 0;; ++n) {
    std::size_t end = std::min(value.find(';', pos), value.size());
    std::string_view piece = value.substr(pos, end - pos);
    if (n == 0 || !first_only) append_masked_pair(out, piece);
    else out.append(piece);
    if (end == value.size()) break;
    out += ';';
    pos = end + 1;
  }
  return out;
}

// The userinfo of `authority` masked: `user:secret` -> `user:gostly-redacted`, `token` ->
// `gostly-redacted`; an empty password or userinfo stays empty.
std::string masked_userinfo(std::string_view userinfo) {
  if (userinfo.empty()) return {};
  auto colon = userinfo.find(':');
  if (colon == std::string_view::npos) return std::string(kMask);
  std::string out(userinfo.substr(0, colon + 1));
  if (colon + 1 < userinfo.size()) out.append(kMask);
  return out;
}

// Where the userinfo of an absolute URL is: [start, at) with url[at] == '@', or npos.
std::pair<std::size_t, std::size_t> url_userinfo(const std::string& url) {
  constexpr auto none = std::pair{std::string::npos, std::string::npos};
  // RFC 3986: scheme = ALPHA *( ALPHA / DIGIT / "+" / "-" / "." ), then "://" and the authority,
  // which ends at the first '/', '?' or '#'.
  auto colon = url.find("://");
  if (colon == std::string::npos || colon == 0) return none;
  for (std::size_t i = 0; i < colon; ++i) {
    auto c = static_cast<unsigned char>(url[i]);
    if (!(std::isalpha(c) || (i > 0 && (std::isdigit(c) || c == '+' || c == '-' || c == '.')))) return none;
  }
  const std::size_t start = colon + 3;
  const std::size_t end = std::min(url.find_first_of("/?#", start), url.size());
  auto at = url.rfind('@', end == 0 ? 0 : end - 1);
  if (at == std::string::npos || at < start) return none;
  return {start, at};
}

} // namespace

std::string mask_value(std::string_view name, std::string_view value) {
  if (util::iequals(name, "cookie")) return mask_pairs(value, false);
  if (util::iequals(name, "set-cookie")) return mask_pairs(value, true);
  return value.empty() ? std::string() : std::string(kMask);
}

bool strip_userinfo_from_authority(std::string& authority) {
  auto at = authority.rfind('@');
  if (at == std::string::npos) return false;
  authority.erase(0, at + 1);
  return true;
}

bool strip_userinfo_from_url(std::string& url) {
  auto [start, at] = url_userinfo(url);
  if (at == std::string::npos) return false;
  url.erase(start, at + 1 - start);
  return true;
}

bool mask_userinfo_in_authority(std::string& authority) {
  auto at = authority.rfind('@');
  if (at == std::string::npos) return false;
  authority.replace(0, at, masked_userinfo(std::string_view(authority).substr(0, at)));
  return true;
}

bool mask_userinfo_in_url(std::string& url) {
  auto [start, at] = url_userinfo(url);
  if (at == std::string::npos) return false;
  url.replace(start, at - start, masked_userinfo(std::string_view(url).substr(start, at - start)));
  return true;
}

void Redactor::apply(record::Interaction& interaction) const {
  mask(interaction.request.headers, interaction.redacted);
  mask(interaction.response.headers, interaction.redacted);
  // URL credentials: whatever an importer or a stranger's record took from a URL (lib/http
  // already drops userinfo from an absolute-form target before a record exists). One find('@')
  // per field when there are none (the LEARN path). request.host is where a recording is
  // routed and replayed by host, so there userinfo goes, as lib/http does with a target's.
  auto& request = interaction.request;
  bool userinfo = false;
  if (request.host.find('@') != std::string::npos) userinfo |= strip_userinfo_from_authority(request.host);
  if (request.uri.find('@') != std::string::npos) userinfo |= mask_userinfo_in_url(request.uri);
  for (auto& [name, value] : request.headers)
    if (util::iequals(name, "host") && value.find('@') != std::string::npos) userinfo |= mask_userinfo_in_authority(value);
  if (userinfo && std::find(interaction.redacted.begin(), interaction.redacted.end(), kUserinfo) == interaction.redacted.end())
    interaction.redacted.emplace_back(kUserinfo);
}

} // namespace gostly::redact
