#pragma once
// The limits and checks a request head passes before its body is read or a handler sees it,
// with an entry point free of Beast for fuzzers and tests: check_request_bytes() runs bytes
// through the very parser settings and head checks the server connection uses (the shared
// functions in lib/http/parsing.hpp), not a copy of them.
#include <cstddef>
#include <cstdint>
#include <string_view>

namespace gostly::http {

/// Largest head (start line and header fields) of a request or an upstream response. A request
/// over it gets 431 and the connection closes. Big cookies and JWTs fit; the read buffer grows
/// to it only for a head that needs it.
inline constexpr std::uint32_t kHeaderLimit = 64 * 1024;

/// Most header fields in one head. Within kHeaderLimit a head could hold 16 000 four-byte
/// fields, each a parser node and a record::Headers entry that every later stage walks;
/// browsers send about 20, Apache allows 100, Node 2000. A request over it gets 431.
inline constexpr std::size_t kMaxHeaderFields = 1000;

/// The status the server would answer to `bytes` arriving as the first request on a
/// connection whose body limit is `max_body`: 200 when a complete request (head and body)
/// passes, 0 when the bytes are a valid start that needs more, 400 (malformed, or framing two
/// parsers could read differently: RFC 9112 §6.1, §6.3), 413 (body over max_body), 431 (head
/// over kHeaderLimit or kMaxHeaderFields), 501 (a transfer coding other than chunked). Later
/// pipelined requests in `bytes` are not looked at.
int check_request_bytes(std::string_view bytes, std::uint64_t max_body = 64ull << 20);

} // namespace gostly::http
