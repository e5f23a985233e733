#pragma once
// The Beast half of request_head.hpp, for lib/http's .cpp files only: how a parser is set up
// and what a parsed head must satisfy, shared by the server connection, the upstream client and
// check_request_bytes() so the three cannot drift apart.
#include "http/request_head.hpp"

#include <boost/beast/http.hpp>

#include <string>

namespace gostly::http::detail {

namespace bhttp = boost::beast::http;
using RequestParser = bhttp::request_parser<bhttp::string_body>;
using ResponseParser = bhttp::response_parser<bhttp::string_body>;

/// The most a connection's read buffer holds: a head is parsed from it whole, so it must hold
/// kHeaderLimit (Beast reports header_limit, not buffer_overflow, when the head is too big).
/// It grows from 512 bytes only as far as a request needs.
inline constexpr std::size_t kReadBufferLimit = kHeaderLimit;

/// Sets the head and body limits of a fresh request parser.
void configure(RequestParser& parser, std::uint64_t max_body) noexcept;

/// What is wrong with the framing of a parsed head, if anything. Beast 1.74 takes a
/// Transfer-Encoding whose final coding is not chunked (`xchunked`, `gzip`, `chunked,
/// identity`) as "no body", so the body would be read as the next request; it also lets a
/// later Transfer-Encoding or Content-Length field override an earlier one.
enum class Framing {
  ok,
  too_many_fields,    // over kMaxHeaderFields
  te_not_chunked,     // Transfer-Encoding present but chunked is not its only final coding
  te_other_coding,    // chunked last, with another coding before it (gzip, chunked)
  te_with_length,     // Transfer-Encoding and Content-Length together
  te_in_http10,       // Transfer-Encoding in an HTTP/1.0 message
  length_repeated,    // Content-Length more than once, or as a list
};
Framing check_framing(const bhttp::fields& fields, unsigned version) noexcept;
/// Words for a Framing, naming the RFC rule.
const char* describe(Framing framing) noexcept;

/// Why a request cannot be served; status 0 when it can.
struct Refusal {
  int status = 0;
  std::string reason;
};

/// Checks a request whose head is parsed: framing, field count, announced length.
Refusal check_request_head(const RequestParser& parser, std::uint64_t max_body);

/// The answer to a read that failed with `ec`: 413 for the body limit, 431 for the head limit,
/// 400 for a malformed request; status 0 (just close) for end of stream, a reset or a timeout.
Refusal refusal_for(boost::beast::error_code ec);

} // namespace gostly::http::detail
