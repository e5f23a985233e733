#include "record/codec.hpp"

#include "record/jsonl.hpp"
#include "util/error.hpp"

#include <catch2/catch.hpp>
#include <sstream>

using namespace gostly;
using namespace gostly::record;

TEST_CASE("record::codec: a full record survives a round trip, unknown fields included", "[record]") {
  std::string line =
      R"({"type":"interaction","v":1,"id":"i1","service_id":"payments","session_id":"sess-1","source":"learn",)"
      R"("recorded_at":"2026-11-22T17:50:01.123Z","duration_ms":12.5,"future_field":{"a":[1,2]},)"
      R"("request":{"method":"GET","uri":"/users/42?x=1","scheme":"https","host":"api.example.com","http_version":"1.1",)"
      R"("headers":[["Accept","application/json"],["X-Dup","1"],["x-dup","2"]],"body":"hi","trace":"t"},)"
      R"("response":{"status":200,"reason":"OK","headers":[["Content-Type","application/json"]],"body_b64":"H4sIAA=="},)"
      R"("redacted":["authorization"]})";
  Interaction in = from_json(nlohmann::json::parse(line));
  CHECK(in.service_id == "payments");
  CHECK(in.request.headers.size() == 3);
  CHECK(in.request.headers[2].first == "x-dup");
  CHECK(in.response.body == std::string("\x1f\x8b\x08\x00", 4));
  CHECK(in.extra.at("future_field").at("a").size() == 2);
  CHECK(in.request.extra.at("trace") == "t");

  auto again = nlohmann::json::parse(encode_line(in));
  CHECK(again == nlohmann::json::parse(line));
}

TEST_CASE("record::codec: binary bodies become body_b64, text stays body", "[record]") {
  Interaction in;
  in.request.uri = "/x";
  in.request.body = "plain";
  in.response.body = std::string("\xff\xfe\x00", 3);
  auto j = to_json(in);
  CHECK(j["request"]["body"] == "plain");
  CHECK_FALSE(j["response"].contains("body"));
  CHECK(j["response"]["body_b64"] == "//4A");
  CHECK(from_json(j).response.body == in.response.body);
}

TEST_CASE("record::codec: a bad field is named by its dotted path", "[record]") {
  auto check_field = [](const char* text, const char* field) {
    try {
      (void)from_json(nlohmann::json::parse(text));
      FAIL("no error for " << text);
    } catch (const FieldError& e) {
      CHECK(e.field == field);
    }
  };
  check_field(R"({"request":{"method":1,"uri":"/"},"response":{"status":200}})", "request.method");
  check_field(R"({"request":{"method":"GET","uri":"/"},"response":{"status":"200"}})", "response.status");
  check_field(R"({"request":{"method":"GET","uri":"/","headers":[["a"]]},"response":{"status":200}})",
              "request.headers[0]");
  check_field(R"({"request":{"method":"GET"},"response":{"status":200}})", "request.uri");
  check_field(R"({"request":{"method":"GET","uri":"/"},"response":{"status":200,"body_b64":"@@"}})",
              "response.body_b64");
}

TEST_CASE("record::jsonl: a malformed line names the source and line", "[record]") {
  std::istringstream in("{\"request\":{\"method\":\"GET\",\"uri\":\"/\"},\"response\":{\"status\":200}}\n\nnot json\n");
  JsonlReader reader(in, "s1.jsonl");
  Interaction x;
  REQUIRE(reader.next(x));
  try {
    reader.next(x);
    FAIL("no error");
  } catch (const InputError& e) {
    CHECK(e.source() == "s1.jsonl");
    CHECK(e.line() == 3);
    CHECK(std::string(e.what()).rfind("s1.jsonl:3: ", 0) == 0);
  }
}

TEST_CASE("record::jsonl: a torn last line is skipped, other record types are passed over", "[record]") {
  std::istringstream in("{\"type\":\"drift_event\",\"v\":1}\r\n"
                        "{\"request\":{\"method\":\"GET\",\"uri\":\"/a\"},\"response\":{\"status\":204}}\n"
                        "{\"request\":{\"method\":\"GET\",\"ur");
  JsonlReader reader(in, "<stdin>");
  Interaction x;
  REQUIRE(reader.next(x));
  CHECK(x.request.uri == "/a");
  CHECK_FALSE(reader.next(x));
  CHECK(reader.torn_lines_skipped() == 1);
  CHECK(reader.other_records_skipped() == 1);
}

TEST_CASE("record::codec: encode_line writes the same object as to_json, type and v first", "[record]") {
  Interaction in;
  in.id = "i\"1";
  in.session_id = "sess-1";
  in.recorded_at = "2026-11-22T17:50:01.123Z";
  in.duration_ms = 12.25;
  in.request.method = "POST";
  in.request.uri = "/u?q=\"x\"&t=\t";
  in.request.host = "api.example.com";
  in.request.headers = {{"X-Bin", std::string("a\xff\xc3\xa9z\x01", 6)}, {"Accept", "*/*"}};
  in.request.body = "{\"name\":\"caf\xc3\xa9\\n\"}";
  in.request.extra["trace"] = {{"deep", {1, 2.5, nullptr}}};
  in.response.status = 201;
  in.response.reason = "Created";
  in.response.body = std::string("\x1f\x8b\x08\x00", 4);
  in.redacted = {"authorization"};
  in.extra["future"] = "kept";

  std::string line = encode_line(in);
  CHECK(line.rfind(R"({"type":"interaction","v":1,)", 0) == 0);
  auto expected = to_json(in);
  expected["request"]["headers"][0][1] = "a\xef\xbf\xbd\xc3\xa9z\x01"; // the stray byte becomes U+FFFD
  CHECK(nlohmann::json::parse(line) == expected);
  CHECK(from_json(nlohmann::json::parse(line)).response.body == in.response.body);
}
