#include "http/server.hpp"

#include <catch2/catch.hpp>

#include <arpa/inet.h>
#include <atomic>
#include <chrono>
#include <netinet/in.h>
#include <poll.h>
#include <string>
#include <sys/socket.h>
#include <thread>
#include <unistd.h>

using namespace gostly;
using namespace std::chrono_literals;

namespace {
int connect_to(const std::string& address) {
  auto colon = address.rfind(':');
  sockaddr_in sa{};
  sa.sin_family = AF_INET;
  sa.sin_port = htons(static_cast<uint16_t>(std::stoi(address.substr(colon + 1))));
  inet_pton(AF_INET, address.substr(0, colon).c_str(), &sa.sin_addr);
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  REQUIRE(::connect(fd, reinterpret_cast<sockaddr*>(&sa), sizeof sa) == 0);
  return fd;
}

// Everything the server sends until it closes the connection, or until `limit` passes.
std::string read_until_closed(int fd, std::chrono::milliseconds limit) {
  std::string got;
  auto deadline = std::chrono::steady_clock::now() + limit;
  while (std::chrono::steady_clock::now() < deadline) {
    pollfd p{fd, POLLIN, 0};
    if (::poll(&p, 1, 50) <= 0) continue;
    char buf[4096];
    ssize_t n = ::read(fd, buf, sizeof buf);
    if (n <= 0) return got + (n == 0 ? "<closed>" : "<error>");
    got.append(buf, static_cast<std::size_t>(n));
  }
  return got;
}

http::Server make_server() {
  http::ServerOptions options;
  options.listen = "127.0.0.1:0";
  options.threads = 1;
  options.idle_timeout = 300ms;
  options.body_timeout = 300ms;
  return http::Server(options, [](record::Request&, http::Responder responder) {
    record::Response response;
    response.body = "ok";
    responder.send(response);
  });
}
} // namespace

TEST_CASE("http::Server: an idle keep-alive connection is closed after the idle timeout", "[http]") {
  auto server = make_server();
  server.start();
  int fd = connect_to(server.bound_address());
  std::string request = "GET /a HTTP/1.1\r\nHost: x\r\n\r\n";
  REQUIRE(::write(fd, request.data(), request.size()) == static_cast<ssize_t>(request.size()));
  auto got = read_until_closed(fd, 3000ms);
  CHECK(got.rfind("HTTP/1.1 200", 0) == 0);
  CHECK(got.find("\r\n\r\nok") != std::string::npos);
  CHECK(got.size() >= 8);
  CHECK(got.substr(got.size() - 8) == "<closed>"); // closed by the sweep, not left open
  ::close(fd);
  server.stop();
}

TEST_CASE("http::Server: a request that stalls half-way gets 408", "[http]") {
  auto server = make_server();
  server.start();
  int fd = connect_to(server.bound_address());
  std::string partial = "POST /a HTTP/1.1\r\nHost: x\r\nContent-Length: 10\r\n\r\nabc";
  REQUIRE(::write(fd, partial.data(), partial.size()) == static_cast<ssize_t>(partial.size()));
  auto got = read_until_closed(fd, 3000ms);
  CHECK(got.rfind("HTTP/1.1 408", 0) == 0);
  ::close(fd);
  server.stop();
}

namespace {
// A server whose handler answers `host uri` so a test sees what reached the handler.
http::Server make_echo_server(std::uint64_t max_body = 1 << 20) {
  http::ServerOptions options;
  options.listen = "127.0.0.1:0";
  options.threads = 1;
  options.idle_timeout = 300ms;
  options.body_timeout = 300ms;
  options.max_body = max_body;
  return http::Server(options, [](record::Request& request, http::Responder responder) {
    record::Response response;
    response.body = request.host + " " + request.uri + " " + std::to_string(request.body.size());
    responder.send(response);
  });
}

void write_all(int fd, const std::string& bytes) {
  std::size_t done = 0;
  while (done < bytes.size()) {
    ssize_t n = ::write(fd, bytes.data() + done, bytes.size() - done);
    REQUIRE(n > 0);
    done += static_cast<std::size_t>(n);
  }
}

// Sends `bytes` on a fresh connection and returns everything until the server closes it.
std::string round_trip(const http::Server& server, const std::string& bytes, std::chrono::milliseconds limit = 3000ms) {
  int fd = connect_to(server.bound_address());
  write_all(fd, bytes);
  auto got = read_until_closed(fd, limit);
  ::close(fd);
  return got;
}

std::size_t count_of(const std::string& haystack, const std::string& needle) {
  std::size_t n = 0;
  for (auto at = haystack.find(needle); at != std::string::npos; at = haystack.find(needle, at + 1)) ++n;
  return n;
}
} // namespace

