#include "export/har.hpp"

#include "helpers.hpp"
#include "redact/redact.hpp"
#include "seed/seed.hpp"
#include "util/error.hpp"

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include <sstream>

using namespace export_test;
using gostly::export_::write_har;
using Json = nlohmann::json;

namespace {

Json export_har(const std::vector<Interaction>& records) {
  TextSource in(jsonl(records));
  std::ostringstream out;
  write_har(in.source, {}, out);
  return Json::parse(out.str());
}

std::vector<Interaction> seed_back(const std::string& har_text) {
  std::istringstream in(har_text);
  gostly::seed::SeedOptions options;
  options.service = "api";
  std::vector<Interaction> back;
  gostly::seed::import(gostly::seed::Format::har, in, "out.har", options,
                       [&](Interaction&& i) { back.push_back(std::move(i)); });
  return back;
}

// `headers` without the credential floor. gostly-seed re-applies the floor to what it reads:
// masked values stay masked (or, with a redactor that drops them, the header goes); either way
// a secret must never come back, and every other header must.
gostly::record::Headers without_credentials(const gostly::record::Headers& headers) {
  gostly::record::Headers out;
  gostly::redact::Redactor floor;
  for (const auto& h : headers) {
    if (floor.is_redacted(h.first)) CHECK(h.second.find("gostly-redacted") != std::string::npos);
    else out.push_back(h);
  }
  return out;
}

} // namespace

TEST_CASE("export::har: a HAR 1.2 log with one entry per interaction", "[export][har]") {
  auto har = export_har(sample());
  CHECK(har["log"]["version"] == "1.2");
  CHECK(har["log"]["creator"]["name"] == "gostly-export");
  REQUIRE(har["log"]["entries"].size() == 5);

  const auto& get = har["log"]["entries"][0];
  CHECK(get["startedDateTime"] == "2026-11-22T17:50:01.123Z");
  CHECK(get["time"] == 12.5);
  CHECK(get["timings"]["wait"] == 12.5);
  CHECK(get["timings"]["send"] == 0);
  CHECK(get["request"]["url"] == "http://127.0.0.1:3000/users/42?fields=name%20email&x=1&flag");
  CHECK(get["request"]["httpVersion"] == "HTTP/1.1");
  CHECK(get["request"]["queryString"] ==
        Json::parse(R"([{"name":"fields","value":"name email"},{"name":"x","value":"1"},{"name":"flag","value":""}])"));
  CHECK(get["request"]["headers"][2] == Json({{"name", "Authorization"}, {"value", "gostly-redacted"}}));
  CHECK(get["response"]["status"] == 200);
  CHECK(get["response"]["statusText"] == "OK");
  CHECK(get["response"]["content"]["mimeType"] == "application/json");
  CHECK(get["response"]["content"]["text"] == R"({"id":42,"name":"Ann"})");
  CHECK_FALSE(get["response"]["content"].contains("encoding"));
  CHECK(get["_gostly"]["redacted"] == Json::array({"authorization"}));

  const auto& post = har["log"]["entries"][1];
  CHECK(post["request"]["postData"]["mimeType"] == "application/json");
  CHECK(post["request"]["postData"]["text"] == R"({"name":"Bo"})");
  CHECK(post["response"]["headers"].back()["value"] == "session=gostly-redacted; HttpOnly");

  const auto& put = har["log"]["entries"][2];
  CHECK(put["request"]["httpVersion"] == "HTTP/2");
  CHECK(put["request"]["postData"]["encoding"] == "base64");
  CHECK(put["request"]["postData"]["mimeType"] == "application/octet-stream");
  CHECK(put["request"]["bodySize"] == 11);

  const auto& zipped = har["log"]["entries"][3];
  CHECK(zipped["response"]["content"]["encoding"] == "base64");

  CHECK(har["log"]["entries"][4]["request"]["url"] == "https://api.example.com/missing");
}

TEST_CASE("export::har: gostly-seed har gives back the same interactions", "[export][har]") {
  auto original = sample();
  TextSource in(jsonl(original));
  std::ostringstream out;
  write_har(in.source, {}, out);
  auto back = seed_back(out.str());
  REQUIRE(back.size() == original.size());
  for (std::size_t i = 0; i < original.size(); ++i) {
    INFO("entry " << i << " " << original[i].request.method << " " << original[i].request.uri);
    CHECK(back[i].request.method == original[i].request.method);
    CHECK(back[i].request.uri == original[i].request.uri);
    CHECK(back[i].request.scheme == original[i].request.scheme);
    CHECK(back[i].request.host == original[i].request.host);
    CHECK(back[i].request.http_version == original[i].request.http_version);
    CHECK(without_credentials(back[i].request.headers) == without_credentials(original[i].request.headers));
    CHECK(back[i].request.body == original[i].request.body);
    CHECK(back[i].response.status == original[i].response.status);
    CHECK(back[i].response.reason == original[i].response.reason);
    CHECK(without_credentials(back[i].response.headers) == without_credentials(original[i].response.headers));
    CHECK(back[i].response.body == original[i].response.body);
    CHECK(back[i].recorded_at == original[i].recorded_at);
    CHECK(back[i].duration_ms == original[i].duration_ms);
  }
}

TEST_CASE("export::har: a deflate or br body is written decoded, as HAR content is, and replays decoded", "[export][har]") {
  // No brotli encoder here: deflate (zlib) stands for every coding but gzip, which is kept as
  // recorded because gostly-seed keeps a gzip body that still carries the magic bytes.
  auto i = make("GET", "/deflated", 200, "");
  std::string text = R"({"deflated":true})";
  uLongf size = compressBound(static_cast<uLong>(text.size()));
  std::string packed(size, '\0');
  compress(reinterpret_cast<Bytef*>(packed.data()), &size, reinterpret_cast<const Bytef*>(text.data()), text.size());
  packed.resize(size);
  i.response.body = packed;
  i.response.headers = {{"Content-Type", "application/json"}, {"Content-Encoding", "deflate"},
                        {"Content-Length", std::to_string(packed.size())}};
  auto har = export_har({i});
  const auto& content = har["log"]["entries"][0]["response"]["content"];
  CHECK(content["text"] == text);
  CHECK(content["size"] == text.size());
  CHECK(content["compression"] == static_cast<long long>(text.size()) - static_cast<long long>(packed.size()));
  auto back = seed_back(har.dump());
  REQUIRE(back.size() == 1);
  CHECK(back[0].response.body == text);
  CHECK(gostly::record::find_header(back[0].response.headers, "content-encoding") == nullptr);
}

TEST_CASE("export::har: an empty input is an empty log", "[export][har]") {
  auto har = export_har({});
  CHECK(har["log"]["entries"].empty());
}

TEST_CASE("export::har: a bad line is an InputError naming file, line and field", "[export][har]") {
  std::string text = jsonl({make("GET", "/a", 200, "{}")});
  text += R"({"type":"interaction","v":1,"request":{"method":7,"uri":"/"},"response":{"status":200}})" "\n";
  TextSource in(text, "bad.jsonl");
  std::ostringstream out;
  try {
    write_har(in.source, {}, out);
    FAIL("no error");
  } catch (const gostly::InputError& e) {
    CHECK(e.source() == "bad.jsonl");
    CHECK(e.line() == 2);
    CHECK(e.field() == "request.method");
  }
}
