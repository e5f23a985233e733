#include "http/h2_response.hpp"
#include "http/message.hpp"

#include <catch2/catch.hpp>

using namespace gostly;
using http::detail::h2_response_from_http1;

TEST_CASE("h2_response_from_http1: serialize_response output, names lower-cased, repeats kept in order", "[http][h2]") {
  record::Response response;
  response.status = 201;
  response.headers = {{"Content-Type", "application/json"}, {"Set-Cookie", "a=1"}, {"X-Trace", "t"}, {"Set-Cookie", "b=2"}};
  response.body = R"({"id":1})";
  auto bytes = http::serialize_response(response, {{"X-Ghost-Mock", "exact"}});
  auto h2 = h2_response_from_http1(bytes);
  REQUIRE(h2);
  CHECK(h2->status == 201);
  CHECK(h2->status_text == "201");
  // Beast's fields keep a repeated name's fields together, in their order (RFC 9110 §5.3).
  CHECK(h2->headers == record::Headers{{"content-type", "application/json"}, {"set-cookie", "a=1"}, {"set-cookie", "b=2"},
                                       {"x-trace", "t"}, {"x-ghost-mock", "exact"}, {"content-length", "8"}});
  CHECK(h2->body(bytes) == R"({"id":1})");
  CHECK(!h2->decoded_body); // a view into the bytes, not a copy
}

TEST_CASE("h2_response_from_http1: connection-specific fields are dropped", "[http][h2]") {
  std::string bytes = "HTTP/1.1 200 OK\r\nConnection: close\r\nKeep-Alive: timeout=5\r\nProxy-Connection: keep-alive\r\n"
                      "Upgrade: h2c\r\nX-Kept: yes\r\nContent-Length: 2\r\n\r\nok";
  auto h2 = h2_response_from_http1(bytes);
  REQUIRE(h2);
  CHECK(h2->headers == record::Headers{{"x-kept", "yes"}, {"content-length", "2"}});
  CHECK(h2->body(bytes) == "ok");
  CHECK(http::detail::is_connection_specific("Transfer-Encoding"));
  CHECK(http::detail::is_connection_specific("keep-alive"));
  CHECK(!http::detail::is_connection_specific("content-length"));
}

TEST_CASE("h2_response_from_http1: a chunked body is de-chunked, Transfer-Encoding dropped", "[http][h2]") {
  std::string bytes = "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nContent-Type: text/plain\r\n\r\n"
                      "5\r\nhello\r\n6\r\n world\r\n0\r\n\r\n";
  auto h2 = h2_response_from_http1(bytes);
  REQUIRE(h2);
  CHECK(h2->headers == record::Headers{{"content-type", "text/plain"}});
  CHECK(h2->body(bytes) == "hello world");
}

TEST_CASE("h2_response_from_http1: HEAD keeps the length and has no body, nor has a 204", "[http][h2]") {
  record::Response response;
  response.headers = {{"Content-Length", "42"}};
  auto head = http::serialize_response(response, {}, http::BodyMode::head);
  auto h2 = h2_response_from_http1(head, true);
  REQUIRE(h2);
  CHECK(h2->headers == record::Headers{{"content-length", "42"}});
  CHECK(h2->body(head).empty());
  // Prepared bytes carry the body even for HEAD: it is not sent.
  std::string full = "HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhello";
  auto cut = h2_response_from_http1(full, true);
  REQUIRE(cut);
  CHECK(cut->body(full).empty());

  std::string no_content = "HTTP/1.1 204 No Content\r\nX-A: 1\r\n\r\n";
  auto nc = h2_response_from_http1(no_content);
  REQUIRE(nc);
  CHECK(nc->status_text == "204");
  CHECK(nc->body(no_content).empty());
}

TEST_CASE("h2_response_from_http1: incomplete or malformed bytes are refused", "[http][h2]") {
  CHECK(!h2_response_from_http1(""));
  CHECK(!h2_response_from_http1("garbage\r\n\r\n"));
  CHECK(!h2_response_from_http1("HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nshort"));
  CHECK(!h2_response_from_http1("HTTP/1.1 200 OK\r\nContent-Length: 2\r\n"));
}
