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
  CHECK(nlohmann::json::parse(line) == to_json(in)); // a value that is not UTF-8 is {"b64"} in both
  CHECK(from_json(nlohmann::json::parse(line)).response.body == in.response.body);
}

TEST_CASE("record::codec: encode_line escapes every byte as nlohmann does, at any offset", "[record]") {
  std::string ascii;
  for (int c = 0; c < 0x80; ++c) ascii += static_cast<char>(c);
  // Multi-byte sequences before, inside and after an eight-byte word; long plain runs.
  std::string text = "caf\xc3\xa9" + ascii + "0123456789abcdef\xe2\x82\xac" + std::string(37, 'x') + "\xf0\x9f\x98\x80\"";
  Interaction in;
  in.request.method = "POST";
  in.request.uri = "/" + std::string(9, 'a') + "\x7f";
  in.request.headers = {{"X-Text", text}, {"X-Bad", std::string(9, 'b') + "\xc3(" + "\x01"}};
  in.request.body = text;
  in.response.body = ascii + ascii;

  std::string line = encode_line(in);
  CHECK(line.find('\n') == std::string::npos);
  auto parsed = nlohmann::json::parse(line);
  CHECK(parsed["request"]["body"] == text);
  CHECK(parsed["request"]["headers"][0][1] == text);
  CHECK(parsed["request"]["headers"][1][1] == nlohmann::json{{"b64", "YmJiYmJiYmJiwygB"}});
  CHECK(parsed["response"]["body"] == ascii + ascii);
  // The very bytes nlohmann writes for the same strings.
  CHECK(line.find(nlohmann::json(text).dump()) != std::string::npos);
  CHECK(line.find(nlohmann::json(ascii + ascii).dump()) != std::string::npos);

  in.response.body = std::string(11, 'z') + "\xff";
  CHECK(nlohmann::json::parse(encode_line(in))["response"].contains("body_b64"));
}

TEST_CASE("record::codec: encode_line matches nlohmann on random text", "[record]") {
  const std::vector<std::string> pieces{"a", "Z", " ", "\"", "\\", "\n", "\x01", "\x1f", "\x7f", "~", "\xc3\xa9",
                                        "\xe2\x82\xac", "\xf0\x9f\x98\x80", "0123456789"};
  std::uint64_t state = 42; // a fixed LCG: the same strings on every run
  auto next = [&] { return (state = state * 6364136223846793005ull + 1442695040888963407ull) >> 33; };
  for (int round = 0; round < 2000; ++round) {
    std::string text;
    auto length = next() % 40;
    for (std::uint64_t i = 0; i < length; ++i) text += pieces[next() % pieces.size()];
    Interaction in;
    in.request.method = "GET";
    in.request.uri = "/";
    in.response.body = text;
    std::string line = encode_line(in);
    INFO("round " << round);
    if (text.empty()) continue;
    CHECK(line.find("\"body\":" + nlohmann::json(text).dump()) != std::string::npos);
  }
}

TEST_CASE("record::codec: a long body is escaped the same across its chunks", "[record]") {
  // Escapes at every offset around the 4096-byte chunk edges, and a multi-byte character split
  // by none of them (valid UTF-8 is escaped byte-wise, so a chunk edge inside one is harmless).
  std::string text;
  for (int i = 0; text.size() < 3 * 4096 + 100; ++i) text += i % 7 == 0 ? "\"q\\" : i % 5 == 0 ? "\xc3\xa9\n" : "abcdefghij";
  Interaction in;
  in.response.body = text;
  std::string line = encode_line(in);
  CHECK(line.find("\"body\":" + nlohmann::json(text).dump()) != std::string::npos);
  CHECK(nlohmann::json::parse(line)["response"]["body"] == text);
}

