#include "http/message.hpp"

#include "record/codec.hpp"
#include "util/encoding.hpp"

#include <algorithm>
#include <array>
#include <charconv>

namespace gostly::http {
namespace detail {
// In log.cpp: spdlog's headers here made GCC stop inlining this file's string appends (+1 000
// instructions per forwarded response).
void log_refused_response(const std::string& field, const char* why);
} // namespace detail

namespace {

constexpr std::array<std::string_view, 9> kHopByHop = {
    "connection", "keep-alive", "proxy-connection", "te", "transfer-encoding",
    "upgrade", "trailer", "proxy-authorization", "proxy-authenticate"};

std::string_view trim(std::string_view s) noexcept {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

bool status_has_no_body(int status) noexcept { return (status >= 100 && status < 200) || status == 204 || status == 304; }

void append_header(std::string& out, std::string_view name, std::string_view value) {
  out.append(name);
  out.append(": ");
  out.append(value);
  out.append("\r\n");
}

std::optional<std::uint16_t> parse_port(std::string_view text) {
  unsigned value = 0;
  if (text.empty() || text.size() > 5) return std::nullopt;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (ec != std::errc{} || end != text.data() + text.size() || value > 65535) return std::nullopt;
  return static_cast<std::uint16_t>(value);
}

// Where a response cannot be written as it is: a reason, header name or value holding CR, LF or
// NUL (or a name that is not a token) would end a line early and let a stored record add
// headers, or a whole second response, of its own. No allocation when all is well.
struct Unsafe {
  const char* list = nullptr; // "response.headers", "extra.headers" or "response.reason"
  std::size_t index = 0;
  int part = 0;               // 0 name, 1 value
  const char* why = nullptr;
};

std::optional<Unsafe> find_unsafe(const record::Response& response, const record::Headers& extra) noexcept {
  if (!record::is_field_text(response.reason)) return Unsafe{"response.reason", 0, -1, "contains CR, LF or NUL"};
  for (const auto* list : {&response.headers, &extra}) {
    const char* name = list == &extra ? "extra.headers" : "response.headers";
    for (std::size_t i = 0; i < list->size(); ++i) {
      const auto& [n, v] = (*list)[i];
      if (!record::is_token(n)) return Unsafe{name, i, 0, "not a valid header name (an RFC 9110 token)"};
      if (!record::is_field_text(v)) return Unsafe{name, i, 1, "header value contains CR, LF or NUL"};
    }
  }
  return std::nullopt;
}

// The 500 sent instead of a response that find_unsafe() refused; logged once per process (a
// bad record would otherwise log on every replay).
std::string write_response(const record::Response& response, const record::Headers& extra, BodyMode body_mode,
                           Close close);

std::string refused_response(const Unsafe& unsafe, BodyMode body_mode, Close close) {
  std::string field = unsafe.list;
  if (unsafe.part >= 0) field += "[" + std::to_string(unsafe.index) + "][" + std::to_string(unsafe.part) + "]";
  detail::log_refused_response(field, unsafe.why);
  record::Response error;
  error.status = 500;
  error.headers.emplace_back("Content-Type", "application/json");
  // Plain concatenation is valid JSON here: the field and the reason are ASCII constants of ours.
  error.body = R"({"error":"stored response cannot be sent: )" + field + ": " + unsafe.why + "\"}\n";
  return write_response(error, {}, body_mode, close);
}

} // namespace

bool is_hop_by_hop(std::string_view name) noexcept {
  return std::any_of(kHopByHop.begin(), kHopByHop.end(), [&](std::string_view h) { return util::iequals(h, name); });
}

void strip_hop_by_hop(record::Headers& headers) {
  std::vector<std::string> named;
  for (const auto& [name, value] : headers) {
    if (!util::iequals(name, "connection")) continue;
    std::string_view rest = value;
    while (!rest.empty()) {
      auto comma = rest.find(',');
      auto token = trim(rest.substr(0, comma));
      if (!token.empty()) named.emplace_back(token);
      rest = comma == std::string_view::npos ? std::string_view{} : rest.substr(comma + 1);
    }
  }
  std::erase_if(headers, [&](const record::Header& h) {
    if (is_hop_by_hop(h.first)) return true;
    return std::any_of(named.begin(), named.end(), [&](const std::string& n) { return util::iequals(n, h.first); });
  });
}


bool header_lists(const record::Headers& headers, std::string_view name, std::string_view token) noexcept {
  for (const auto& [field, value] : headers) {
    if (!util::iequals(field, name)) continue;
    std::string_view rest = value;
    while (!rest.empty()) {
      auto comma = rest.find(',');
      std::string_view item = rest.substr(0, comma);
      if (util::iequals(trim(item.substr(0, item.find(';'))), token)) return true;
      rest = comma == std::string_view::npos ? std::string_view{} : rest.substr(comma + 1);
    }
  }
  return false;
}

bool is_websocket_upgrade(const record::Request& request) noexcept {
  return request.http_version == "1.1" && header_lists(request.headers, "upgrade", "websocket") &&
         header_lists(request.headers, "connection", "upgrade");
}


namespace {

// serialize_response() once its input is known to be safe; kept apart so the check does not
// change how this is compiled (inlining, the named return value).
std::string write_response(const record::Response& response, const record::Headers& extra, BodyMode body_mode,
                           Close close) {
  std::string out;
  std::size_t header_bytes = 64;
  for (const auto& [n, v] : response.headers) header_bytes += n.size() + v.size() + 4;
  for (const auto& [n, v] : extra) header_bytes += n.size() + v.size() + 4;
  out.reserve(header_bytes + (body_mode == BodyMode::send ? response.body.size() : 0));

  out.append("HTTP/1.1 ");
  out.append(std::to_string(response.status));
  out.push_back(' ');
  out.append(response.reason.empty() ? reason_phrase(response.status) : std::string_view(response.reason));
  out.append("\r\n");

  // Header names a Connection header lists are hop-by-hop too. Answers that come from an
  // upstream call or the library have been stripped already: copy only when there is work.
  const bool has_hop_by_hop = std::any_of(response.headers.begin(), response.headers.end(),
                                          [](const auto& header) { return is_hop_by_hop(header.first); });
  record::Headers stripped;
  if (has_hop_by_hop) {
    stripped = response.headers;
    strip_hop_by_hop(stripped);
  }
  const record::Headers& headers = has_hop_by_hop ? stripped : response.headers;
  const bool no_body = status_has_no_body(response.status);
  bool kept_length = false;
  for (const auto& [name, value] : headers) {
    if (util::iequals(name, "content-length")) {
      if (body_mode == BodyMode::head && !kept_length) {
        append_header(out, name, value);
        kept_length = true;
      }
      continue;
    }
    append_header(out, name, value);
  }
  for (const auto& [name, value] : extra) append_header(out, name, value);
  if (!no_body && body_mode == BodyMode::send) append_header(out, "Content-Length", std::to_string(response.body.size()));
  if (close == Close::yes) append_header(out, "Connection", "close");
  out.append("\r\n");
  if (!no_body && body_mode == BodyMode::send) out.append(response.body);
  return out;
}

} // namespace

std::string serialize_response(const record::Response& response, const record::Headers& extra, BodyMode body_mode,
                               Close close) {
  // Checked here, where bytes are made, so every path is covered and a prepared MOCK reply pays
  // once, when it is prepared, not per request.
  if (auto unsafe = find_unsafe(response, extra)) [[unlikely]]
    return refused_response(*unsafe, body_mode, close);
  return write_response(response, extra, body_mode, close);
}

std::string serialize_request(const record::Request& request, const Url& upstream) {
  std::string out;
  std::size_t header_bytes = 64 + upstream.base_path.size() + request.uri.size();
  for (const auto& [n, v] : request.headers) header_bytes += n.size() + v.size() + 4;
  out.reserve(header_bytes + request.body.size());
  out.append(request.method);
  out.push_back(' ');
  out.append(upstream.base_path);
  out.append(request.uri);
  out.append(" HTTP/1.1\r\n");
  append_header(out, "Host", upstream.authority());
  for (const auto& [name, value] : request.headers) {
    if (util::iequals(name, "host") || util::iequals(name, "content-length") || util::iequals(name, "expect") ||
        is_hop_by_hop(name))
      continue;
    append_header(out, name, value);
  }
  const bool carries_body = !request.body.empty() || request.method == "POST" || request.method == "PUT" || request.method == "PATCH";
  if (carries_body) append_header(out, "Content-Length", std::to_string(request.body.size()));
  out.append("\r\n");
  out.append(request.body);
  return out;
}

std::string json_response(int status, std::string_view json_body, const record::Headers& extra, Close close) {
  record::Response response;
  response.status = status;
  response.headers.emplace_back("Content-Type", "application/json");
  response.body = std::string(json_body);
  if (!response.body.empty() && response.body.back() != '\n') response.body.push_back('\n');
  return serialize_response(response, extra, BodyMode::send, close);
}

std::string Url::authority() const {
  std::string h = host.find(':') != std::string::npos ? "[" + host + "]" : host;
  bool default_port = (scheme == "http" && port == 80) || (scheme == "https" && port == 443);
  return default_port ? h : h + ":" + std::to_string(port);
}

std::string Url::to_string() const { return scheme + "://" + authority() + base_path; }

std::optional<HostPort> parse_host_port(std::string_view text) {
  HostPort out;
  std::string_view port_text;
  if (!text.empty() && text.front() == '[') {
    auto close = text.find(']');
    if (close == std::string_view::npos || close + 1 >= text.size() || text[close + 1] != ':') return std::nullopt;
    out.host = std::string(text.substr(1, close - 1));
    port_text = text.substr(close + 2);
  } else {
    auto colon = text.rfind(':');
    if (colon == std::string_view::npos || text.find(':') != colon) return std::nullopt;
    out.host = std::string(text.substr(0, colon));
    port_text = text.substr(colon + 1);
  }
  if (out.host.empty()) return std::nullopt;
  auto port = parse_port(port_text);
  if (!port) return std::nullopt;
  out.port = *port;
  return out;
}

std::optional<Url> parse_url(std::string_view text) {
  Url url;
  auto sep = text.find("://");
  if (sep == std::string_view::npos) return std::nullopt;
  url.scheme = util::to_lower(text.substr(0, sep));
  if (url.scheme != "http" && url.scheme != "https") return std::nullopt;
  std::string_view rest = text.substr(sep + 3);
  auto slash = rest.find_first_of("/?#");
  std::string_view authority = rest.substr(0, slash);
  std::string_view path = slash == std::string_view::npos ? std::string_view{} : rest.substr(slash);
  if (authority.empty() || authority.find('@') != std::string_view::npos) return std::nullopt;
  bool has_port = authority.front() == '[' ? authority.find("]:") != std::string_view::npos
                                           : authority.find(':') != std::string_view::npos;
  if (has_port) {
    auto hp = parse_host_port(authority);
    if (!hp || hp->port == 0) return std::nullopt;
    url.host = hp->host;
    url.port = hp->port;
  } else {
    if (authority.front() == '[') {
      if (authority.back() != ']') return std::nullopt;
      authority = authority.substr(1, authority.size() - 2);
    }
    url.host = std::string(authority);
    url.port = url.scheme == "https" ? 443 : 80;
  }
  if (!path.empty() && path.front() != '/') return std::nullopt; // no query or fragment in a base URL
  while (!path.empty() && path.back() == '/') path.remove_suffix(1);
  url.base_path = std::string(path);
  return url;
}

std::optional<std::uint64_t> parse_size(std::string_view text) {
  text = trim(text);
  std::uint64_t value = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (ec != std::errc{} || end == text.data()) return std::nullopt;
  std::string unit = util::to_lower(std::string_view(end, static_cast<std::size_t>(text.data() + text.size() - end)));
  if (unit.ends_with("ib")) unit.resize(unit.size() - 2);
  else if (unit.size() > 1 && unit.ends_with("b")) unit.pop_back();
  else if (unit == "b") unit.clear();
  int shift = 0;
  if (unit.empty()) shift = 0;
  else if (unit == "k") shift = 10;
  else if (unit == "m") shift = 20;
  else if (unit == "g") shift = 30;
  else return std::nullopt;
  if (shift && value > (UINT64_MAX >> shift)) return std::nullopt;
  return value << shift;
}

std::optional<AbsoluteTarget> split_absolute_form(std::string_view target) {
  auto sep = target.find("://");
  if (target.empty() || target.front() == '/' || sep == std::string_view::npos) return std::nullopt;
  AbsoluteTarget out;
  out.scheme = util::to_lower(target.substr(0, sep));
  std::string_view rest = target.substr(sep + 3);
  auto slash = rest.find_first_of("/?");
  std::string_view authority = rest.substr(0, slash);
  // `user:password@` is a credential, not part of the host (RFC 3986 §3.2.1): it must not reach
  // routing, the traffic log or the library.
  if (auto at = authority.rfind('@'); at != std::string_view::npos) authority.remove_prefix(at + 1);
  out.authority = std::string(authority);
  if (out.authority.empty()) return std::nullopt;
  if (slash == std::string_view::npos) out.origin_form = "/";
  else if (rest[slash] == '?') out.origin_form = "/" + std::string(rest.substr(slash));
  else out.origin_form = std::string(rest.substr(slash));
  return out;
}

} // namespace gostly::http