TEST_CASE("http::Server: a request whose Transfer-Encoding is not exactly chunked gets 400 and close, never a second request", "[http]") {
  auto server = make_echo_server();
  server.start();
  const std::string smuggled = "GET /smuggled HTTP/1.1\r\nHost: x\r\n\r\n";
  for (std::string te : {"xchunked", "gzip", "chunked, identity", "identity", "chunked, chunked", ""}) {
    INFO("Transfer-Encoding: " << te);
    auto got = round_trip(server, "POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: " + te + "\r\n\r\n" + smuggled);
    CHECK(got.rfind("HTTP/1.1 400 ", 0) == 0);
    CHECK(count_of(got, "HTTP/1.1 ") == 1);
    CHECK(got.find("smuggled") == std::string::npos);
    CHECK(got.ends_with("<closed>"));
  }
  // A coding before the final chunked one is well framed but not one we decode: 501 (RFC 9112 §6.1).
  auto gzip_chunked = round_trip(server, "POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: gzip, chunked\r\n\r\n0\r\n\r\n" + smuggled);
  CHECK(gzip_chunked.rfind("HTTP/1.1 501 ", 0) == 0);
  CHECK(count_of(gzip_chunked, "HTTP/1.1 ") == 1);
  CHECK(gzip_chunked.ends_with("<closed>"));
  server.stop();
}

