#include "seed/seed.hpp"

#include "helpers.hpp"
#include "util/error.hpp"

#include <catch2/catch.hpp>

using namespace seed_test;
using gostly::seed::Format;

TEST_CASE("seed::har: chrome export skips the unanswered request and drops the 304 body", "[seed][har]") {
  auto r = import_file(Format::har, fixture("har/chrome.har"));
  CHECK(r.report.entries == 3);
  CHECK(r.report.no_response == 1);
  REQUIRE(r.records.size() == 2);
  const auto& first = r.records[0];
  CHECK(first.request.host == "mitmproxy.org");
  CHECK(first.request.scheme == "https");
  CHECK(first.request.http_version == "2");
  CHECK(first.response.status == 304);
  CHECK(first.response.body.empty());
  CHECK(first.service_id == "mitmproxy.org");
  for (const auto& [name, value] : first.request.headers) CHECK(name.front() != ':');
  const auto& logo = r.records[1];
  CHECK(logo.request.http_version == "3");
  CHECK(logo.response.body.substr(1, 3) == "PNG"); // base64 content decoded to the raw bytes
  CHECK(logo.response.body.size() == 7108);
}

TEST_CASE("seed::har: postData text, HEAD and Insomnia exports", "[seed][har]") {
  auto post = import_file(Format::har, fixture("har/postdata.har"));
  REQUIRE(post.records.size() == 1);
  CHECK(post.records[0].request.method == "POST");
  CHECK(post.records[0].request.body.size() > 100);
  CHECK(post.records[0].request.uri == "/metrics");

  auto head = import_file(Format::har, fixture("har/head-content-length.har"));
  REQUIRE(head.records.size() == 1);
  CHECK(head.records[0].request.method == "HEAD");
  CHECK(head.records[0].response.body.empty());
  CHECK(header(head.records[0].response.headers, "content-length") != "0"); // HEAD keeps the real length

  auto insomnia = import_file(Format::har, fixture("har/insomnia.har"));
  REQUIRE(insomnia.records.size() == 1);
  CHECK(insomnia.records[0].request.http_version == "1.1");
  CHECK(insomnia.records[0].response.body.size() == 250);
  CHECK(insomnia.records[0].service_id == "mitm.it");
}

TEST_CASE("seed::har: what browsers write becomes replayable records", "[seed][har]") {
  auto r = import_file(Format::har, data("small.har"));
  CHECK(r.report.entries == 5);
  CHECK(r.report.no_response == 1);
  REQUIRE(r.records.size() == 4);

  const auto& user = r.records[0];
  CHECK(user.request.uri == "/users/42?expand=true"); // fragment dropped
  CHECK(user.recorded_at == "2024-05-01T08:00:00.000Z"); // offset normalised to UTC
  CHECK(user.duration_ms == 12.5);
  CHECK(user.response.reason == "OK");
  // Stored inflated, so the Content-Encoding would lie; Content-Length follows the bytes in place.
  CHECK(header(user.response.headers, "content-encoding") == "<absent>");
  CHECK(header(user.response.headers, "content-length") == std::to_string(user.response.body.size()));
  CHECK(user.response.headers[1].first == "content-length");
  // The credential floor never reaches the output: masked in place.
  CHECK(header(user.request.headers, "authorization") == "gostly-redacted");
  CHECK(header(user.request.headers, "cookie") == "sid=gostly-redacted");
  CHECK(header(user.response.headers, "set-cookie") == "sid=gostly-redacted");
  CHECK(std::find(user.redacted.begin(), user.redacted.end(), "authorization") != user.redacted.end());
  // Vendor fields are neither kept nor an error.
  CHECK(gostly::record::encode_line(user).find("_initiator") == std::string::npos);

  const auto& login = r.records[1];
  CHECK(login.service_id == "localhost-3000");
  CHECK(login.request.body == "user=ada+lovelace&next=%2Fhome%26x");
  CHECK(header(login.response.headers, "location") == "/home");

  CHECK(r.records[2].response.body == std::string("\x89PNG\r\n\x1a\n", 8));
  CHECK(r.records[3].response.status == 304);
  CHECK(r.records[3].response.body.empty());
  CHECK(r.report.services == std::vector<std::string>{"api.example.com", "localhost-3000"});
}

