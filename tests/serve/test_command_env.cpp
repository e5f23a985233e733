#include "serve/command_env.hpp"

#include "util/files.hpp"

#include <catch2/catch.hpp>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <map>
#include <unistd.h>

using namespace gostly;
namespace fs = std::filesystem;

namespace {

// NAME -> every value CMD would see for it (more than one = a duplicate).
std::multimap<std::string, std::string> as_map(const std::vector<std::string>& env) {
  std::multimap<std::string, std::string> out;
  for (const auto& e : env) out.emplace(e.substr(0, e.find('=')), e.substr(e.find('=') + 1));
  return out;
}

std::string only(const std::multimap<std::string, std::string>& env, const std::string& name) {
  REQUIRE(env.count(name) == 1);
  return env.find(name)->second;
}

struct TempDir {
  fs::path path;
  TempDir() {
    std::string pattern = (fs::temp_directory_path() / "gostly-cmdenv.XXXXXX").string();
    path = ::mkdtemp(pattern.data());
  }
  ~TempDir() {
    std::error_code ec;
    fs::remove_all(path, ec);
  }
};

serve::CommandEnvSettings plain() {
  serve::CommandEnvSettings s;
  s.proxy_url = "http://127.0.0.1:4321";
  s.proxy_authority = "127.0.0.1:4321";
  return s;
}

} // namespace

TEST_CASE("command_environment: HTTP proxy variables replace inherited ones, any case", "[serve]") {
  auto env = as_map(serve::command_environment(
      {"PATH=/bin", "HTTP_PROXY=http://corp:3128", "Http_Proxy=x", "http_proxy=y", "GOSTLY_PROXY_URL=old", "EMPTY="},
      plain()));
  CHECK(only(env, "PATH") == "/bin");
  CHECK(only(env, "EMPTY").empty());
  CHECK(only(env, "GOSTLY_PROXY_URL") == "http://127.0.0.1:4321");
  CHECK(only(env, "HTTP_PROXY") == "http://127.0.0.1:4321");
  CHECK(only(env, "http_proxy") == "http://127.0.0.1:4321");
  CHECK(only(env, "NODE_USE_ENV_PROXY") == "1");
  CHECK(env.count("Http_Proxy") == 0);
}

TEST_CASE("command_environment: without interception no HTTPS proxy and no trust variables", "[serve]") {
  auto env = as_map(serve::command_environment({"https_proxy=http://corp:3128", "SSL_CERT_FILE=/mine.pem"}, plain()));
  // CONNECT would be refused: https:// traffic keeps going where it went before.
  CHECK(only(env, "https_proxy") == "http://corp:3128");
  CHECK(env.count("HTTPS_PROXY") == 0);
  CHECK(only(env, "SSL_CERT_FILE") == "/mine.pem");
  for (const char* name : {"REQUESTS_CA_BUNDLE", "CURL_CA_BUNDLE", "GIT_SSL_CAINFO", "NODE_EXTRA_CA_CERTS"})
    CHECK(env.count(name) == 0);
}

TEST_CASE("command_environment: with interception HTTPS proxy and every trust variable", "[serve]") {
  auto s = plain();
  s.ca_file = "/data/ca/ca.crt";
  s.bundle_file = "/data/ca/bundle.crt";
  auto env = as_map(serve::command_environment(
      {"HTTPS_PROXY=http://corp:3128", "https_proxy=x", "SSL_CERT_FILE=/mine.pem", "CURL_CA_BUNDLE=/c.pem"}, s));
  CHECK(only(env, "HTTPS_PROXY") == "http://127.0.0.1:4321");
  CHECK(only(env, "https_proxy") == "http://127.0.0.1:4321");
  for (const char* name : {"SSL_CERT_FILE", "REQUESTS_CA_BUNDLE", "CURL_CA_BUNDLE", "GIT_SSL_CAINFO"})
    CHECK(only(env, name) == "/data/ca/bundle.crt");
  // Node adds this file to its own roots, so the CA alone is enough there.
  CHECK(only(env, "NODE_EXTRA_CA_CERTS") == "/data/ca/ca.crt");
}

TEST_CASE("command_environment: NO_PROXY keeps the inherited hosts and exempts only the proxy itself", "[serve]") {
  auto env = as_map(serve::command_environment({"no_proxy=internal.example, .corp", "NO_PROXY=.corp,db:5432"}, plain()));
  CHECK(only(env, "NO_PROXY") == "internal.example,.corp,db:5432,127.0.0.1:4321");
  CHECK(only(env, "no_proxy") == only(env, "NO_PROXY"));
  // Upstreams under test live on loopback: the bare names must not bypass the recorder.
  auto fresh = as_map(serve::command_environment({}, plain()));
  CHECK(only(fresh, "NO_PROXY") == "127.0.0.1:4321");
}

TEST_CASE("system_roots_file: the inherited SSL_CERT_FILE, else the system bundle", "[serve]") {
  TempDir dir;
  auto mine = dir.path / "mine.pem";
  std::ofstream(mine) << "x\n";
  CHECK(serve::system_roots_file(mine.string()) == mine);
  auto fallback = serve::system_roots_file((dir.path / "missing.pem").string());
  if (fs::exists("/etc/ssl/certs/ca-certificates.crt")) CHECK(fallback == "/etc/ssl/certs/ca-certificates.crt");
  CHECK(fallback != dir.path / "missing.pem");
}

TEST_CASE("write_ca_bundle: roots then the gostly CA, replaced whole", "[serve]") {
  TempDir dir;
  auto roots = dir.path / "roots.pem";
  std::ofstream(roots) << "-----ROOT-----"; // no final newline: the CA must still start on its own line
  auto bundle = dir.path / "bundle.crt";
  std::ofstream(bundle) << "stale contents that are much longer than the new bundle will be\n";
  CHECK(serve::write_ca_bundle(bundle, roots, "-----CA-----\n"));
  CHECK(util::read_small_file(bundle) == "-----ROOT-----\n-----CA-----\n");

  // Roots that cannot be read: the CA alone, and the caller is told.
  CHECK_FALSE(serve::write_ca_bundle(bundle, dir.path / "missing.pem", "-----CA-----\n"));
  CHECK(util::read_small_file(bundle) == "-----CA-----\n");
  CHECK_FALSE(serve::write_ca_bundle(bundle, {}, "-----CA-----"));
  CHECK(util::read_small_file(bundle) == "-----CA-----\n");
  // Nothing but the bundle in the directory: no temporary file left behind.
  CHECK(std::distance(fs::directory_iterator(dir.path), fs::directory_iterator{}) == 2);
}

TEST_CASE("command_environment: gostly-serve -- CMD adds its control API variables and keeps it off the proxy",
          "[serve]") {
  auto s = plain();
  s.extra = {{"GOSTLY_CONTROL_URL", "http://127.0.0.1:5555"}, {"GHOST_API_KEY", "run-key"}};
  s.no_proxy_extra = {"127.0.0.1:5555"};
  auto env = as_map(serve::command_environment({"GHOST_API_KEY=inherited", "no_proxy=corp.local"}, s));
  CHECK(only(env, "GOSTLY_CONTROL_URL") == "http://127.0.0.1:5555");
  CHECK(only(env, "GHOST_API_KEY") == "run-key");
  CHECK(only(env, "NO_PROXY") == "corp.local,127.0.0.1:4321,127.0.0.1:5555");
  CHECK(only(env, "no_proxy") == "corp.local,127.0.0.1:4321,127.0.0.1:5555");
}
