// Hostile JSONL (issue 7): every value outside its range, every byte that would split an HTTP head,
// every nesting or line past its limit is an input error naming the field, never a silent change,
// a crash or unbounded memory.
#include "record/codec.hpp"
#include "record/jsonl.hpp"
#include "util/error.hpp"
#include "util/limits.hpp"

#include <catch2/catch.hpp>

#include <cstdlib>
#include <limits>
#include <sstream>
#include <streambuf>

using namespace gostly;
using namespace gostly::record;

namespace {

// The field and reason from_json() names for `text`, or "" when it decodes.
std::pair<std::string, std::string> error_of(const std::string& text) {
  try {
    (void)from_json(nlohmann::json::parse(text));
  } catch (const FieldError& e) {
    return {e.field, e.reason};
  }
  return {};
}

std::string with(const std::string& top, const std::string& request = R"("method":"GET","uri":"/")",
                 const std::string& response = R"("status":200)") {
  std::string out = "{" + top + (top.empty() ? "" : ",") + R"("request":{)" + request + R"(},"response":{)" + response + "}}";
  return out;
}

struct EnvVar {
  const char* name;
  EnvVar(const char* n, const char* value) : name(n) { setenv(n, value, 1); }
  ~EnvVar() { unsetenv(name); }
};

// An endless stream of one byte that counts what was taken from it: a reader that buffers a
// whole line would take all of it.
class EndlessBuf : public std::streambuf {
public:
  explicit EndlessBuf(std::size_t total) : left_(total) { chunk_.assign(4096, 'x'); }
  std::size_t taken = 0;

protected:
  int_type underflow() override {
    if (left_ == 0) return traits_type::eof();
    std::size_t n = std::min(left_, chunk_.size());
    left_ -= n;
    taken += n;
    setg(chunk_.data(), chunk_.data(), chunk_.data() + n);
    return traits_type::to_int_type(chunk_[0]);
  }

private:
  std::size_t left_;
  std::string chunk_;
};

} // namespace

TEST_CASE("record::from_json: integers outside their range are errors, not wrapped", "[record][hostile]") {
  CHECK(error_of(with("", R"("method":"GET","uri":"/")", R"("status":4294967496)")).first == "response.status");
  CHECK(error_of(with("", R"("method":"GET","uri":"/")", R"("status":-200)")).first == "response.status");
  CHECK(error_of(with("", R"("method":"GET","uri":"/")", R"("status":99)")).first == "response.status");
  CHECK(error_of(with("", R"("method":"GET","uri":"/")", R"("status":1000)")).first == "response.status");
  CHECK(error_of(with("", R"("method":"GET","uri":"/")", R"("status":18446744073709551615)")).first == "response.status");
  CHECK(error_of(with(R"("v":4294967297)")).first == "v");
  CHECK(error_of(with(R"("v":0)")).first == "v");
  CHECK(error_of(with(R"("v":-1)")).first == "v");
  CHECK(error_of(with(R"("v":2)")).first.empty()); // newer versions are read as far as understood
  CHECK(error_of(with("", R"("method":"GET","uri":"/")", R"("status":999)")).first.empty());
}

TEST_CASE("record::from_json: duration_ms must be finite and not negative", "[record][hostile]") {
  CHECK(error_of(with(R"("duration_ms":-1)")).first == "duration_ms");
  // JSON text cannot hold infinity (nlohmann refuses 1e999), but a value built in code can.
  auto infinite = nlohmann::json::parse(with(""));
  infinite["duration_ms"] = std::numeric_limits<double>::infinity();
  CHECK_THROWS_AS(from_json(infinite), FieldError);
  infinite["duration_ms"] = std::numeric_limits<double>::quiet_NaN();
  CHECK_THROWS_AS(from_json(infinite), FieldError);
  CHECK(error_of(with(R"("duration_ms":0)")).first.empty());
  CHECK(error_of(with(R"("duration_ms":12.5)")).first.empty());
}

TEST_CASE("record::from_json: recorded_at must be a valid RFC 3339 date-time", "[record][hostile]") {
  for (const char* bad : {"2026-01-01T00:00:00+99:99", "2026-01-01T00:00:00+24:00", "2026-01-01T00:00:00-05:60",
                          "2026-02-30T00:00:00Z", "2026-13-01T00:00:00Z", "2026-01-01T24:00:00Z",
                          "2026-01-01T00:60:00Z", "2026-01-01T00:00:61Z", "+026-01-01T00:00:00Z",
                          "2026-01-01T00:00:00+0530", "2026-01-01T00:00:00Z trailing", "yesterday", ""}) {
    INFO(bad);
    auto [field, reason] = error_of(with(std::string(R"("recorded_at":")") + bad + "\""));
    if (*bad) CHECK(field == "recorded_at");
    else CHECK(field.empty()); // "" is the same as absent
  }
  for (const char* good : {"2026-11-22T17:50:01.123Z", "2026-11-22T17:50:01+05:30", "2024-02-29T23:59:60-23:59",
                           "2026-11-22t17:50:01z"}) {
    INFO(good);
    CHECK(error_of(with(std::string(R"("recorded_at":")") + good + "\"")).first.empty());
  }
}

