#pragma once
// HTTP/1.1 response bytes re-framed as an HTTP/2 response (RFC 9113 §8.2.2, §8.3.2): what
// connection_h2.cpp sends when the handler answers with HTTP/1.1 bytes, or with the prepared
// bytes of the MOCK fast path. No Beast or nghttp2 here, so it is tested on its own.
#include "record/interaction.hpp"

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>

namespace gostly::http::detail {

/// True for the fields HTTP/2 forbids (RFC 9113 §8.2.2): Connection, Keep-Alive,
/// Proxy-Connection, Transfer-Encoding, Upgrade (any case).
bool is_connection_specific(std::string_view name) noexcept;

struct H2Response {
  int status = 0;
  std::string status_text;   // ":status", e.g. "200"
  record::Headers headers;   // lower-case names, in order, connection-specific fields dropped
  std::size_t body_offset = 0;  // the body within the bytes given, unless `decoded_body`
  std::size_t body_length = 0;
  std::optional<std::string> decoded_body; // a chunked body, de-chunked
  /// The body, given the same bytes that were parsed.
  std::string_view body(std::string_view bytes) const noexcept {
    return decoded_body ? std::string_view(*decoded_body) : bytes.substr(body_offset, body_length);
  }
};

/// Parses one complete HTTP/1.1 response (as serialize_response writes it; chunked or
/// read-to-end bodies too). `head`: the answer to a HEAD request, whose bytes may stop after the
/// head (the body, if any, is ignored). nullopt when the bytes are not a complete response.
std::optional<H2Response> h2_response_from_http1(std::string_view bytes, bool head = false);

} // namespace gostly::http::detail
