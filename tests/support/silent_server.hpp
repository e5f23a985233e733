#pragma once
// A silent server on 127.0.0.1 for connect tests: it listens, so the kernel completes the TCP
// handshake (the listen backlog), and nobody ever accepts or answers, like a black-holed database.
// Include it as "../support/silent_server.hpp".
#include <catch2/catch.hpp>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

namespace gostly::test_support {

class SilentServer {
public:
  SilentServer() {
    fd_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    REQUIRE(fd_ >= 0);
    sockaddr_in address{};
    address.sin_family = AF_INET;
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t length = sizeof address;
    REQUIRE(::bind(fd_, reinterpret_cast<sockaddr*>(&address), length) == 0);
    REQUIRE(::listen(fd_, 4) == 0);
    REQUIRE(::getsockname(fd_, reinterpret_cast<sockaddr*>(&address), &length) == 0);
    port_ = ntohs(address.sin_port);
  }
  ~SilentServer() { ::close(fd_); }
  SilentServer(const SilentServer&) = delete;
  SilentServer& operator=(const SilentServer&) = delete;

  /// The listening socket: poll() it for POLLIN to see a connection queued, accept() it to look.
  int fd() const noexcept { return fd_; }
  int port() const noexcept { return port_; }

private:
  int fd_ = -1;
  int port_ = 0;
};

} // namespace gostly::test_support
