#pragma once
// Small builders shared by the drift unit tests.
#include "drift/fingerprint.hpp"
#include "record/interaction.hpp"
#include "util/time.hpp"

#include <filesystem>
#include <string>

namespace gostly::drift::testing {

inline record::Interaction response(const std::string& method, const std::string& uri, int status, const std::string& body,
                                    const std::string& session = "sess-a") {
  record::Interaction i;
  i.session_id = session;
  i.request.method = method;
  i.request.uri = uri;
  i.response.status = status;
  i.response.body = body;
  return i;
}

/// `count` responses of GET `uri` with status `status` and the body `body_for(n)`.
template <typename BodyFor>
SessionFingerprint session(int count, const std::string& uri, int status, BodyFor body_for) {
  SessionFingerprint fp;
  for (int n = 0; n < count; ++n) fp.add(response("GET", uri, status, body_for(n)));
  return fp;
}

/// A fresh directory under the system temp dir, removed on destruction.
struct TempDir {
  std::filesystem::path path;
  TempDir() : path(std::filesystem::temp_directory_path() / util::random_id("gostly-drift-test-")) {
    std::filesystem::create_directories(path);
  }
  ~TempDir() { std::filesystem::remove_all(path); }
};

} // namespace gostly::drift::testing
