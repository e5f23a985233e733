#pragma once
// Body PII scrubbing for exported bundles (DESIGN.md "Redaction": bodies stay verbatim in the
// local library, exports are scrubbed). Each kind of value becomes one fixed, realistic-looking
// placeholder of the same shape, so a client that validates what it receives still accepts it and
// JSON stays valid: every placeholder is either plain digits or only ever replaces text that
// could not have been a bare JSON token.
#include <cstdint>
#include <string>
#include <string_view>

namespace gostly::bundle {

inline constexpr std::string_view kEmailPlaceholder = "user@example.invalid";
inline constexpr std::string_view kPhonePlaceholder = "+1-202-555-0100";
inline constexpr std::string_view kCardPlaceholder = "4111111111111111";
inline constexpr std::string_view kIpv4Placeholder = "192.0.2.0"; // TEST-NET-1, RFC 5737
inline constexpr std::string_view kBearerPlaceholder = "Bearer REDACTED";

struct ScrubCounts {
  std::uint64_t emails = 0, phones = 0, cards = 0, ipv4 = 0, bearer_tokens = 0;
  std::uint64_t total() const noexcept { return emails + phones + cards + ipv4 + bearer_tokens; }
};

/// Replaces emails, phone numbers (`+` international or `(NNN) NNN-NNNN` / `NNN-NNN-NNNN`),
/// Luhn-valid card numbers (14-19 digits starting 2-6, spaces or dashes allowed), IPv4 addresses
/// and `Bearer <token>` in `text`, adding what it replaced to `counts`.
std::string scrub_text(std::string_view text, ScrubCounts& counts);

/// True when `digits` (digits only) passes the Luhn check.
bool luhn_valid(std::string_view digits) noexcept;

} // namespace gostly::bundle