TEST_CASE("record::check_wire_safe names the field that would split a head", "[record][codec]") {
  record::Interaction in;
  CHECK_NOTHROW(record::check_wire_safe(in));
  auto field_of = [](const record::Interaction& bad) -> std::string {
    try {
      record::check_wire_safe(bad);
    } catch (const record::FieldError& e) {
      return e.field;
    }
    return "";
  };
  auto bad = in;
  bad.response.headers = {{"A", "ok"}, {"X", "1\r\nSet-Cookie: evil=1"}};
  CHECK(field_of(bad) == "response.headers[1][1]");
  bad = in;
  bad.response.headers = {{"Bad Name", "v"}};
  CHECK(field_of(bad) == "response.headers[0][0]");
  bad = in;
  bad.response.reason = "OK\r\nContent-Length: 0";
  CHECK(field_of(bad) == "response.reason");
  bad = in;
  bad.request.method = "GET\r\n";
  CHECK(field_of(bad) == "request.method");
  bad = in;
  bad.request.host = "api.example.com\r\nX-Evil: 1";
  CHECK(field_of(bad) == "request.host");
  bad = in;
  bad.request.headers = {{"Host", std::string("a\0b", 3)}};
  CHECK(field_of(bad) == "request.headers[0][1]");
  CHECK(record::is_token("PATCH"));
  CHECK_FALSE(record::is_token(""));
  CHECK(record::is_field_text("obs-text \xff and\ttab"));
}

TEST_CASE("record::codec: a header value that is not UTF-8 is {\"b64\"} and round-trips byte for byte", "[record][codec]") {
  Interaction in;
  in.request.uri = "/x";
  in.request.headers = {{"X-Latin1", "caf\xe9"}, {"Accept", "*/*"}};
  in.response.headers = {{"Content-Disposition", std::string("attachment; filename=\"\xe9t\xe9\x80\xff.txt\"")},
                         {"X-Utf8", "caf\xc3\xa9"}};
  std::string line = encode_line(in);
  auto parsed = nlohmann::json::parse(line);
  CHECK(parsed["request"]["headers"][0] == nlohmann::json::array({"X-Latin1", {{"b64", "Y2Fm6Q=="}}}));
  CHECK(parsed["request"]["headers"][1] == nlohmann::json::array({"Accept", "*/*"}));
  CHECK(parsed["response"]["headers"][1][1] == "caf\xc3\xa9"); // valid UTF-8 stays a string
  CHECK(parsed == to_json(in));
  Interaction back = from_json(parsed);
  CHECK(back.request.headers == in.request.headers);
  CHECK(back.response.headers == in.response.headers);
  CHECK(encode_line(back) == line);

  // The tolerated object form reads it too; v1 records with plain strings are unchanged.
  auto object_form = from_json(nlohmann::json::parse(
      R"({"v":1,"request":{"method":"GET","uri":"/","headers":{"X-A":{"b64":"6Q=="},"X-B":"b"}},"response":{"status":200}})"));
  CHECK(object_form.request.headers == Headers{{"X-A", "\xe9"}, {"X-B", "b"}});

  // A b64 value goes through the same wire check as a string: CR/LF inside is refused.
  auto check_field = [](const char* text, const char* field, const char* reason) {
    try {
      (void)from_json(nlohmann::json::parse(text));
      FAIL("no error for " << text);
    } catch (const FieldError& e) {
      CHECK(e.field == field);
      CHECK_THAT(e.reason, Catch::Contains(reason));
    }
  };
  check_field(R"({"request":{"method":"GET","uri":"/"},"response":{"status":200,"headers":[["X",{"b64":"YQ0KYg=="}]]}})",
              "response.headers[0][1]", "CR, LF or NUL");
  check_field(R"({"request":{"method":"GET","uri":"/","headers":[["X",{"b64":"@@"}]]},"response":{"status":200}})",
              "request.headers[0][1].b64", "not valid base64");
  check_field(R"({"request":{"method":"GET","uri":"/","headers":[["X",{"b64":1}]]},"response":{"status":200}})",
              "request.headers[0][1].b64", "expected string");
  check_field(R"({"request":{"method":"GET","uri":"/","headers":[["X",{"hex":"e9"}]]},"response":{"status":200}})",
              "request.headers[0][1]", "b64");
  check_field(R"({"request":{"method":"GET","uri":"/","headers":[["X",{"b64":"YQ==","x":1}]]},"response":{"status":200}})",
              "request.headers[0][1]", "only");
  check_field(R"({"request":{"method":"GET","uri":"/","headers":[["X",7]]},"response":{"status":200}})",
              "request.headers[0][1]", "expected string or");
}
