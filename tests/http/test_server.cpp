#include "http/server.hpp"

#include <catch2/catch.hpp>

#include <arpa/inet.h>
#include <chrono>
#include <netinet/in.h>
#include <poll.h>
#include <string>
#include <sys/socket.h>
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
