#pragma once
// Shared by the export unit tests: sample interactions and a JSONL source over them.
#include "export/source.hpp"
#include "record/codec.hpp"
#include "record/interaction.hpp"

#include <zlib.h>

#include <memory>
#include <sstream>
#include <string>
#include <vector>

namespace export_test {

using gostly::record::Interaction;

inline Interaction make(std::string method, std::string uri, int status, std::string response_body,
                        std::string content_type = "application/json") {
  Interaction i;
  i.id = "int-" + std::to_string(std::hash<std::string>{}(method + uri + response_body) % 100000);
  i.service_id = "api";
  i.session_id = "sess-1";
  i.recorded_at = "2026-11-22T17:50:01.123Z";
  i.duration_ms = 12.5;
  i.request.method = std::move(method);
  i.request.uri = std::move(uri);
  i.request.host = "127.0.0.1:3000";
  i.request.headers = {{"Host", "127.0.0.1:3000"}, {"Accept", "application/json"}};
  i.response.status = status;
  i.response.reason = std::string(gostly::record::reason_phrase(status));
  if (!content_type.empty()) i.response.headers.emplace_back("Content-Type", content_type);
  i.response.headers.emplace_back("Content-Length", std::to_string(response_body.size()));
  i.response.body = std::move(response_body);
  return i;
}

inline std::string gzip(const std::string& text) {
  z_stream z{};
  deflateInit2(&z, Z_DEFAULT_COMPRESSION, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY);
  std::string out(compressBound(static_cast<uLong>(text.size())) + 32, '\0');
  z.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(text.data()));
  z.avail_in = static_cast<uInt>(text.size());
  z.next_out = reinterpret_cast<Bytef*>(out.data());
  z.avail_out = static_cast<uInt>(out.size());
  deflate(&z, Z_FINISH);
  out.resize(z.total_out);
  deflateEnd(&z);
  return out;
}

/// A varied sample: query, JSON POST, binary PUT, gzip response, redacted credentials, 404.
inline std::vector<Interaction> sample() {
  std::vector<Interaction> v;
  v.push_back(make("GET", "/users/42?fields=name%20email&x=1&flag", 200, R"({"id":42,"name":"Ann"})"));
  v.back().request.headers.emplace_back("Authorization", "gostly-redacted");
  v.back().redacted = {"authorization"};
  auto post = make("POST", "/users", 201, R"({"id":7})");
  post.request.headers.emplace_back("Content-Type", "application/json");
  post.request.body = R"({"name":"Bo"})";
  post.response.headers.emplace_back("Set-Cookie", "session=gostly-redacted; HttpOnly");
  v.push_back(post);
  auto put = make("PUT", "/blobs/9", 204, "", "");
  put.request.headers.emplace_back("Content-Type", "application/octet-stream");
  put.request.body = std::string("\x00\x01\xff\xfe binary", 11);
  put.request.http_version = "2";
  v.push_back(put);
  auto zipped = make("GET", "/binary", 200, gzip(R"({"compressed":true})"));
  zipped.response.headers.emplace_back("Content-Encoding", "gzip");
  v.push_back(zipped);
  v.push_back(make("GET", "/missing", 404, R"({"error":"not found"})"));
  v.back().request.scheme = "https";
  v.back().request.host = "api.example.com";
  return v;
}

inline std::string jsonl(const std::vector<Interaction>& records) {
  std::string out;
  for (const auto& r : records) out += gostly::record::encode_line(r) + "\n";
  return out;
}

/// A JSONL source reading `text`; keeps the stream alive with it.
struct TextSource {
  explicit TextSource(std::string text, std::string name = "in.jsonl")
      : stream(std::move(text)), source(stream, std::move(name)) {}
  std::istringstream stream;
  gostly::export_::JsonlSource source;
};

} // namespace export_test
