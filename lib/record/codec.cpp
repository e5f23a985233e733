#include "record/codec.hpp"

#include "util/encoding.hpp"
#include "util/limits.hpp"
#include "util/time.hpp"

#include <algorithm>
#include <array>
#include <cmath>
#include <cstdint>
#include <limits>
#include <cstring>
#include <initializer_list>
#if defined(__SSE2__)
#include <emmintrin.h>
#endif

namespace gostly::record {

using nlohmann::json;

namespace {

const char* type_name(const json& value) {
  switch (value.type()) {
  case json::value_t::null: return "null";
  case json::value_t::boolean: return "boolean";
  case json::value_t::string: return "string";
  case json::value_t::array: return "array";
  case json::value_t::object: return "object";
  case json::value_t::number_integer:
  case json::value_t::number_unsigned:
  case json::value_t::number_float: return "number";
  default: return "binary";
  }
}

[[noreturn]] void wrong_type(const std::string& field, const char* expected, const json& got) {
  throw FieldError{field, std::string("expected ") + expected + ", got " + type_name(got)};
}

std::string join(const std::string& prefix, const char* key) { return prefix.empty() ? key : prefix + "." + key; }

// Reads an optional string member; a present non-string is an error.
void read_string(const json& object, const std::string& prefix, const char* key, std::string& out) {
  auto it = object.find(key);
  if (it == object.end() || it->is_null()) return;
  if (!it->is_string()) wrong_type(join(prefix, key), "string", *it);
  out = it->get<std::string>();
}

void require(const json& object, const std::string& prefix, const char* key) {
  if (!object.contains(key)) throw FieldError{join(prefix, key), "missing"};
}

// A header value: a string (UTF-8), or {"b64": "…"}, the base64 of bytes that are not UTF-8
// (a Latin-1 filename, a stray byte): JSON strings hold only Unicode, and replay sends the bytes.
std::string read_header_value(const json& value, const std::string& field) {
  if (value.is_string()) return value.get<std::string>();
  if (!value.is_object()) wrong_type(field, "string or {\"b64\": \"...\"}", value);
  auto b64 = value.find("b64");
  if (b64 == value.end() || value.size() != 1)
    throw FieldError{field, "expected a string or an object with only \"b64\""};
  if (!b64->is_string()) wrong_type(field + ".b64", "string", *b64);
  auto bytes = util::base64_decode(b64->get_ref<const std::string&>());
  if (!bytes) throw FieldError{field + ".b64", "not valid base64"};
  return std::move(*bytes);
}

Headers read_headers(const json& object, const std::string& prefix, std::size_t limit) {
  Headers headers;
  auto it = object.find("headers");
  if (it == object.end() || it->is_null()) return headers;
  const std::string field = join(prefix, "headers");
  if ((it->is_object() || it->is_array()) && it->size() > limit)
    throw FieldError{field, "more than " + std::to_string(limit) + " headers (limit GOSTLY_MAX_HEADERS)"};
  if (it->is_object()) { // tolerated: {"name": "value"} (order as stored)
    for (const auto& [name, value] : it->items()) headers.emplace_back(name, read_header_value(value, field + "." + name));
    return headers;
  }
  if (!it->is_array()) wrong_type(field, "array of [name, value] pairs", *it);
  headers.reserve(it->size());
  for (std::size_t i = 0; i < it->size(); ++i) {
    const json& pair = (*it)[i];
    std::string at = field + "[" + std::to_string(i) + "]";
    if (!pair.is_array() || pair.size() != 2) wrong_type(at, "[name, value] pair", pair);
    if (!pair[0].is_string()) wrong_type(at + "[0]", "string", pair[0]);
    if (pair[1].is_string()) headers.emplace_back(pair[0].get<std::string>(), pair[1].get<std::string>());
    else headers.emplace_back(pair[0].get<std::string>(), read_header_value(pair[1], at + "[1]"));
  }
  return headers;
}

std::string read_body(const json& object, const std::string& prefix) {
  auto text = object.find("body");
  auto b64 = object.find("body_b64");
  bool has_text = text != object.end() && !text->is_null();
  bool has_b64 = b64 != object.end() && !b64->is_null();
  if (has_text && has_b64) throw FieldError{join(prefix, "body"), "both body and body_b64 are set"};
  if (has_text) {
    if (!text->is_string()) wrong_type(join(prefix, "body"), "string", *text);
    return text->get<std::string>();
  }
  if (has_b64) {
    if (!b64->is_string()) wrong_type(join(prefix, "body_b64"), "string", *b64);
    auto bytes = util::base64_decode(b64->get_ref<const std::string&>());
    if (!bytes) throw FieldError{join(prefix, "body_b64"), "not valid base64"};
    return std::move(*bytes);
  }
  return {};
}

// An integer member in [low, high], checked before it is narrowed: 4294967496 is an error, not
// the 200 that get<int>() would make of it.
int read_int(const json& value, const char* field, std::int64_t low, std::int64_t high) {
  if (!value.is_number_integer()) wrong_type(field, "integer", value);
  bool in_range = value.is_number_unsigned() ? value.get<std::uint64_t>() <= static_cast<std::uint64_t>(high)
                                                   && static_cast<std::int64_t>(value.get<std::uint64_t>()) >= low
                                             : value.get<std::int64_t>() >= low && value.get<std::int64_t>() <= high;
  if (!in_range)
    throw FieldError{field, "out of range: " + value.dump() + " (expected " + std::to_string(low) + " to " +
                                std::to_string(high) + ")"};
  return static_cast<int>(value.get<std::int64_t>());
}

json extras_of(const json& object, std::initializer_list<const char*> known) {
  json extra = json::object();
  for (const auto& [key, value] : object.items()) {
    bool is_known = false;
    for (const char* k : known)
      if (key == k) {
        is_known = true;
        break;
      }
    if (!is_known) extra[key] = value;
  }
  return extra;
}

json headers_to_json(const Headers& headers) {
  json out = json::array();
  for (const auto& [name, value] : headers) {
    if (util::is_valid_utf8(value)) out.push_back(json::array({name, value}));
    else out.push_back(json::array({name, json{{"b64", util::base64_encode(value)}}}));
  }
  return out;
}

void body_to_json(json& object, const std::string& body) {
  if (body.empty()) return;
  if (util::is_valid_utf8(body))
    object["body"] = body;
  else
    object["body_b64"] = util::base64_encode(body);
}

void merge_extra(json& object, const json& extra) {
  for (const auto& [key, value] : extra.items())
    if (!object.contains(key)) object[key] = value;
}

} // namespace

json to_json(const Interaction& in) {
  json out = json::object();
  out["type"] = "interaction";
  out["v"] = in.v;
  if (!in.id.empty()) out["id"] = in.id;
  out["service_id"] = in.service_id;
  if (!in.session_id.empty()) out["session_id"] = in.session_id;
  out["source"] = in.source;
  if (!in.recorded_at.empty()) out["recorded_at"] = in.recorded_at;
  out["duration_ms"] = in.duration_ms;

  json request = json::object();
  request["method"] = in.request.method;
  request["uri"] = in.request.uri;
  request["scheme"] = in.request.scheme;
  if (!in.request.host.empty()) request["host"] = in.request.host;
  request["http_version"] = in.request.http_version;
  request["headers"] = headers_to_json(in.request.headers);
  body_to_json(request, in.request.body);
  merge_extra(request, in.request.extra);
  out["request"] = std::move(request);

  json response = json::object();
  response["status"] = in.response.status;
  if (!in.response.reason.empty()) response["reason"] = in.response.reason;
  response["headers"] = headers_to_json(in.response.headers);
  body_to_json(response, in.response.body);
  merge_extra(response, in.response.extra);
  out["response"] = std::move(response);

  if (!in.redacted.empty()) out["redacted"] = in.redacted;
  merge_extra(out, in.extra);
  return out;
}

namespace {

// The bytes of one well-formed UTF-8 sequence starting at `s[i]`, or 0 when it is not one.
std::size_t utf8_sequence_length(std::string_view s, std::size_t i) noexcept {
  auto c = static_cast<unsigned char>(s[i]);
  std::size_t len = c < 0x80 ? 1 : (c & 0xE0) == 0xC0 ? 2 : (c & 0xF0) == 0xE0 ? 3 : (c & 0xF8) == 0xF0 ? 4 : 0;
  if (len <= 1 || i + len > s.size()) return len == 1 ? 1 : 0;
  return util::is_valid_utf8(s.substr(i, len)) ? len : 0;
}

// Bytes a JSON string cannot hold as they are: control characters, '"' and '\\'.
constexpr std::array<bool, 256> kNeedsEscape = [] {
  std::array<bool, 256> table{};
  for (int c = 0; c < 0x20; ++c) table[c] = true;
  table['"'] = table['\\'] = true;
  return table;
}();

// Writes the escape of an ASCII byte that needs one; returns the new write position.
char* write_escape(char* w, unsigned char u) {
  static constexpr char hex[] = "0123456789abcdef";
  *w++ = '\\';
  switch (u) {
  case '"': *w++ = '"'; break;
  case '\\': *w++ = '\\'; break;
  case '\n': *w++ = 'n'; break;
  case '\r': *w++ = 'r'; break;
  case '\t': *w++ = 't'; break;
  case '\b': *w++ = 'b'; break;
  case '\f': *w++ = 'f'; break;
  default:
    *w++ = 'u';
    *w++ = '0';
    *w++ = '0';
    *w++ = hex[u >> 4];
    *w++ = hex[u & 15];
  }
  return w;
}

// Escapes valid UTF-8 `s[0, n)` to `w`, which has room for 6 bytes per input byte plus 16;
// returns the new end. With SSE2, 16 bytes at a time: one compare finds the next byte to escape
// and everything before it is already stored (the store may run ahead into the spare room).
char* escape_valid(const unsigned char* s, std::size_t n, char* w) {
  std::size_t i = 0;
#if defined(__SSE2__)
  const __m128i quote = _mm_set1_epi8('"'), backslash = _mm_set1_epi8('\\'), last_control = _mm_set1_epi8(0x1f);
  while (i + 16 <= n) {
    __m128i v = _mm_loadu_si128(reinterpret_cast<const __m128i*>(s + i));
    __m128i control = _mm_cmpeq_epi8(_mm_min_epu8(v, last_control), v); // unsigned v <= 0x1f
    __m128i special = _mm_or_si128(_mm_or_si128(_mm_cmpeq_epi8(v, quote), _mm_cmpeq_epi8(v, backslash)), control);
    auto mask = static_cast<unsigned>(_mm_movemask_epi8(special));
    _mm_storeu_si128(reinterpret_cast<__m128i*>(w), v);
    if (mask == 0) {
      w += 16;
      i += 16;
      continue;
    }
    auto plain = static_cast<std::size_t>(__builtin_ctz(mask));
    w = write_escape(w + plain, s[i + plain]);
    i += plain + 1;
  }
#endif
  for (; i < n; ++i) {
    if (kNeedsEscape[s[i]]) w = write_escape(w, s[i]);
    else *w++ = static_cast<char>(s[i]);
  }
  return w;
}

// Text is escaped in chunks of this many bytes, each into room for its worst case (6 bytes a
// byte): one pass, and a large body never needs six times its size at once.
constexpr std::size_t kEscapeChunk = 4096;

// Appends `text` as a JSON string, escaped as nlohmann's dump() does; bytes that are not UTF-8
// become U+FFFD (bodies and header values that are not UTF-8 go base64; this is for the URI,
// reason and the like, which the HTTP layer hands over as bytes).
// This runs over every recorded body on the LEARN path, so it writes through a pointer rather
// than appending escape by escape.
void append_string(std::string& out, std::string_view text, bool known_valid = false) {
  const auto* s = reinterpret_cast<const unsigned char*>(text.data());
  const std::size_t n = text.size();
  out += '"';
  if (known_valid || util::is_valid_utf8(text)) {
    for (std::size_t at = 0; at < n; at += kEscapeChunk) {
      const std::size_t len = std::min(kEscapeChunk, n - at), start = out.size();
      out.resize(start + len * 6 + 16);
      char* end = escape_valid(s + at, len, out.data() + start);
      out.resize(static_cast<std::size_t>(end - out.data()));
    }
    out += '"';
    return;
  }
  const std::size_t start = out.size();
  out.resize(start + n * 6 + 16); // each byte at most a \u00XX or \ufffd; the spare 16 as escape_valid wants
  char* w = out.data() + start;
  for (std::size_t i = 0; i < n;) {
    std::size_t len = s[i] < 0x80 ? 1 : utf8_sequence_length(text, i);
    if (len == 1) {
      w = escape_valid(s + i, 1, w);
    } else if (len == 0) {
      std::memcpy(w, "\\ufffd", 6);
      w += 6;
    } else {
      std::memcpy(w, s + i, len);
      w += len;
    }
    i += len == 0 ? 1 : len;
  }
  out.resize(static_cast<std::size_t>(w - out.data()));
  out += '"';
}

void append_key(std::string& out, std::string_view key) {
  out += ',';
  append_string(out, key);
  out += ':';
}

// The record's own field names are plain ASCII: no escaping or UTF-8 check needed.
template <std::size_t N>
void append_field(std::string& out, const char (&name)[N]) {
  out += ",\"";
  out.append(name, N - 1);
  out += "\":";
}

void append_headers(std::string& out, const Headers& headers) {
  out += "\"headers\":[";
  for (std::size_t i = 0; i < headers.size(); ++i) {
    if (i) out += ',';
    out += '[';
    append_string(out, headers[i].first);
    out += ',';
    const std::string& value = headers[i].second;
    if (util::is_valid_utf8(value)) {
      append_string(out, value, /*known_valid=*/true);
    } else {
      out += "{\"b64\":\"";
      out += util::base64_encode(value);
      out += "\"}";
    }
    out += ']';
  }
  out += ']';
}

void append_body(std::string& out, const std::string& body) {
  if (body.empty()) return;
  if (util::is_valid_utf8(body)) {
    out += ",\"body\":";
    append_string(out, body, /*known_valid=*/true);
  } else {
    out += ",\"body_b64\":\"";
    out += util::base64_encode(body);
    out += '"';
  }
}

void append_extra(std::string& out, const json& extra, std::initializer_list<const char*> emitted) {
  for (const auto& [key, value] : extra.items()) {
    bool taken = false;
    for (const char* k : emitted) taken = taken || key == k;
    if (taken) continue;
    append_key(out, key);
    out += value.dump(-1, ' ', false, json::error_handler_t::replace);
  }
}

} // namespace

std::string encode_line(const Interaction& in) {
  std::string out;
  append_line(out, in);
  return out;
}

void append_line(std::string& out, const Interaction& in) {
  // Written by hand rather than through to_json(): this runs once per recorded interaction on
  // the LEARN path, and building a DOM first costs more than the rest of the recording. The
  // output is the same object as to_json() (a test checks), with "type" and "v" first.
  // Room for the usual line in one allocation: headers quoted, JSON bodies gain an escape per
  // quote (about an eighth), base64 a third, and the last chunk escaped needs its worst case.
  std::size_t header_bytes = 0;
  for (const auto* headers : {&in.request.headers, &in.response.headers})
    for (const auto& [name, value] : *headers) header_bytes += name.size() + value.size() + 8;
  std::size_t bodies = in.request.body.size() + in.response.body.size();
  out.reserve(out.size() + 512 + in.request.uri.size() + header_bytes + bodies * 4 / 3 +
              std::min(in.response.body.size(), kEscapeChunk) * 5);
  out += "{\"type\":\"interaction\",\"v\":";
  out += std::to_string(in.v);
  if (!in.id.empty()) {
    append_field(out, "id");
    append_string(out, in.id);
  }
  append_field(out, "service_id");
  append_string(out, in.service_id);
  if (!in.session_id.empty()) {
    append_field(out, "session_id");
    append_string(out, in.session_id);
  }
  append_field(out, "source");
  append_string(out, in.source);
  if (!in.recorded_at.empty()) {
    append_field(out, "recorded_at");
    append_string(out, in.recorded_at);
  }
  append_field(out, "duration_ms");
  out += json(in.duration_ms).dump();

  out += ",\"request\":{\"method\":";
  append_string(out, in.request.method);
  append_field(out, "uri");
  append_string(out, in.request.uri);
  append_field(out, "scheme");
  append_string(out, in.request.scheme);
  if (!in.request.host.empty()) {
    append_field(out, "host");
    append_string(out, in.request.host);
  }
  append_field(out, "http_version");
  append_string(out, in.request.http_version);
  out += ',';
  append_headers(out, in.request.headers);
  append_body(out, in.request.body);
  append_extra(out, in.request.extra, {"method", "uri", "scheme", "host", "http_version", "headers", "body", "body_b64"});
  out += '}';

  out += ",\"response\":{\"status\":";
  out += std::to_string(in.response.status);
  if (!in.response.reason.empty()) {
    append_field(out, "reason");
    append_string(out, in.response.reason);
  }
  out += ',';
  append_headers(out, in.response.headers);
  append_body(out, in.response.body);
  append_extra(out, in.response.extra, {"status", "reason", "headers", "body", "body_b64"});
  out += '}';

  if (!in.redacted.empty()) {
    out += ",\"redacted\":[";
    for (std::size_t i = 0; i < in.redacted.size(); ++i) {
      if (i) out += ',';
      append_string(out, in.redacted[i]);
    }
    out += ']';
  }
  append_extra(out, in.extra, {"type", "v", "id", "service_id", "session_id", "source", "recorded_at", "duration_ms",
                               "request", "response", "redacted"});
  out += '}';
}

bool is_token(std::string_view text) noexcept {
  static constexpr auto kTokenChar = [] {
    std::array<bool, 256> table{};
    for (int c = '0'; c <= '9'; ++c) table[c] = true;
    for (int c = 'a'; c <= 'z'; ++c) table[c] = table[c - 'a' + 'A'] = true;
    for (unsigned char c : std::string_view("!#$%&'*+-.^_`|~")) table[c] = true;
    return table;
  }();
  if (text.empty()) return false;
  for (unsigned char c : text)
    if (!kTokenChar[c]) return false;
  return true;
}

bool is_field_text(std::string_view text) noexcept {
  // A plain loop: find_first_of with a 3-byte set calls memchr once per byte, and the
  // serializer runs this on every header value of every forwarded response.
  for (unsigned char c : text)
    if (c <= '\r' && (c == '\r' || c == '\n' || c == '\0')) return false;
  return true;
}

namespace {

void check_headers(const Headers& headers, const char* prefix) {
  for (std::size_t i = 0; i < headers.size(); ++i) {
    if (!is_token(headers[i].first))
      throw FieldError{std::string(prefix) + "[" + std::to_string(i) + "][0]",
                       "not a valid header name (an RFC 9110 token: no spaces, colons, CR or LF)"};
    if (!is_field_text(headers[i].second))
      throw FieldError{std::string(prefix) + "[" + std::to_string(i) + "][1]", "header value contains CR, LF or NUL"};
  }
}

} // namespace

void check_wire_safe(const Interaction& in) {
  if (!is_token(in.request.method)) throw FieldError{"request.method", "not a valid HTTP method (an RFC 9110 token)"};
  if (!is_field_text(in.request.uri)) throw FieldError{"request.uri", "contains CR, LF or NUL"};
  // The host becomes a Host header when a recording is forwarded or exported.
  if (!is_field_text(in.request.host)) throw FieldError{"request.host", "contains CR, LF or NUL"};
  check_headers(in.request.headers, "request.headers");
  if (!is_field_text(in.response.reason)) throw FieldError{"response.reason", "contains CR, LF or NUL"};
  check_headers(in.response.headers, "response.headers");
}

std::size_t max_headers() { return util::limit_from_env("GOSTLY_MAX_HEADERS", 1000); }

Interaction from_json(const json& object) {
  if (!object.is_object()) wrong_type("", "object", object);
  Interaction in;
  if (auto type = object.find("type"); type != object.end()) {
    if (!type->is_string()) wrong_type("type", "string", *type);
    if (*type != "interaction") throw FieldError{"type", "expected \"interaction\", got \"" + type->get<std::string>() + "\""};
  }
  if (auto v = object.find("v"); v != object.end()) in.v = read_int(*v, "v", 1, std::numeric_limits<int>::max());
  read_string(object, "", "id", in.id);
  read_string(object, "", "service_id", in.service_id);
  if (in.service_id.empty()) in.service_id = std::string(kDefaultService);
  read_string(object, "", "session_id", in.session_id);
  read_string(object, "", "source", in.source);
  read_string(object, "", "recorded_at", in.recorded_at);
  if (!in.recorded_at.empty() && !util::parse_iso8601(in.recorded_at))
    throw FieldError{"recorded_at", "not an RFC 3339 date-time: '" + in.recorded_at.substr(0, 40) + "'"};
  if (auto d = object.find("duration_ms"); d != object.end() && !d->is_null()) {
    if (!d->is_number()) wrong_type("duration_ms", "number", *d);
    in.duration_ms = d->get<double>();
    if (!std::isfinite(in.duration_ms) || in.duration_ms < 0)
      throw FieldError{"duration_ms", "out of range: " + d->dump() + " (expected a finite number >= 0)"};
  }
  // Read once per process: from_json runs per record (transition, every library load).
  static const std::size_t header_limit = max_headers();

  require(object, "", "request");
  const json& request = object["request"];
  if (!request.is_object()) wrong_type("request", "object", request);
  require(request, "request", "method");
  require(request, "request", "uri");
  read_string(request, "request", "method", in.request.method);
  read_string(request, "request", "uri", in.request.uri);
  if (in.request.method.empty()) throw FieldError{"request.method", "empty"};
  if (in.request.uri.empty()) throw FieldError{"request.uri", "empty"};
  read_string(request, "request", "scheme", in.request.scheme);
  read_string(request, "request", "host", in.request.host);
  read_string(request, "request", "http_version", in.request.http_version);
  in.request.headers = read_headers(request, "request", header_limit);
  in.request.body = read_body(request, "request");
  in.request.extra = extras_of(request, {"method", "uri", "scheme", "host", "http_version", "headers", "body", "body_b64"});

  require(object, "", "response");
  const json& response = object["response"];
  if (!response.is_object()) wrong_type("response", "object", response);
  require(response, "response", "status");
  in.response.status = read_int(response["status"], "response.status", 100, 999);
  read_string(response, "response", "reason", in.response.reason);
  in.response.headers = read_headers(response, "response", header_limit);
  in.response.body = read_body(response, "response");
  in.response.extra = extras_of(response, {"status", "reason", "headers", "body", "body_b64"});

  if (auto r = object.find("redacted"); r != object.end() && !r->is_null()) {
    if (!r->is_array()) wrong_type("redacted", "array of strings", *r);
    for (std::size_t i = 0; i < r->size(); ++i) {
      if (!(*r)[i].is_string()) wrong_type("redacted[" + std::to_string(i) + "]", "string", (*r)[i]);
      in.redacted.push_back((*r)[i].get<std::string>());
    }
  }
  in.extra = extras_of(object, {"type", "v", "id", "service_id", "session_id", "source", "recorded_at", "duration_ms",
                                "request", "response", "redacted"});
  check_wire_safe(in);
  return in;
}

} // namespace gostly::record
