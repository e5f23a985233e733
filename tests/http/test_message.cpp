#include "http/message.hpp"

#include <catch2/catch.hpp>

using namespace gostly;

TEST_CASE("http::strip_hop_by_hop: removes the fixed list and what Connection names", "[http]") {
  record::Headers headers{{"Connection", "close, X-Trace"}, {"Keep-Alive", "timeout=5"}, {"X-Trace", "1"},
                          {"TE", "trailers"},          {"Transfer-Encoding", "chunked"}, {"Upgrade", "h2c"},
                          {"Proxy-Authorization", "Basic x"}, {"Trailer", "X"}, {"Proxy-Connection", "keep-alive"},
                          {"Content-Type", "text/plain"}, {"x-trace-id", "keep"}};
  http::strip_hop_by_hop(headers);
  REQUIRE(headers == record::Headers{{"Content-Type", "text/plain"}, {"x-trace-id", "keep"}});
}

TEST_CASE("http::serialize_response: sets Content-Length, drops hop-by-hop, keeps order and repeats", "[http]") {
  record::Response response;
  response.status = 201;
  response.headers = {{"Set-Cookie", "a=1"}, {"Transfer-Encoding", "chunked"}, {"Set-Cookie", "b=2"},
                      {"Content-Length", "999"}};
  response.body = "hello";
  auto bytes = http::serialize_response(response, {{"X-Ghost-Mock", "exact"}});
  REQUIRE(bytes == "HTTP/1.1 201 Created\r\nSet-Cookie: a=1\r\nSet-Cookie: b=2\r\nX-Ghost-Mock: exact\r\n"
                   "Content-Length: 5\r\n\r\nhello");
}

TEST_CASE("http::serialize_response: HEAD keeps the recorded length and sends no body", "[http]") {
  record::Response response;
  response.headers = {{"Content-Length", "42"}};
  auto bytes = http::serialize_response(response, {}, http::BodyMode::head, http::Close::yes);
  REQUIRE(bytes == "HTTP/1.1 200 OK\r\nContent-Length: 42\r\nConnection: close\r\n\r\n");
}

TEST_CASE("http::serialize_response: 204 and 304 carry no body or length", "[http]") {
  record::Response response;
  response.status = 304;
  response.body = "ignored";
  REQUIRE(http::serialize_response(response) == "HTTP/1.1 304 Not Modified\r\n\r\n");
}

TEST_CASE("http::parse_url: host, port, default port, base path, IPv6", "[http]") {
  auto url = http::parse_url("http://127.0.0.1:3000/api/");
  REQUIRE(url);
  CHECK(url->host == "127.0.0.1");
  CHECK(url->port == 3000);
  CHECK(url->base_path == "/api");
  CHECK(url->authority() == "127.0.0.1:3000");
  auto plain = http::parse_url("http://example.com");
  REQUIRE(plain);
  CHECK(plain->port == 80);
  CHECK(plain->authority() == "example.com");
  auto v6 = http::parse_url("http://[::1]:8080");
  REQUIRE(v6);
  CHECK(v6->host == "::1");
  CHECK(v6->authority() == "[::1]:8080");
  CHECK_FALSE(http::parse_url("ftp://x"));
  CHECK_FALSE(http::parse_url("http://"));
  CHECK_FALSE(http::parse_url("http://host:99999"));
  CHECK_FALSE(http::parse_url("http://user@host"));
  CHECK_FALSE(http::parse_url("127.0.0.1:3000"));
}

TEST_CASE("http::parse_host_port: port 0 allowed, missing port refused", "[http]") {
  auto hp = http::parse_host_port("127.0.0.1:0");
  REQUIRE(hp);
  CHECK(hp->port == 0);
  CHECK(http::parse_host_port("[::1]:80")->host == "::1");
  CHECK_FALSE(http::parse_host_port("127.0.0.1"));
  CHECK_FALSE(http::parse_host_port(":80"));
}

TEST_CASE("http::parse_size: units are binary", "[http]") {
  CHECK(http::parse_size("65536") == 65536u);
  CHECK(http::parse_size("2K") == 2048u);
  CHECK(http::parse_size("64M") == 64ull << 20);
  CHECK(http::parse_size("1GiB") == 1ull << 30);
  CHECK(http::parse_size("10MB") == 10ull << 20);
  CHECK_FALSE(http::parse_size("ten"));
  CHECK_FALSE(http::parse_size("5X"));
}

TEST_CASE("http::split_absolute_form: authority and origin-form", "[http]") {
  auto t = http::split_absolute_form("http://api.example.com:81/users/1?x=2");
  REQUIRE(t);
  CHECK(t->authority == "api.example.com:81");
  CHECK(t->origin_form == "/users/1?x=2");
  CHECK(http::split_absolute_form("http://h")->origin_form == "/");
  CHECK(http::split_absolute_form("http://h?q=1")->origin_form == "/?q=1");
  CHECK_FALSE(http::split_absolute_form("/users/1"));
  CHECK_FALSE(http::split_absolute_form("*"));
}

