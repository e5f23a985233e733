// HTTP/1.1 response bytes -> an HTTP/2 response, with Beast's parser (no hand-rolled HTTP).
#include "http/h2_response.hpp"

#include "http/parsing.hpp"
#include "util/encoding.hpp"

#include <boost/asio/buffer.hpp>
#include <boost/beast/http.hpp>

#include <array>
#include <limits>

namespace gostly::http::detail {

namespace {
namespace bhttp = boost::beast::http;

constexpr std::array<std::string_view, 5> kConnectionSpecific = {"connection", "keep-alive", "proxy-connection",
                                                                 "transfer-encoding", "upgrade"};

template <class Message>
void take_head(const Message& message, H2Response& out) {
  out.status = static_cast<int>(message.result_int());
  out.status_text = std::to_string(out.status);
  for (const auto& field : message) {
    std::string_view name(field.name_string().data(), field.name_string().size());
    if (is_connection_specific(name)) continue;
    out.headers.emplace_back(util::to_lower(name), std::string(field.value().data(), field.value().size()));
  }
}
} // namespace

bool is_connection_specific(std::string_view name) noexcept {
  for (auto forbidden : kConnectionSpecific)
    if (util::iequals(forbidden, name)) return true;
  return false;
}

std::optional<H2Response> h2_response_from_http1(std::string_view bytes, bool head) {
  boost::beast::error_code ec;
  // The head alone first (not eager: put() stops after it), so a body stays a view into `bytes`.
  bhttp::response_parser<bhttp::empty_body> parser;
  parser.eager(false);
  parser.header_limit(kHeaderLimit);
  parser.body_limit(std::numeric_limits<std::uint64_t>::max()); // boost::none fails in 1.74
  if (head) parser.skip(true);
  std::size_t used = parser.put(boost::asio::buffer(bytes.data(), bytes.size()), ec);
  if (ec || !parser.is_header_done()) return std::nullopt;
  H2Response out;
  take_head(parser.get(), out);
  if (parser.is_done()) return out; // HEAD, 1xx, 204, 304, or Content-Length: 0
  std::string_view rest = bytes.substr(used);
  if (parser.chunked()) {
    bhttp::response_parser<bhttp::string_body> whole;
    whole.header_limit(kHeaderLimit);
    whole.body_limit(std::numeric_limits<std::uint64_t>::max()); // boost::none fails in 1.74
    whole.eager(true);
    whole.put(boost::asio::buffer(bytes.data(), bytes.size()), ec);
    if (ec || !whole.is_done()) return std::nullopt;
    out.decoded_body = std::move(whole.get().body());
    return out;
  }
  out.body_offset = used;
  if (auto length = parser.content_length()) {
    if (rest.size() < *length) return std::nullopt;
    out.body_length = static_cast<std::size_t>(*length);
  } else {
    out.body_length = rest.size(); // read to the end of the bytes
  }
  return out;
}

} // namespace gostly::http::detail