TEST_CASE("record::from_json: a record that would split an HTTP head is refused at decode", "[record][hostile]") {
  auto [field, reason] =
      error_of(with("", R"("method":"GET","uri":"/")",
                    R"("status":200,"headers":[["A","1"],["X","1\r\nSet-Cookie: evil=1"]])"));
  CHECK(field == "response.headers[1][1]");
  CHECK(reason == "header value contains CR, LF or NUL");
  CHECK(error_of(with("", R"("method":"GET\r\n","uri":"/")")).first == "request.method");
  CHECK(error_of(with("", R"("method":"GET","uri":"/a\nb")")).first == "request.uri");
  CHECK(error_of(with("", R"("method":"GET","uri":"/")", R"("status":200,"reason":"OK\r\nX: 1")")).first ==
        "response.reason");
  CHECK(error_of(with("", R"("method":"GET","uri":"/","headers":{"Bad Name":"v"})")).first ==
        "request.headers[0][0]");
}

TEST_CASE("record::from_json: more headers than GOSTLY_MAX_HEADERS is an error naming the limit", "[record][hostile]") {
  EnvVar limit("GOSTLY_MAX_HEADERS", "3");
  std::string four = R"("status":200,"headers":[["a","1"],["b","2"],["c","3"],["d","4"]])";
  auto [field, reason] = error_of(with("", R"("method":"GET","uri":"/")", four));
  CHECK(field == "response.headers");
  CHECK_THAT(reason, Catch::Contains("3") && Catch::Contains("GOSTLY_MAX_HEADERS"));
  CHECK(error_of(with("", R"("method":"GET","uri":"/","headers":{"a":"1","b":"2","c":"3","d":"4"})")).first ==
        "request.headers");
  CHECK(error_of(with("", R"("method":"GET","uri":"/","headers":[["a","1"],["b","2"],["c","3"]])")).first.empty());
}

TEST_CASE("record::jsonl: 50 000 nested arrays in an unknown field are an input error, not a crash", "[record][hostile]") {
  std::string deep(50000, '[');
  deep += std::string(50000, ']');
  std::istringstream in(with("") + "\n" + with(R"("future":)" + deep) + "\n");
  JsonlReader reader(in, "s.jsonl");
  Interaction x;
  REQUIRE(reader.next(x));
  try {
    reader.next(x);
    FAIL("no error");
  } catch (const InputError& e) {
    CHECK(e.line() == 2);
    CHECK_THAT(e.what(), Catch::StartsWith("s.jsonl:2: ") &&
                             Catch::Contains("nested deeper than 256 levels (limit GOSTLY_MAX_DEPTH)"));
  }
}

TEST_CASE("record::jsonl: a line past GOSTLY_MAX_LINE_BYTES is an error and is not buffered whole", "[record][hostile]") {
  EnvVar limit("GOSTLY_MAX_LINE_BYTES", "1048576");
  EndlessBuf endless(64u << 20);
  std::istream in(&endless);
  JsonlReader reader(in, "<stdin>");
  Interaction x;
  try {
    reader.next(x);
    FAIL("no error");
  } catch (const InputError& e) {
    CHECK_THAT(e.what(), Catch::StartsWith("<stdin>:1: ") && Catch::Contains("1048576 bytes") &&
                             Catch::Contains("GOSTLY_MAX_LINE_BYTES"));
  }
  CHECK(endless.taken < (2u << 20));
}

TEST_CASE("record::jsonl: lines up to the limit, CRLF ends and long lines across reads still decode", "[record][hostile]") {
  std::string body(300000, 'b');
  std::string line = with("", R"("method":"GET","uri":"/")", R"("status":200,"body":")" + body + "\"");
  EnvVar limit("GOSTLY_MAX_LINE_BYTES", std::to_string(line.size() + 1).c_str()); // + the CR
  std::istringstream in(line + "\r\n" + line + "\n\n  \n" + with("", R"("method":"PUT","uri":"/p")"));
  JsonlReader reader(in, "s.jsonl");
  Interaction x;
  REQUIRE(reader.next(x));
  CHECK(x.response.body == body);
  REQUIRE(reader.next(x));
  CHECK(x.response.body == body);
  REQUIRE(reader.next(x)); // the last line needs no newline
  CHECK(x.request.method == "PUT");
  CHECK(reader.line() == 5);
  CHECK_FALSE(reader.next(x));
}

TEST_CASE("record::jsonl: a bad field names file, line and field", "[record][hostile]") {
  std::istringstream in(with("") + "\n" + with("") + "\n" +
                        with("", R"("method":"GET","uri":"/")", R"("status":200,"headers":[["A","1"],["X","a\rb"]])") + "\n");
  JsonlReader reader(in, "s.jsonl");
  Interaction x;
  REQUIRE(reader.next(x));
  REQUIRE(reader.next(x));
  CHECK_THROWS_WITH(reader.next(x), "s.jsonl:3: response.headers[1][1]: header value contains CR, LF or NUL");
}