TEST_CASE("http::Server: Transfer-Encoding with Content-Length, in HTTP/1.0, or Content-Length twice gets 400 and close", "[http]") {
  auto server = make_echo_server();
  server.start();
  const std::string smuggled = "GET /smuggled HTTP/1.1\r\nHost: x\r\n\r\n";
  for (std::string head : {"POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: gzip\r\nContent-Length: 5\r\n\r\nhello",
                           "POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\nhello",
                           "POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\nContent-Length: 5\r\n\r\nhello",
                           "POST / HTTP/1.0\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n",
                           "POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\nContent-Length: 5\r\n\r\nhello",
                           "POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 5, 5\r\n\r\nhello",
                           "POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\nContent-Length: 0\r\n\r\nhello"}) {
    INFO(head);
    auto got = round_trip(server, head + smuggled);
    CHECK(got.rfind("HTTP/1.1 400 ", 0) == 0);
    CHECK(count_of(got, "HTTP/1.1 ") == 1);
    CHECK(got.ends_with("<closed>"));
  }
  // Plain chunked and plain Content-Length still work, with a pipelined request after them.
  auto chunked = round_trip(server, "POST /c HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n"
                                  "GET /next HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
  CHECK(count_of(chunked, "HTTP/1.1 200 ") == 2);
  CHECK(chunked.find("x /c 5") != std::string::npos);
  CHECK(chunked.find("x /next 0") != std::string::npos);
  server.stop();
}

TEST_CASE("http::Server: heads up to 64 KiB are served, bigger ones or too many fields get 431 and close", "[http]") {
  auto server = make_echo_server();
  server.start();
  auto cookie = [](std::size_t n) { return "Cookie: c=" + std::string(n, 'a') + "\r\n"; };
  auto ok = round_trip(server, "GET /big HTTP/1.1\r\nHost: x\r\n" + cookie(40 * 1024) + "Connection: close\r\n\r\n");
  CHECK(ok.rfind("HTTP/1.1 200 ", 0) == 0);
  CHECK(ok.find("x /big 0") != std::string::npos);
  auto too_big = round_trip(server, "GET /big HTTP/1.1\r\nHost: x\r\n" + cookie(70 * 1024) + "\r\n");
  CHECK(too_big.rfind("HTTP/1.1 431 ", 0) == 0);
  CHECK(too_big.ends_with("<closed>"));
  // A head of many small fields within the size limit.
  std::string many = "GET /many HTTP/1.1\r\nHost: x\r\n";
  for (int i = 0; i < 5000; ++i) many += "a: b\r\n";
  auto too_many = round_trip(server, many + "\r\n");
  CHECK(too_many.rfind("HTTP/1.1 431 ", 0) == 0);
  CHECK(too_many.find("header fields") != std::string::npos);
  CHECK(too_many.ends_with("<closed>"));
  std::string some = "GET /some HTTP/1.1\r\nHost: x\r\n";
  for (int i = 0; i < 200; ++i) some += "x-h" + std::to_string(i) + ": v\r\n";
  auto fine = round_trip(server, some + "Connection: close\r\n\r\n");
  CHECK(fine.rfind("HTTP/1.1 200 ", 0) == 0);
  server.stop();
}

TEST_CASE("http::Server: userinfo in an absolute-form target never reaches request.host", "[http]") {
  auto server = make_echo_server();
  server.start();
  auto got = round_trip(server, "GET http://user:SECRET@api.example.test:81/path?q=1 HTTP/1.1\r\nHost: api.example.test:81\r\n"
                              "Connection: close\r\n\r\n");
  CHECK(got.rfind("HTTP/1.1 200 ", 0) == 0);
  CHECK(got.find("\r\n\r\napi.example.test:81 /path?q=1 0") != std::string::npos);
  CHECK(got.find("SECRET") == std::string::npos);
  server.stop();
}

namespace {
// A one-connection upstream on a thread: reads one request head, writes `head`, then `filler`
// bytes in 64 KiB writes until `filler` are sent or the proxy closes; counts what it wrote.
struct FakeUpstream {
  int listener = -1;
  std::uint16_t port = 0;
  std::atomic<std::uint64_t> written{0};
  std::thread thread;

  FakeUpstream(std::string head, std::uint64_t filler) {
    listener = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in sa{};
    sa.sin_family = AF_INET;
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    REQUIRE(::bind(listener, reinterpret_cast<sockaddr*>(&sa), sizeof sa) == 0);
    REQUIRE(::listen(listener, 4) == 0);
    socklen_t len = sizeof sa;
    ::getsockname(listener, reinterpret_cast<sockaddr*>(&sa), &len);
    port = ntohs(sa.sin_port);
    thread = std::thread([this, head = std::move(head), filler] {
      int fd = ::accept(listener, nullptr, nullptr);
      if (fd < 0) return;
      std::string request;
      char buf[4096];
      while (request.find("\r\n\r\n") == std::string::npos) {
        ssize_t n = ::read(fd, buf, sizeof buf);
        if (n <= 0) break;
        request.append(buf, static_cast<std::size_t>(n));
      }
      if (::send(fd, head.data(), head.size(), MSG_NOSIGNAL) > 0) written += head.size();
      std::string chunk(64 * 1024, 'z');
      std::uint64_t left = filler;
      while (left > 0) {
        ssize_t n = ::send(fd, chunk.data(), std::min<std::uint64_t>(left, chunk.size()), MSG_NOSIGNAL);
        if (n <= 0) break;
        written += static_cast<std::uint64_t>(n);
        left -= static_cast<std::uint64_t>(n);
      }
      ::shutdown(fd, SHUT_WR);
      while (::read(fd, buf, sizeof buf) > 0) {
      }
      ::close(fd);
    });
  }
  ~FakeUpstream() {
    ::shutdown(listener, SHUT_RDWR);
    ::close(listener);
    thread.join();
  }
};

// A proxy that forwards everything to 127.0.0.1:port.
http::Server make_forwarder(std::uint16_t port, std::uint64_t max_body) {
  http::ServerOptions options;
  options.listen = "127.0.0.1:0";
  options.threads = 1;
  options.max_body = max_body;
  options.upstream_timeout = 3000ms;
  auto url = *http::parse_url("http://127.0.0.1:" + std::to_string(port));
  return http::Server(options, [url](record::Request& request, http::Responder responder) {
    responder.forward(url, request, [responder, url](http::UpstreamResult&& result) mutable {
      if (result.failure != http::UpstreamFailure::none) return responder.send(http::upstream_failure_response(result, url.to_string()));
      responder.send(result.response);
    });
  });
}
} // namespace

TEST_CASE("http::Server: an upstream body over max_body streams to an HTTP/1.1 client whole; the result keeps max_body bytes", "[http]") {
  constexpr std::uint64_t kBig = 8ull << 20;
  FakeUpstream upstream("HTTP/1.1 200 OK\r\nContent-Length: " + std::to_string(kBig) + "\r\n\r\n", kBig);
  http::ServerOptions options;
  options.listen = "127.0.0.1:0";
  options.threads = 1;
  options.max_body = 1 << 20;
  options.upstream_timeout = 3000ms;
  auto url = *http::parse_url("http://127.0.0.1:" + std::to_string(upstream.port));
  std::atomic<bool> streamed{false};
  std::atomic<std::size_t> kept{0};
  std::atomic<std::uint64_t> sent{0};
  std::string truncated_by;
  http::Server server(options, [&, url](record::Request& request, http::Responder responder) {
    responder.forward(url, request, [&, responder](http::UpstreamResult&& result) mutable {
      truncated_by = result.truncated_by;
      kept = result.response.body.size();
      sent = result.body_bytes;
      streamed = result.streamed;
      responder.send(result.response); // ignored: the stream was the reply
    });
  });
  server.start();
  auto got = round_trip(server, "GET /big HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n", 8000ms);
  CHECK(got.rfind("HTTP/1.1 200 ", 0) == 0);
  CHECK(got.find("Content-Length: 8388608\r\n") != std::string::npos);
  auto body_at = got.find("\r\n\r\n");
  REQUIRE(body_at != std::string::npos);
  CHECK(got.size() - body_at - 4 == kBig);
  CHECK(count_of(got, "HTTP/1.1 ") == 1);
  server.stop();
  CHECK(streamed.load());
  CHECK(kept.load() == (1u << 20));
  CHECK(sent.load() == kBig);
  CHECK(truncated_by == "max-body");
}

TEST_CASE("http::Server: a HEAD answer announcing a length over max_body passes (it has no body)", "[http]") {
  FakeUpstream upstream("HTTP/1.1 200 OK\r\nContent-Length: 999999999\r\n\r\n", 0);
  auto server = make_forwarder(upstream.port, 1 << 20);
  server.start();
  auto got = round_trip(server, "HEAD /big HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
  CHECK(got.rfind("HTTP/1.1 200 ", 0) == 0);
  CHECK(got.find("Content-Length: 999999999") != std::string::npos);
  server.stop();
}

TEST_CASE("http::Server: an upstream response framed by a coding other than chunked is a 502, not raw bytes", "[http]") {
  for (std::string head : {"HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip\r\n\r\n",
                           "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked, identity\r\n\r\n",
                           "HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip\r\nContent-Length: 4\r\n\r\n",
                           "HTTP/1.0 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n4\r\nzzzz\r\n0\r\n\r\n"}) {
    INFO(head);
    FakeUpstream upstream(head, 4);
    auto server = make_forwarder(upstream.port, 1 << 20);
    server.start();
    auto got = round_trip(server, "GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
    CHECK(got.rfind("HTTP/1.1 502 ", 0) == 0);
    CHECK(got.find("Transfer-Encoding") != std::string::npos);
    server.stop();
  }
}

TEST_CASE("http::Server: an upstream head with more than kMaxHeaderFields fields is a 502", "[http]") {
  std::string head = "HTTP/1.1 200 OK\r\nContent-Length: 0\r\n";
  for (int i = 0; i < 1500; ++i) head += "a: b\r\n";
  FakeUpstream upstream(head + "\r\n", 0);
  auto server = make_forwarder(upstream.port, 1 << 20);
  server.start();
  auto got = round_trip(server, "GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
  CHECK(got.rfind("HTTP/1.1 502 ", 0) == 0);
  CHECK(got.find("more than 1000 header fields") != std::string::npos);
  server.stop();
}
