// HTTP/2 on a TLS listener: what a client can only reach with hand-made frames (deadlines).
#include "http/server.hpp"
#include "tls/authority.hpp"

#include <catch2/catch.hpp>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <string>

using namespace gostly;
using namespace std::chrono_literals;

namespace {

struct TempDir {
  std::filesystem::path path = std::filesystem::temp_directory_path() /
                               ("gostly-h2-" + std::to_string(::getpid()) + "-" + std::to_string(std::rand()));
  ~TempDir() {
    std::error_code ec;
    std::filesystem::remove_all(path, ec);
  }
};

// A TLS client that offers only h2, on a blocking socket with a receive timeout.
struct H2Client {
  SSL_CTX* ctx = SSL_CTX_new(TLS_client_method());
  SSL* ssl = nullptr;
  int fd = -1;

  explicit H2Client(const std::string& address) {
    auto colon = address.rfind(':');
    sockaddr_in sa{};
    sa.sin_family = AF_INET;
    sa.sin_port = htons(static_cast<uint16_t>(std::stoi(address.substr(colon + 1))));
    inet_pton(AF_INET, address.substr(0, colon).c_str(), &sa.sin_addr);
    fd = ::socket(AF_INET, SOCK_STREAM, 0);
    REQUIRE(::connect(fd, reinterpret_cast<sockaddr*>(&sa), sizeof sa) == 0);
    timeval tv{0, 100 * 1000};
    ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    static const unsigned char h2[] = {2, 'h', '2'};
    SSL_CTX_set_alpn_protos(ctx, h2, sizeof h2);
    ssl = SSL_new(ctx);
    SSL_set_fd(ssl, fd);
    SSL_set_tlsext_host_name(ssl, "localhost");
    REQUIRE(SSL_connect(ssl) == 1);
  }
  ~H2Client() {
    SSL_free(ssl);
    SSL_CTX_free(ctx);
    ::close(fd);
  }
  std::string alpn() const {
    const unsigned char* p = nullptr;
    unsigned n = 0;
    SSL_get0_alpn_selected(ssl, &p, &n);
    return std::string(reinterpret_cast<const char*>(p), n);
  }
  void send(const std::string& bytes) { REQUIRE(SSL_write(ssl, bytes.data(), static_cast<int>(bytes.size())) > 0); }
  // Reads until the server closes (true) or `limit` passes (false).
  bool closed_within(std::chrono::milliseconds limit) {
    auto deadline = std::chrono::steady_clock::now() + limit;
    char buf[4096];
    while (std::chrono::steady_clock::now() < deadline) {
      int n = SSL_read(ssl, buf, sizeof buf);
      if (n > 0) continue;
      int err = SSL_get_error(ssl, n);
      if (err == SSL_ERROR_WANT_READ || (err == SSL_ERROR_SYSCALL && (errno == EAGAIN || errno == EWOULDBLOCK))) {
        ERR_clear_error();
        continue;
      }
      return true; // EOF, close_notify or reset
    }
    return false;
  }
};

const std::string kPreface = std::string("PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n") + std::string("\0\0\0\4\0\0\0\0\0", 9);

struct H2Server {
  TempDir dir;
  std::unique_ptr<http::Server> server;
  H2Server() {
    http::ServerOptions options;
    options.listen = "127.0.0.1:0";
    options.threads = 1;
    options.idle_timeout = 300ms;
    options.body_timeout = 300ms;
    options.authority = tls::CertificateAuthority::load_or_create(dir.path / "ca");
    options.takes_tls = true;
    server = std::make_unique<http::Server>(options, [](record::Request&, http::Responder responder) {
      record::Response response;
      response.body = "ok";
      responder.send(response);
    });
    server->start();
  }
};

} // namespace

TEST_CASE("HTTP/2: an idle connection is closed after the idle timeout", "[http][h2]") {
  H2Server server;
  H2Client client(server.server->bound_address());
  REQUIRE(client.alpn() == "h2");
  client.send(kPreface);
  CHECK(client.closed_within(3000ms));
}

TEST_CASE("HTTP/2: a request whose body never comes is closed after the body timeout", "[http][h2]") {
  H2Server server;
  H2Client client(server.server->bound_address());
  REQUIRE(client.alpn() == "h2");
  // HEADERS on stream 1, END_HEADERS but not END_STREAM: POST https / with :authority x (HPACK
  // static table indexes 3, 7, 4, then a literal for index 1), and then nothing.
  std::string block("\x83\x87\x84\x41\x01x", 6);
  std::string headers = std::string("\0\0\x06\x01\x04\0\0\0\x01", 9) + block;
  client.send(kPreface + headers);
  CHECK(client.closed_within(3000ms));
}
