#include "http/request_head.hpp"

#include <catch2/catch.hpp>

#include <string>

using namespace gostly;

// check_request_bytes answers what the server connection would: these mirror test_server.cpp's
// socket tests without a socket, and are what the fuzzer's target calls.
TEST_CASE("http::check_request_bytes: complete, incomplete and over-limit requests", "[http]") {
  CHECK(http::check_request_bytes("GET / HTTP/1.1\r\nHost: x\r\n\r\n") == 200);
  CHECK(http::check_request_bytes("POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n\r\nhello") == 200);
  CHECK(http::check_request_bytes("POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n") == 200);
  CHECK(http::check_request_bytes("") == 0);
  CHECK(http::check_request_bytes("GET / HTTP/1.1\r\nHost:") == 0);
  CHECK(http::check_request_bytes("POST / HTTP/1.1\r\nContent-Length: 5\r\n\r\nhel") == 0);
  CHECK(http::check_request_bytes("POST / HTTP/1.1\r\nContent-Length: 6\r\n\r\nhello!", 5) == 413);
  CHECK(http::check_request_bytes("POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n6\r\nhello!\r\n0\r\n\r\n", 5) == 413);
  CHECK(http::check_request_bytes("GET / HTTP/1.1\r\nCookie: " + std::string(60 * 1024, 'a') + "\r\n\r\n") == 200);
  CHECK(http::check_request_bytes("GET / HTTP/1.1\r\nCookie: " + std::string(70 * 1024, 'a') + "\r\n\r\n") == 431);
  CHECK(http::check_request_bytes("GET / HTTP/1.1\r\nCookie: " + std::string(70 * 1024, 'a')) == 431);
  std::string many = "GET / HTTP/1.1\r\n";
  for (std::size_t i = 0; i <= http::kMaxHeaderFields; ++i) many += "a: b\r\n";
  CHECK(http::check_request_bytes(many + "\r\n") == 431);
  CHECK(http::check_request_bytes("GET / HTTP/1.1\r\nBad Name: x\r\n\r\n") == 400);
  CHECK(http::check_request_bytes("GET / HTTP/9.9\r\n\r\n") == 400);
}

TEST_CASE("http::check_request_bytes: framing that two parsers could read differently is refused", "[http]") {
  const std::string smuggled = "GET /smuggled HTTP/1.1\r\nHost: x\r\n\r\n";
  for (std::string te : {"xchunked", "gzip", "chunked, identity", "identity", "chunked, chunked", "", "chunked;x=1"}) {
    INFO(te);
    CHECK(http::check_request_bytes("POST / HTTP/1.1\r\nTransfer-Encoding: " + te + "\r\n\r\n" + smuggled) == 400);
  }
  CHECK(http::check_request_bytes("POST / HTTP/1.1\r\nTransfer-Encoding: gzip, chunked\r\n\r\n0\r\n\r\n") == 501);
  CHECK(http::check_request_bytes("POST / HTTP/1.1\r\nTransfer-Encoding: gzip\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n") == 501);
  CHECK(http::check_request_bytes("POST / HTTP/1.1\r\nTransfer-Encoding: gzip\r\nContent-Length: 5\r\n\r\nhello") == 400);
  CHECK(http::check_request_bytes("POST / HTTP/1.1\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\nhello") == 400);
  CHECK(http::check_request_bytes("POST / HTTP/1.0\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n") == 400);
  CHECK(http::check_request_bytes("POST / HTTP/1.1\r\nContent-Length: 5\r\nContent-Length: 5\r\n\r\nhello") == 400);
  CHECK(http::check_request_bytes("POST / HTTP/1.1\r\nContent-Length: 5, 5\r\n\r\nhello") == 400);
  CHECK(http::check_request_bytes("POST / HTTP/1.1\r\nContent-Length: 5\r\nContent-Length: 4\r\n\r\nhello") == 400);
  CHECK(http::check_request_bytes("POST / HTTP/1.1\r\nContent-Length: -5\r\n\r\nhello") == 400);
  CHECK(http::check_request_bytes("POST / HTTP/1.1\r\ntransfer-encoding: Chunked\r\n\r\n0\r\n\r\n") == 200);
}
