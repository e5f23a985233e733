#pragma once
// What makes two requests "the same" for the session_verbatim and exact tiers: the method as
// sent, the URI in origin form (path and query as sent, no normalisation), and the body, with
// JSON objects and arrays compared semantically (key order and whitespace ignored), since
// clients re-serialise the same payload differently between runs. Other bodies compare byte
// for byte.
#include <string>
#include <string_view>

namespace gostly::match {

/// The origin-form part of `uri`: an absolute-form URI (`http://host:8080/a?b`, as a forward
/// proxy receives it) loses its scheme and authority (`/a?b`); anything else is returned as is.
std::string_view origin_form(std::string_view uri) noexcept;

/// The comparison form of the request body `body`: empty for an empty body; for a body that
/// parses as a JSON object or array, a compact serialisation with sorted keys; otherwise the
/// bytes themselves. The forms carry distinct prefixes, so a raw body never equals a JSON one.
std::string canonical_body(std::string_view body);

} // namespace gostly::match
