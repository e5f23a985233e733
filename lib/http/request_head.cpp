// Request head limits and framing checks (RFC 9112 §6.1, §6.3), shared by the server
// connection, the upstream client and check_request_bytes().
#include "http/parsing.hpp"

#include "util/encoding.hpp"

namespace gostly::http {
namespace detail {
namespace {

std::string_view trim_ows(std::string_view s) noexcept {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

} // namespace

void configure(RequestParser& parser, std::uint64_t max_body) noexcept {
  parser.header_limit(kHeaderLimit);
  parser.body_limit(max_body);
}

Framing check_framing(const bhttp::fields& fields, unsigned version) noexcept {
  std::size_t count = 0;
  std::size_t lengths = 0;
  bool has_te = false;
  bool chunked_last = false; // the last coding seen so far is chunked
  bool bad_te = false;       // chunked twice, or a coding after chunked
  bool other_coding = false;
  for (const auto& field : fields) {
    if (++count > kMaxHeaderFields) return Framing::too_many_fields;
    auto name = field.name();
    if (name == bhttp::field::content_length) {
      // Beast takes `5, 5` and a repeated equal value as one length; a peer in front of us may
      // not, so any repetition is refused, as nginx does.
      lengths += field.value().find(',') == std::string_view::npos ? 1 : 2;
    } else if (name == bhttp::field::transfer_encoding) {
      has_te = true;
      // The codings of every Transfer-Encoding field, in order, as one list (RFC 9110 §5.3).
      std::string_view rest = field.value();
      while (true) {
        auto comma = rest.find(',');
        auto coding = trim_ows(rest.substr(0, comma));
        if (!coding.empty()) {
          if (chunked_last) bad_te = true; // anything after chunked, including chunked again
          chunked_last = util::iequals(coding, "chunked");
          if (!chunked_last) other_coding = true;
        }
        if (comma == std::string_view::npos) break;
        rest.remove_prefix(comma + 1);
      }
    }
  }
  if (has_te) {
    if (version < 11) return Framing::te_in_http10;
    if (lengths > 0) return Framing::te_with_length;
    if (bad_te || !chunked_last) return Framing::te_not_chunked;
    if (other_coding) return Framing::te_other_coding;
  }
  if (lengths > 1) return Framing::length_repeated;
  return Framing::ok;
}

const char* describe(Framing framing) noexcept {
  switch (framing) {
  case Framing::ok: return "ok";
  case Framing::too_many_fields: return "more than 1000 header fields";
  case Framing::te_not_chunked:
    return "Transfer-Encoding whose final coding is not a single chunked: the body length cannot be determined (RFC 9112 §6.3)";
  case Framing::te_other_coding: return "Transfer-Encoding other than chunked is not supported (RFC 9112 §6.1)";
  case Framing::te_with_length: return "both Transfer-Encoding and Content-Length (RFC 9112 §6.3)";
  case Framing::te_in_http10: return "Transfer-Encoding in an HTTP/1.0 message (RFC 9112 §6.1)";
  case Framing::length_repeated: return "Content-Length given more than once";
  }
  return "bad framing";
}
static_assert(kMaxHeaderFields == 1000, "describe(Framing::too_many_fields) names the limit");

Refusal check_request_head(const RequestParser& parser, std::uint64_t max_body) {
  const auto& message = parser.get();
  if (auto framing = check_framing(message, message.version()); framing != Framing::ok) {
    int status = framing == Framing::too_many_fields ? 431 : framing == Framing::te_other_coding ? 501 : 400;
    return {status, describe(framing)};
  }
  if (auto length = parser.content_length(); length && *length > max_body)
    return refusal_for(bhttp::error::body_limit); // Beast checks this too; kept for the upstream-side bug's sake
  return {};
}

Refusal refusal_for(boost::beast::error_code ec) {
  if (ec == bhttp::error::body_limit) return {413, "request body exceeds the limit (--max-body)"};
  if (ec == bhttp::error::header_limit) return {431, "request head exceeds 65536 bytes (start line and header fields)"};
  if (ec == bhttp::error::end_of_stream || ec == bhttp::error::partial_message) return {};
  if (ec.category() == bhttp::make_error_code(bhttp::error::bad_method).category())
    return {400, "malformed request: " + ec.message()};
  return {};
}
static_assert(kHeaderLimit == 65536, "refusal_for(header_limit) names the limit");

} // namespace detail

int check_request_bytes(std::string_view bytes, std::uint64_t max_body) {
  detail::RequestParser parser;
  detail::configure(parser, max_body);
  boost::beast::error_code ec;
  auto status_of = [](const detail::Refusal& refusal) { return refusal.status ? refusal.status : 400; };
  // Feeds what is left of `bytes` until `done()`; 0 when more bytes are needed (as the server
  // would wait), else the refusal. The server's buffer holds at most kReadBufferLimit unparsed
  // bytes: a parser wanting more than that is a buffer overflow there.
  auto feed = [&](auto done) -> int {
    while (!done()) {
      if (bytes.empty()) return 0;
      std::size_t used = parser.put(boost::asio::buffer(bytes.data(), bytes.size()), ec);
      bytes.remove_prefix(used);
      if (ec == detail::bhttp::error::need_more) {
        if (bytes.size() >= detail::kReadBufferLimit) return status_of(detail::refusal_for(detail::bhttp::error::buffer_overflow));
        return 0;
      }
      if (ec) return status_of(detail::refusal_for(ec));
      if (used == 0) return 0;
    }
    return -1;
  };
  // As the connection does: the head alone (async_read_header), its checks, then the body.
  parser.eager(false);
  if (int status = feed([&] { return parser.is_header_done(); }); status >= 0) return status;
  if (auto refusal = detail::check_request_head(parser, max_body); refusal.status) return refusal.status;
  parser.eager(true);
  if (int status = feed([&] { return parser.is_done(); }); status >= 0) return status;
  if (parser.get().method() == detail::bhttp::verb::connect) return 501; // Connection::dispatch
  return 200;
}

} // namespace gostly::http
