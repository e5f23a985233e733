#pragma once
// The credential floor: 16 header names (the open-source gostly proxy's list, so libraries stay
// compatible) always stripped before anything reaches disk. REDACT_HEADERS and per-service rules
// only add to it; nothing can remove a floor header.
#include "record/interaction.hpp"

#include <array>
#include <string>
#include <string_view>
#include <vector>

namespace gostly::redact {

inline constexpr std::array<std::string_view, 16> kCredentialFloor = {
    "authorization",    "proxy-authorization", "cookie",         "set-cookie",
    "x-api-key",        "x-auth-token",        "x-session-id",   "x-access-token",
    "x-user-token",     "x-csrf-token",        "x-amz-security-token", "x-amz-session-token",
    "x-goog-api-key",   "grpc-metadata-authorization", "api-key", "token"};

/// A set of header names to strip: always the floor, plus any extras (lower-cased).
class Redactor {
public:
  /// The floor plus the comma-separated names in env REDACT_HEADERS.
  static Redactor from_environment();
  Redactor();

  /// Adds names (case-insensitive) on top of what is there; the floor stays.
  void add(std::string_view comma_separated_names);
  bool is_redacted(std::string_view header_name) const noexcept;

  /// Removes every redacted header from request and response, recording each removed name
  /// (lower-case, once) in `interaction.redacted`, and drops URL userinfo (`user:pass@`) from
  /// request.host, an absolute request.uri and a Host header, recorded as "userinfo".
  void apply(record::Interaction& interaction) const;
  /// Removes redacted headers from `headers`, appending removed names to `removed`.
  void strip(record::Headers& headers, std::vector<std::string>& removed) const;

  const std::vector<std::string>& names() const noexcept { return names_; }

private:
  std::vector<std::string> names_;
};

/// The name `Redactor::apply` records in `redacted` when it dropped URL credentials.
inline constexpr std::string_view kUserinfo = "userinfo";

/// Drops everything up to the last '@' of an authority (`user:pass@host:port` -> `host:port`);
/// true when there was userinfo.
bool strip_userinfo_from_authority(std::string& authority);
/// The same for the authority of an absolute URL (`scheme://user@host/path`); an origin-form
/// target (`/path`, where an '@' is data) is left alone. True when there was userinfo.
bool strip_userinfo_from_url(std::string& url);

} // namespace gostly::redact