TEST_CASE("seed::har: ids and session are deterministic and derived from the input", "[seed][har]") {
  auto a = import_file(Format::har, data("small.har"));
  auto b = import_text(Format::har, read_file(data("small.har")));
  CHECK(a.jsonl() == b.jsonl());
  CHECK(a.report.session_id.rfind("seed-har-", 0) == 0);
  CHECK(a.records[0].id == a.report.session_id + "-000000");
  CHECK(a.records[3].id == a.report.session_id + "-000003"); // numbered by entry, not by output
  for (const auto& rec : a.records) CHECK(rec.source == "har");

  gostly::seed::SeedOptions options;
  options.service = "payments";
  options.session = "s1";
  auto fixed = import_file(Format::har, data("small.har"), options);
  for (const auto& rec : fixed.records) {
    CHECK(rec.service_id == "payments");
    CHECK(rec.session_id == "s1");
  }
}

TEST_CASE("seed::har: --host keeps one host's entries and counts the rest", "[seed][har]") {
  gostly::seed::SeedOptions options;
  options.hosts = {"LOCALHOST"}; // without the port, case-insensitive
  auto r = import_file(Format::har, data("small.har"), options);
  REQUIRE(r.records.size() == 1);
  CHECK(r.records[0].request.uri == "/login");
  CHECK(r.report.filtered == 3);
}

TEST_CASE("seed::har: a bad entry is skipped with a pointer by default", "[seed][har]") {
  auto r = import_file(Format::har, data("bad-entry.har"));
  CHECK(r.records.size() == 2);
  CHECK(r.report.skipped == 1);
  REQUIRE(r.warnings.size() == 1);
  CHECK_THAT(r.warnings[0], Catch::Contains("/log/entries/1/response/status: expected an integer, got string"));
  CHECK(r.records[1].id == r.report.session_id + "-000002");
}

TEST_CASE("seed::har: strict mode fails on the first bad entry naming its pointer", "[seed][har]") {
  gostly::seed::SeedOptions options;
  options.on_bad_entry = gostly::seed::OnBadEntry::fail;
  try {
    import_file(Format::har, data("bad-entry.har"), options);
    FAIL("no error");
  } catch (const gostly::InputError& e) {
    CHECK(e.field() == "/log/entries/1/response/status");
    CHECK_THAT(std::string(e.what()), Catch::EndsWith("bad-entry.har: /log/entries/1/response/status: expected an integer, got string"));
  }
}

TEST_CASE("seed::har: broken JSON names the line, column, byte offset and where it was", "[seed][har]") {
  try {
    import_file(Format::har, data("malformed.har"));
    FAIL("no error");
  } catch (const gostly::InputError& e) {
    CHECK(e.line() == 2);
    CHECK(e.field() == "/log/entries/0/response/status");
    CHECK_THAT(e.reason(), Catch::StartsWith("column 91 (byte 131): invalid JSON"));
    CHECK_THAT(std::string(e.what()), Catch::Contains("malformed.har:2: /log/entries/0/response/status: column 91"));
  }
}

TEST_CASE("seed::har: documents that are not HAR are refused", "[seed][har]") {
  CHECK_THROWS_WITH(import_text(Format::har, "[1,2]"), Catch::Contains("not a HAR file"));
  CHECK_THROWS_WITH(import_text(Format::har, R"({"log": {"version": "1.2"}})"), Catch::Contains("/log/entries: missing"));
  CHECK_THROWS_WITH(import_text(Format::har, R"({"log": {"entries": {}}})"), Catch::Contains("/log/entries: expected an array"));
  CHECK_THROWS_WITH(import_text(Format::har, ""), Catch::Contains("empty input"));
  // Non-object entries are bad entries, not a broken file.
  auto r = import_text(Format::har, R"({"log": {"entries": [3, [1]]}})");
  CHECK(r.report.skipped == 2);
  CHECK_THAT(r.warnings[1], Catch::Contains("/log/entries/1: expected an object, got array"));
}

