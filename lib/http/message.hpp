#pragma once
// HTTP/1.1 message helpers with no Beast in sight: hop-by-hop header handling (RFC 9110 §7.6.1),
// response serialization to wire bytes, and upstream URL / listen address parsing. Tools and
// lib/serve use these; only lib/http's .cpp files include Beast.
#include "record/interaction.hpp"

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace gostly::http {

/// True for the fixed hop-by-hop names: Connection, Keep-Alive, Proxy-Connection, TE,
/// Transfer-Encoding, Upgrade, Trailer, Proxy-Authorization, Proxy-Authenticate.
bool is_hop_by_hop(std::string_view name) noexcept;

/// Removes the fixed hop-by-hop headers from `headers`, and every header that a Connection
/// header names (`Connection: close, X-Foo` also removes X-Foo).
void strip_hop_by_hop(record::Headers& headers);

/// True when a `name` header (any of its repeats) lists `token` among its comma-separated items,
/// case-insensitively, each item compared up to its first ';' (parameters, as in
/// `Sec-WebSocket-Extensions: permessage-deflate; client_max_window_bits`).
bool header_lists(const record::Headers& headers, std::string_view name, std::string_view token) noexcept;

/// True for an HTTP/1.1 WebSocket upgrade request: `Upgrade: websocket` and a Connection header
/// listing `upgrade` (RFC 6455 4.1).
bool is_websocket_upgrade(const record::Request& request) noexcept;

enum class BodyMode { send, head };      // head: keep Content-Length as given, send no body
enum class Close { no, yes };            // yes: add `Connection: close`

/// Serializes `response` as HTTP/1.1 wire bytes. Hop-by-hop headers and Transfer-Encoding are
/// dropped (the body is sent whole), Content-Length is set from the body (kept as recorded for
/// BodyMode::head), and `extra` headers are appended after the recorded ones. A reason, header
/// name or value that could end a line (CR, LF, NUL; a name that is not a token) is never
/// written: the result is then a 500 JSON error naming the field, e.g. `response.headers[1][1]`.
std::string serialize_response(const record::Response& response, const record::Headers& extra = {},
                               BodyMode body_mode = BodyMode::send, Close close = Close::no);

/// Serializes the request a proxy sends to `upstream`: HTTP/1.1, target = the upstream's base
/// path + `request.uri`, Host = the upstream's authority (first, as RFC 9110 asks), the request's
/// headers in order except Host, Content-Length, Expect and the fixed hop-by-hop names (the
/// caller has already removed those a Connection header lists), and Content-Length when there
/// is a body or the method carries one.
struct Url;
std::string serialize_request(const record::Request& request, const Url& upstream);

/// A complete response with a JSON body and Content-Type application/json.
std::string json_response(int status, std::string_view json_body, const record::Headers& extra = {},
                          Close close = Close::no);

using record::reason_phrase;

/// An upstream base URL: `http://host[:port][/base/path]`.
struct Url {
  std::string scheme;     // "http" or "https"
  std::string host;       // without brackets for IPv6 literals
  std::uint16_t port = 0;
  std::string base_path;  // "" or "/base" (no trailing slash)
  /// `host[:port]` as a Host header spells it (port omitted when it is the scheme's default).
  std::string authority() const;
  /// `scheme://authority/base`.
  std::string to_string() const;
};

/// Parses an upstream URL; nullopt when it is not `http(s)://host[:port][/path]`.
std::optional<Url> parse_url(std::string_view text);

struct HostPort {
  std::string host;
  std::uint16_t port = 0;
};

/// Parses `HOST:PORT` (IPv6 as `[::1]:8080`); port 0 allowed. nullopt when malformed.
std::optional<HostPort> parse_host_port(std::string_view text);

/// Parses a size such as `65536`, `64K`, `64M`, `1G` (binary units, optional trailing `B`/`iB`).
std::optional<std::uint64_t> parse_size(std::string_view text);

/// Splits an absolute-form request target (`http://host:port/path?q`) into authority and
/// origin-form (`/path?q`, "/" when empty); nullopt when `target` is not absolute-form. Userinfo
/// (`user:secret@`) is dropped from the authority.
struct AbsoluteTarget {
  std::string scheme;
  std::string authority;
  std::string origin_form;
};
std::optional<AbsoluteTarget> split_absolute_form(std::string_view target);

} // namespace gostly::http