TEST_CASE("http::serialize_request: upstream Host first, base path, end-to-end headers in order, length", "[http]") {
  record::Request request;
  request.method = "POST";
  request.uri = "/users?x=1";
  request.headers = {{"host", "127.0.0.1:8080"}, {"Accept", "*/*"}, {"X-Dup", "1"}, {"Content-Length", "99"},
                     {"Expect", "100-continue"}, {"Transfer-Encoding", "chunked"}, {"x-dup", "2"}};
  request.body = R"({"name":"ada"})";
  auto url = http::parse_url("https://api.example.com/v2");
  REQUIRE(url);
  CHECK(http::serialize_request(request, *url) ==
        "POST /v2/users?x=1 HTTP/1.1\r\nHost: api.example.com\r\nAccept: */*\r\nX-Dup: 1\r\nx-dup: 2\r\n"
        "Content-Length: 14\r\n\r\n{\"name\":\"ada\"}");

  record::Request get;
  get.method = "GET";
  get.uri = "/";
  auto plain = http::parse_url("http://127.0.0.1:3000");
  REQUIRE(plain);
  CHECK(http::serialize_request(get, *plain) == "GET / HTTP/1.1\r\nHost: 127.0.0.1:3000\r\n\r\n");
  get.method = "PUT"; // a method that carries a body says so even when it is empty
  CHECK(http::serialize_request(get, *plain) == "PUT / HTTP/1.1\r\nHost: 127.0.0.1:3000\r\nContent-Length: 0\r\n\r\n");
}

TEST_CASE("http::split_absolute_form: userinfo is not part of the authority", "[http]") {
  auto t = http::split_absolute_form("http://user:SECRET@api.example.com:81/users?x=1");
  REQUIRE(t);
  CHECK(t->authority == "api.example.com:81");
  CHECK(t->origin_form == "/users?x=1");
  CHECK(http::split_absolute_form("http://a@b@host")->authority == "host");
  CHECK(http::split_absolute_form("http://user@[::1]:8080/")->authority == "[::1]:8080");
  CHECK_FALSE(http::split_absolute_form("http://user:pw@/x")); // nothing left after the userinfo
}

TEST_CASE("http::serialize_response: CR, LF or NUL in a stored name, value or reason never reaches the wire", "[http]") {
  auto refused = [](const record::Response& response, const record::Headers& extra = {}) {
    auto bytes = http::serialize_response(response, extra);
    INFO(bytes);
    CHECK(bytes.rfind("HTTP/1.1 500 ", 0) == 0);
    CHECK(bytes.find("injected") == std::string::npos);
    auto head_end = bytes.find("\r\n\r\n");
    REQUIRE(head_end != std::string::npos);
    CHECK(bytes.find("\r\n\r\n", head_end + 4) == std::string::npos); // one response, not two
    return bytes;
  };
  record::Response response;
  response.headers = {{"Content-Type", "text/plain"}, {"X-A", "1\r\nSet-Cookie: injected=1"}};
  CHECK(refused(response).find("response.headers[1][1]") != std::string::npos);
  response.headers = {{"X-A\r\nSet-Cookie", "injected"}};
  CHECK(refused(response).find("response.headers[0][0]") != std::string::npos);
  response.headers = {{"Bad Name", "injected"}};
  CHECK(refused(response).find("response.headers[0][0]") != std::string::npos);
  response.headers = {{"X-Nul", std::string("a\0injected", 10)}};
  CHECK(refused(response).find("response.headers[0][1]") != std::string::npos);
  response.headers = {};
  response.reason = "OK\r\n\r\nHTTP/1.1 200 injected";
  CHECK(refused(response).find("response.reason") != std::string::npos);
  response.reason = "OK";
  CHECK(refused(response, {{"X-Extra", "v\ninjected"}}).find("[0][1]") != std::string::npos);
  // HEAD keeps a 500 without a body.
  response.headers = {{"X-A", "1\rinjected"}};
  auto head = http::serialize_response(response, {}, http::BodyMode::head);
  CHECK(head.rfind("HTTP/1.1 500 ", 0) == 0);
  CHECK(head.ends_with("\r\n\r\n"));
  // Ordinary text, tabs and obs-text pass.
  response.headers = {{"X-A", "a\tb \xe2\x82\xac"}};
  CHECK(http::serialize_response(response).rfind("HTTP/1.1 200 OK\r\nX-A: a\tb \xe2\x82\xac\r\n", 0) == 0);
}

TEST_CASE("http::is_websocket_upgrade: Upgrade websocket plus Connection listing upgrade, HTTP/1.1 only", "[http]") {
  gostly::record::Request request;
  request.http_version = "1.1";
  request.headers = {{"Connection", "keep-alive, Upgrade"}, {"upgrade", "WebSocket"}};
  CHECK(gostly::http::is_websocket_upgrade(request));
  request.http_version = "1.0";
  CHECK_FALSE(gostly::http::is_websocket_upgrade(request));
  request.http_version = "1.1";
  request.headers = {{"Upgrade", "websocket"}}; // no Connection: upgrade
  CHECK_FALSE(gostly::http::is_websocket_upgrade(request));
  request.headers = {{"Connection", "upgrade"}, {"Upgrade", "h2c"}};
  CHECK_FALSE(gostly::http::is_websocket_upgrade(request));
  request.headers = {{"Connection", "upgraded"}, {"Upgrade", "websocket"}};
  CHECK_FALSE(gostly::http::is_websocket_upgrade(request));
}

TEST_CASE("http::header_lists: comma items, repeats, parameters after a semicolon", "[http]") {
  gostly::record::Headers headers{{"Sec-WebSocket-Extensions", "x-foo"},
                                  {"sec-websocket-extensions", "permessage-deflate; client_max_window_bits=12, x-bar"}};
  CHECK(gostly::http::header_lists(headers, "Sec-WebSocket-Extensions", "permessage-deflate"));
  CHECK(gostly::http::header_lists(headers, "sec-websocket-extensions", "X-BAR"));
  CHECK_FALSE(gostly::http::header_lists(headers, "sec-websocket-extensions", "client_max_window_bits=12"));
  CHECK_FALSE(gostly::http::header_lists(headers, "connection", "x-foo"));
}