TEST_CASE("seed::har: the golden output of small.har", "[seed][har][golden]") {
  // Regenerate after a deliberate change with:
  //   gostly-seed har tests/seed/data/small.har > tests/seed/data/small.har.expected.jsonl
  auto r = import_file(Format::har, data("small.har"));
  CHECK(r.jsonl() == read_file(data("small.har.expected.jsonl")));
}

TEST_CASE("seed::har: a response without headers takes its Content-Type from content.mimeType", "[seed][har]") {
  auto r = import_file(Format::har, data("no-response-headers.har"));
  REQUIRE(r.records.size() == 2);
  CHECK(header(r.records[0].response.headers, "content-type") == "text/csv");
  CHECK(r.records[0].response.body == "a,b\n1,2\n");
  // A Content-Type the exporter did list wins over mimeType, and is not doubled.
  CHECK(r.records[1].response.headers.size() == 1);
  CHECK(header(r.records[1].response.headers, "content-type") == "application/json");
}

TEST_CASE("seed::har: --host with the scheme's default port matches a URL without one", "[seed][har]") {
  gostly::seed::SeedOptions options;
  options.hosts = {"API.example.com:443"};
  auto https = import_file(Format::har, data("no-response-headers.har"), options);
  REQUIRE(https.records.size() == 1);
  CHECK(https.records[0].request.host == "api.example.com");
  CHECK(https.report.filtered == 1);
  options.hosts = {"other.example.com:80"};
  auto http = import_file(Format::har, data("no-response-headers.har"), options);
  REQUIRE(http.records.size() == 1);
  CHECK(http.records[0].request.host == "other.example.com");
  options.hosts = {"api.example.com:80"}; // http's port, but the URL is https
  CHECK(import_file(Format::har, data("no-response-headers.har"), options).records.empty());
}

TEST_CASE("seed::har: WebSocket entries are skipped and counted, never seeded as a bare 101", "[seed][har]") {
  // Chrome writes a WebSocket as a 101 entry carrying its frames in _webSocketMessages; replayed,
  // that 101 leaves the client waiting for frames nobody sends.
  auto r = import_text(Format::har, R"({"log":{"version":"1.2","entries":[
    {"startedDateTime":"2024-01-01T00:00:00Z","time":1,"_resourceType":"websocket",
     "request":{"method":"GET","url":"ws://h.test/socket","httpVersion":"HTTP/1.1",
                "headers":[{"name":"Upgrade","value":"websocket"},{"name":"Connection","value":"Upgrade"}]},
     "response":{"status":101,"statusText":"Switching Protocols","httpVersion":"HTTP/1.1",
                 "headers":[{"name":"Upgrade","value":"websocket"}],"content":{"size":0}},
     "_webSocketMessages":[{"type":"send","time":1.5,"opcode":1,"data":"hi"},
                           {"type":"receive","time":1.6,"opcode":1,"data":"hello"}]},
    {"startedDateTime":"2024-01-01T00:00:01Z","time":1,
     "request":{"method":"GET","url":"http://h.test/a","httpVersion":"HTTP/1.1","headers":[]},
     "response":{"status":200,"statusText":"OK","httpVersion":"HTTP/1.1","headers":[],"content":{"size":2,"text":"ok"}}},
    {"startedDateTime":"2024-01-01T00:00:02Z","time":1,
     "request":{"method":"GET","url":"wss://h.test/live","httpVersion":"HTTP/1.1","headers":[]},
     "response":{"status":101,"statusText":"","httpVersion":"HTTP/1.1","headers":[],"content":{"size":0}}}
  ]}})");
  CHECK(r.report.entries == 3);
  CHECK(r.report.websockets == 2);
  CHECK(r.report.skipped == 0); // not a bad entry: a kind gostly does not replay
  REQUIRE(r.records.size() == 1);
  CHECK(r.records[0].request.uri == "/a");
  CHECK(r.records[0].id.substr(r.records[0].id.size() - 7) == "-000001"); // ids keep the entry's place
  auto report = gostly::seed::report_to_json(r.report);
  CHECK(report.at("websockets") == 2);
}
