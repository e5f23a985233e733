#pragma once
// Response bodies as the client read them. A recording keeps the bytes exactly as the upstream
// sent them (still gzip-compressed when it said `Content-Encoding: gzip`), which is right for
// replay and wrong for anything that reads the body: drift fingerprints, matching, export. This
// is the one place that undoes Content-Encoding (gzip, x-gzip, deflate, br, identity; a list
// such as `gzip, br` is undone last coding first), with a bound on the decoded size so a small
// compressed body cannot expand into gigabytes (a decompression bomb).
#include "record/interaction.hpp"
#include "util/error.hpp"

#include <cstddef>
#include <string>
#include <string_view>

namespace gostly::record {

/// A body that does not decode: an unknown coding or corrupt compressed data.
class BodyEncodingError : public Error {
public:
  using Error::Error;
};

/// Largest decoded body: GOSTLY_MAX_DECODED_BODY bytes, default 64 MiB (read once per process).
std::size_t max_decoded_body();

/// True when `content_encoding` names a coding that changes the bytes (not empty, not identity).
bool is_encoded(std::string_view content_encoding) noexcept;

/// `body` with the codings of `content_encoding` undone. Throws BodyEncodingError for an unknown
/// coding or corrupt data, util::LimitError (naming GOSTLY_MAX_DECODED_BODY) past `limit` bytes.
std::string decode_content(std::string_view body, std::string_view content_encoding,
                           std::size_t limit = max_decoded_body());

/// The response body as the client read it: `response.body` itself when it carries no
/// Content-Encoding (no copy: the pointer refers to response.body), else the decoded bytes in
/// `storage`. Throws like decode_content.
const std::string& decoded_body(const Response& response, std::string& storage);

} // namespace gostly::record
