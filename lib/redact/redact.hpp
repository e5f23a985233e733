#pragma once
// The credential floor: 16 header names (the open-source gostly proxy's list, so libraries stay
// compatible) whose values are always masked before anything reaches disk. REDACT_HEADERS and
// per-service rules only add to it; nothing can remove a floor header. Masking keeps the header,
// its name, case and place, so a replayed client still gets e.g. its session cookie back.
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

/// What a masked secret becomes.
inline constexpr std::string_view kMask = "gostly-redacted";

/// A set of header names to mask: always the floor, plus any extras (lower-cased).
class Redactor {
public:
  /// The floor plus the comma-separated names in env REDACT_HEADERS.
  static Redactor from_environment();
  Redactor();

  /// Adds names (case-insensitive) on top of what is there; the floor stays.
  void add(std::string_view comma_separated_names);
  bool is_redacted(std::string_view header_name) const noexcept;

  /// Masks the value of every redacted header of request and response (mask_value()), recording
  /// each name (lower-case, once) in `interaction.redacted`; masks URL userinfo in an absolute
  /// request.uri and a Host header (mask_userinfo_in_*) and drops it from request.host, which
  /// is the routing authority (host[:port], as lib/http makes it); recorded as "userinfo".
  /// Idempotent: a record masked once is left as it is.
  void apply(record::Interaction& interaction) const;
  /// Masks redacted headers in `headers`, appending their names to `masked`.
  void mask(record::Headers& headers, std::vector<std::string>& masked) const;

  const std::vector<std::string>& names() const noexcept { return names_; }

private:
  std::vector<std::string> names_;
};

/// The value a redacted header `name` is recorded with: `Cookie` keeps each cookie name and masks
/// its value (`a=1; b=2` -> `a=gostly-redacted; b=gostly-redacted`), `Set-Cookie` the same for
/// its first pair while attributes (Path, Expires, HttpOnly, ...) stay; quotes around a value
/// stay, an empty value stays empty (nothing to hide); any other header's value becomes
/// `gostly-redacted`. A piece without '=' is masked whole. Separators and spacing are kept.
std::string mask_value(std::string_view name, std::string_view value);

/// The name `Redactor::apply` records in `redacted` when it masked URL credentials.
inline constexpr std::string_view kUserinfo = "userinfo";

/// Drops everything up to the last '@' of an authority (`user:pass@host:port` -> `host:port`);
/// true when there was userinfo.
bool strip_userinfo_from_authority(std::string& authority);
/// The same for the authority of an absolute URL (`scheme://user@host/path`); an origin-form
/// target (`/path`, where an '@' is data) is left alone. True when there was userinfo.
bool strip_userinfo_from_url(std::string& url);
/// Masks the userinfo of an authority in place: `user:secret@h` -> `user:gostly-redacted@h`,
/// `token@h` -> `gostly-redacted@h` (the user part stays only when a password follows it; an
/// empty password stays empty). True when there was userinfo.
bool mask_userinfo_in_authority(std::string& authority);
/// The same for the authority of an absolute URL; an origin-form target is left alone.
bool mask_userinfo_in_url(std::string& url);

} // namespace gostly::redact
