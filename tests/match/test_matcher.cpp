#include "match/matcher.hpp"

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include <atomic>
#include <thread>

using namespace gostly;
using namespace gostly::match;

namespace {

record::Interaction recorded(std::string method, std::string uri, std::string response_body, std::string request_body = {},
                             int status = 200) {
  record::Interaction i;
  i.request.method = std::move(method);
  i.request.uri = std::move(uri);
  i.request.body = std::move(request_body);
  i.response.status = status;
  i.response.headers = {{"Content-Type", "application/json"}};
  i.response.body = std::move(response_body);
  return i;
}

record::Request request(std::string method, std::string uri, std::string body = {}) {
  record::Request r;
  r.method = std::move(method);
  r.uri = std::move(uri);
  r.body = std::move(body);
  return r;
}

nlohmann::json miss_json(const Answer& answer) {
  REQUIRE(answer.tier == Tier::miss);
  REQUIRE(answer.response->status == 404);
  return nlohmann::json::parse(answer.response->body);
}

} // namespace

TEST_CASE("match::ServiceMatcher: tier names for the header and the metric label", "[match]") {
  CHECK(header_value(Tier::session_verbatim) == "session-verbatim");
  CHECK(metric_label(Tier::session_verbatim) == "session_verbatim");
  CHECK(header_value(Tier::exact) == "exact");
  CHECK(header_value(Tier::resource_store) == "resource_store");
  CHECK(header_value(Tier::resource_transition) == "resource_transition");
  CHECK(metric_label(Tier::smart_swap) == "smart_swap");
  CHECK(header_value(Tier::miss) == "miss");
  CHECK(metric_label(Tier::miss) == "miss");
}

TEST_CASE("match::ServiceMatcher: exact matches method, URI with query, and body", "[match]") {
  ServiceMatcher m;
  m.load_library({recorded("GET", "/search?q=a", R"({"hits":1})"), recorded("POST", "/users", R"({"ok":true})", R"({"name":"ann"})"),
                  recorded("GET", "/health", "ok")}); // (a response without an id creates no resource)
  CHECK(m.library_size() == 3);

  auto a = m.match(request("GET", "/search?q=a"));
  CHECK(a.tier == Tier::exact);
  CHECK(a.response->body == R"({"hits":1})");
  CHECK(m.match(request("GET", "/search?q=b")).tier == Tier::miss);
  CHECK(m.match(request("HEAD", "/health")).tier == Tier::miss);
  CHECK(m.match(request("GET", "http://api.example.com/health")).tier == Tier::exact);

  CHECK(m.match(request("POST", "/users", "{ \"name\" : \"ann\" }")).tier == Tier::exact); // JSON compared semantically
  CHECK(m.match(request("POST", "/users", R"({"name":"bob"})")).tier == Tier::miss);
  CHECK(m.match(request("POST", "/users")).tier == Tier::miss);
}

TEST_CASE("match::ServiceMatcher: repeated keys replay in recorded order, then the last repeats", "[match]") {
  ServiceMatcher m;
  m.load_library({recorded("GET", "/posts/1", R"({"title":"old"})"), recorded("PATCH", "/posts/1", "{}", R"({"title":"new"})"),
                  recorded("GET", "/posts/1", R"({"title":"new"})"), recorded("GET", "/posts/1", R"({"title":"newest"})")});
  CHECK(m.match(request("GET", "/posts/1")).response->body == R"({"title":"old"})");
  CHECK(m.match(request("GET", "/posts/1")).response->body == R"({"title":"new"})");
  CHECK(m.match(request("GET", "/posts/1")).response->body == R"({"title":"newest"})");
  CHECK(m.match(request("GET", "/posts/1")).response->body == R"({"title":"newest"})");

  m.reset_cursors();
  CHECK(m.match(request("GET", "/posts/1")).response->body == R"({"title":"old"})");

  m.load_library({recorded("GET", "/posts/1", "a"), recorded("GET", "/posts/1", "b")});
  CHECK(m.match(request("GET", "/posts/1")).response->body == "a"); // a reload starts over too
}

TEST_CASE("match::ServiceMatcher: the live session answers first, verbatim, until cleared", "[match]") {
  ServiceMatcher m;
  m.load_library({recorded("GET", "/me", R"({"from":"library"})")});
  auto live = recorded("GET", "/me", R"({"from":"session"})");
  live.response.headers.emplace_back("Set-Cookie", "sid=secret");
  m.session_add(live);
  CHECK(m.session_size() == 1);

  auto a = m.match(request("GET", "/me"));
  CHECK(a.tier == Tier::session_verbatim);
  CHECK(a.response->body == R"({"from":"session"})");
  CHECK(a.response->headers.back().second == "sid=secret");

  m.session_clear();
  CHECK(m.session_size() == 0);
  CHECK(m.match(request("GET", "/me")).tier == Tier::exact);
}

TEST_CASE("match::ServiceMatcher: tiers are tried in order session, exact, smart_swap, miss", "[match]") {
  ServiceMatcher m;
  m.load_library({recorded("GET", "/users/42", R"({"id":42})"), recorded("GET", "/users/7", R"({"id":7})")});
  m.session_add(recorded("GET", "/users/7", R"({"id":7,"live":true})"));
  CHECK(m.match(request("GET", "/users/7")).tier == Tier::session_verbatim);
  CHECK(m.match(request("GET", "/users/42")).tier == Tier::exact);
  CHECK(m.match(request("GET", "/users/99")).tier == Tier::smart_swap);
  CHECK(m.match(request("GET", "/users/me")).tier == Tier::miss);
}

TEST_CASE("match::ServiceMatcher: smart_swap answers another id and swaps it in the body", "[match]") {
  ServiceMatcher m;
  auto user = recorded("GET", "/users/42", R"({"id": 42, "self": "/users/42", "team": {"lead_id": "42"}, "age": 142})");
  user.response.headers.emplace_back("Content-Length", std::to_string(user.response.body.size()));
  user.response.headers.emplace_back("Location", "/users/42");
  m.load_library({user});

  auto a = m.match(request("GET", "/users/99"));
  REQUIRE(a.tier == Tier::smart_swap);
  CHECK(a.response->body == R"({"id": 99, "self": "/users/99", "team": {"lead_id": "99"}, "age": 142})");
  CHECK(a.prepared == nullptr); // rewritten, so the recorded wire bytes do not apply
  CHECK(*record::find_header(a.response->headers, "Content-Length") == std::to_string(a.response->body.size()));
  CHECK(*record::find_header(a.response->headers, "Location") == "/users/99");

  auto uuid = m.match(request("GET", "/users/123e4567-e89b-12d3-a456-426614174000"));
  REQUIRE(uuid.tier == Tier::smart_swap);
  CHECK(nlohmann::json::parse(uuid.response->body).at("id") == "123e4567-e89b-12d3-a456-426614174000");

  CHECK(m.match(request("POST", "/users/99")).tier == Tier::miss); // same method only
  CHECK(m.match(request("GET", "/users/99/posts")).tier == Tier::miss);
}

TEST_CASE("match::ServiceMatcher: smart_swap leaves binary and encoded bodies untouched", "[match]") {
  ServiceMatcher m;
  auto gz = recorded("GET", "/files/42", std::string("\x1f\x8b\x08\x00" "42", 6));
  gz.response.headers = {{"Content-Encoding", "gzip"}};
  m.load_library({gz});
  auto a = m.match(request("GET", "/files/43"));
  CHECK(a.tier == Tier::smart_swap);
  CHECK(a.response->body == gz.response.body);
}

TEST_CASE("match::ServiceMatcher: smart_swap prefers the most specific recording", "[match]") {
  ServiceMatcher m;
  m.load_library({recorded("GET", "/orgs/1/users/5", R"({"org":1})"), recorded("GET", "/orgs/2/users/6", R"({"org":2})"),
                  recorded("GET", "/orgs/2/users/7?full=1", R"({"org":2,"full":true})")});
  CHECK(m.match(request("GET", "/orgs/2/users/9")).response->body == R"({"org":2})");
  CHECK(m.match(request("GET", "/orgs/3/users/9?full=1")).response->body == R"({"org":3,"full":true})");
  CHECK(m.match(request("GET", "/orgs/1/users/9")).response->body == R"({"org":1})");
}

TEST_CASE("match::ServiceMatcher: prepared bytes are made once per tier and handed out as is", "[match]") {
  std::atomic<int> calls{0};
  ServiceMatcher m([&](const record::Response& r, Tier tier) {
    ++calls;
    return std::make_shared<const std::string>(std::string(header_value(tier)) + ":" + r.body);
  });
  m.load_library({recorded("GET", "/users/42", R"({"name":"x"})"), recorded("GET", "/health", "ok")});
  CHECK(calls == 3); // /users/42 for exact and smart_swap, /health for exact only
  CHECK(*m.match(request("GET", "/users/42")).prepared == R"(exact:{"name":"x"})");
  CHECK(*m.match(request("GET", "/users/7")).prepared == R"(smart_swap:{"name":"x"})"); // no id in the body
  m.session_add(recorded("GET", "/health", "live"));
  CHECK(calls == 3); // a session recording is prepared when first replayed, not when recorded
  CHECK(*m.match(request("GET", "/health")).prepared == "session-verbatim:live");
  CHECK(*m.match(request("GET", "/health")).prepared == "session-verbatim:live");
  CHECK(m.match(request("GET", "/nothing")).prepared == nullptr);
  CHECK(calls == 4); // nothing per request
}

TEST_CASE("match::ServiceMatcher: a miss says why and names the nearest recordings", "[match]") {
  ServiceMatcher m;
  CHECK(miss_json(m.match(request("GET", "/x"))).at("reason") == "the mock library is empty");

  m.load_library({recorded("GET", "/users/me", "{}"), recorded("GET", "/search?q=a", "{}"),
                  recorded("POST", "/login", "{}", R"({"user":"ann"})"), recorded("GET", "/health", "ok")});
  auto none = miss_json(m.match(request("GET", "/users/me/settings")));
  CHECK(none.at("reason") == "no recording for GET /users/me/settings");
  CHECK(none.at("nearest").size() == 3);
  CHECK(none.at("nearest").at(0) == nlohmann::json{{"method", "GET"}, {"uri", "/users/me"}});
  CHECK(none.at("request").at("uri") == "/users/me/settings");
  CHECK(none.at("library_size") == 4);

  CHECK(miss_json(m.match(request("GET", "/search?q=b"))).at("reason") ==
        "GET /search was recorded, but query `q` differs: b vs recorded a");
  CHECK(miss_json(m.match(request("POST", "/login", R"({"user":"bob"})"))).at("reason") ==
        "POST /login was recorded, but body field `user` differs: \"bob\" vs recorded \"ann\"");
  CHECK(miss_json(m.match(request("DELETE", "/health"))).at("reason") == "/health was recorded only with GET");
}

TEST_CASE("match::ServiceMatcher: matching stays consistent while the library is swapped", "[match]") {
  ServiceMatcher m;
  std::vector<record::Interaction> a{recorded("GET", "/users/42", "A"), recorded("GET", "/v", "A")};
  std::vector<record::Interaction> b{recorded("GET", "/users/42", "B"), recorded("GET", "/v", "B"), recorded("GET", "/v", "B2")};
  m.load_library(a);

  std::atomic<bool> stop{false};
  std::atomic<int> bad{0};
  std::atomic<long> answered{0};
  std::vector<std::thread> readers;
  for (int t = 0; t < 4; ++t) {
    readers.emplace_back([&] {
      while (!stop) {
        auto exact = m.match(request("GET", "/users/42"));
        auto swapped = m.match(request("GET", "/users/7"));
        auto repeated = m.match(request("GET", "/v"));
        if (exact.tier != Tier::exact || (exact.response->body != "A" && exact.response->body != "B")) ++bad;
        if (swapped.tier != Tier::smart_swap) ++bad;
        if (repeated.tier != Tier::exact || repeated.response->body.empty()) ++bad;
        answered += 3;
      }
    });
  }
  // Keep swapping until the readers have really overlapped the swaps: on a loaded machine the
  // threads may not even be scheduled before 200 swaps are done.
  std::size_t last_loaded = 0;
  for (int i = 0; i < 200 || answered < 3000; ++i) {
    m.load_library(i % 2 ? a : b);
    last_loaded = i % 2 ? a.size() : b.size();
    m.reset_cursors();
    m.session_add(recorded("GET", "/s", "live"));
    if (i % 50 == 0) m.session_clear();
  }
  stop = true;
  for (auto& r : readers) r.join();
  CHECK(bad == 0);
  CHECK(answered > 0);
  CHECK(m.library_size() == last_loaded);
}

TEST_CASE("match::ServiceMatcher: resource_store serves what a POST created, then updates and deletes it", "[match]") {
  ServiceMatcher m;
  m.load_library({recorded("POST", "/users", R"({"id":7,"name":"ann","role":"user"})", R"({"name":"ann"})", 201),
                  recorded("GET", "/users/7", R"({"id":7,"name":"ann","role":"user"})")});

  auto created = m.match(request("POST", "/users", R"({"name":"bob"})"));
  REQUIRE(created.tier == Tier::resource_store);
  CHECK(created.response->status == 201);
  auto bob = nlohmann::json::parse(created.response->body);
  CHECK(bob.at("name") == "bob");
  CHECK(bob.at("role") == "user");
  CHECK(bob.at("id") == 8); // above every recorded id, and still a number
  CHECK(created.response->body.find(R"("id":8)") < created.response->body.find(R"("name")")); // recorded key order

  auto got = m.match(request("GET", "/users/8"));
  CHECK(got.tier == Tier::resource_store);
  CHECK(nlohmann::json::parse(got.response->body).at("name") == "bob");
  CHECK(m.match(request("GET", "/users/7")).tier == Tier::exact); // earlier tiers still win

  auto patched = m.match(request("PATCH", "/users/8", R"({"role":"admin"})"));
  CHECK(patched.tier == Tier::resource_store);
  CHECK(nlohmann::json::parse(m.match(request("GET", "/users/8")).response->body).at("role") == "admin");

  CHECK(m.match(request("DELETE", "/users/8")).response->status == 204);
  auto gone = m.match(request("GET", "/users/8"));
  CHECK(gone.tier == Tier::resource_store);
  CHECK(gone.response->status == 404);

  m.reset_cursors(); // forgets the session's resources: /users/8 is a smart_swap of /users/7 again
  CHECK(m.match(request("GET", "/users/8")).tier == Tier::smart_swap);
}

TEST_CASE("match::ServiceMatcher: replaying a recorded creating POST registers its resource", "[match]") {
  ServiceMatcher m;
  m.load_library({recorded("POST", "/orders", R"({"id":"ord_1a2b3c4d","status":"pending"})", R"({"sku":"x"})", 201)});
  CHECK(m.match(request("POST", "/orders", R"({"sku":"x"})")).tier == Tier::exact);
  auto got = m.match(request("GET", "/orders/ord_1a2b3c4d"));
  CHECK(got.tier == Tier::resource_store);
  CHECK(nlohmann::json::parse(got.response->body).at("status") == "pending");
}

TEST_CASE("match::ServiceMatcher: statecharts advance a status and stamp the transition", "[match]") {
  ServiceMatcher m;
  m.load_library({recorded("GET", "/orders/42", R"({"id":42,"status":"pending","total":10})")});

  auto paid = m.match(request("PATCH", "/orders/42", R"({"action":"pay"})"));
  REQUIRE(paid.tier == Tier::resource_transition);
  CHECK(paid.transition == "order:pending->paid");
  CHECK(paid.response->status == 200);
  CHECK(nlohmann::json::parse(paid.response->body) == nlohmann::json{{"id", 42}, {"status", "paid"}, {"total", 10}});

  auto shipped = m.match(request("POST", "/orders/42/ship"));
  CHECK(shipped.tier == Tier::resource_transition);
  CHECK(shipped.transition == "order:paid->shipped");
  // The recorded GET shows what this run did to the order (issue 9: it used to say "pending").
  auto now = m.match(request("GET", "/orders/42"));
  CHECK(now.tier == Tier::resource_store);
  CHECK(nlohmann::json::parse(now.response->body) == nlohmann::json{{"id", 42}, {"status", "shipped"}, {"total", 10}});

  auto refused = m.match(request("POST", "/orders/42/pay"));
  CHECK(refused.tier == Tier::resource_transition);
  CHECK(refused.response->status == 409);
  CHECK(refused.transition.empty());
  CHECK(nlohmann::json::parse(refused.response->body).at("allowed") == nlohmann::json{"deliver"});

  auto other = m.match(request("POST", "/orders/99/cancel")); // known through smart_swap of /orders/42
  CHECK(other.transition == "order:pending->cancelled");
  CHECK(nlohmann::json::parse(other.response->body).at("id") == 99);

  CHECK(m.match(request("PATCH", "/orders/42", R"({"action":"fly"})")).tier != Tier::resource_transition);
  CHECK(m.match(request("POST", "/users/42/pay")).tier == Tier::miss); // no chart for users
}

TEST_CASE("match::ServiceMatcher: a session hammering one key keeps a bounded sequence and its latest answer",
          "[match]") {
  ServiceMatcher m;
  for (int i = 0; i < 1000; ++i) m.session_add(recorded("GET", "/poll", "{\"n\":" + std::to_string(i) + "}"));
  CHECK(m.session_size() == 64);
  CHECK(m.match(request("GET", "/poll")).response->body == "{\"n\":0}"); // the sequence keeps its start
  std::string last;
  for (int i = 0; i < 100; ++i) last = m.match(request("GET", "/poll")).response->body;
  CHECK(last == "{\"n\":999}"); // and ends on the newest recording, which then repeats
}

TEST_CASE("match::ServiceMatcher: a seed's declared path template swaps parameters that are not id-like", "[match]") {
  ServiceMatcher m;
  auto seeded = recorded("GET", "/v1/users/alice/repos/gostly", R"({"owner":"alice","name":"gostly","stars":3})");
  seeded.extra["seed"] = {{"path_template", "/v1/users/{username}/repos/{repo}"}};
  auto undeclared = recorded("GET", "/teams/core", R"({"team":"core"})");
  auto wrong = recorded("GET", "/orgs/acme", R"({"org":"acme"})");
  wrong.extra["seed"] = {{"path_template", "/other/{x}"}}; // does not describe the seeded path: ignored
  m.load_library({seeded, undeclared, wrong});

  auto answer = m.match(request("GET", "/v1/users/bob/repos/mocks"));
  REQUIRE(answer.tier == Tier::smart_swap);
  CHECK(answer.response->body == R"({"owner":"bob","name":"mocks","stars":3})");
  CHECK(m.match(request("GET", "/v1/users/alice/repos/gostly")).tier == Tier::exact);
  CHECK(m.match(request("POST", "/v1/users/bob/repos/mocks")).tier == Tier::miss);   // another method
  CHECK(m.match(request("GET", "/v1/users/bob/repos")).tier == Tier::miss);          // another shape
  CHECK(m.match(request("GET", "/v1/people/bob/repos/mocks")).tier == Tier::miss);   // another literal
  CHECK(m.match(request("GET", "/teams/platform")).tier == Tier::miss);              // words stay words without a template
  CHECK(m.match(request("GET", "/orgs/other")).tier == Tier::miss);
}

// ---- The session buffer's byte budget (--session-buffer-max) ----

namespace {
std::string key_uri(int i) { return "/items/" + std::to_string(i) + "?q=x"; }
} // namespace

TEST_CASE("match::SessionBudget: distinct keys never take the session past its byte budget", "[match]") {
  constexpr std::uint64_t max = 64 * 1024;
  auto budget = std::make_shared<SessionBudget>(max);
  ServiceMatcher m({}, budget);
  std::uint64_t highest = 0;
  for (int i = 0; i < 20000; ++i) {
    m.session_add(recorded("GET", key_uri(i), "{\"n\":" + std::to_string(i) + ",\"pad\":\"" + std::string(100, 'x') + "\"}"));
    highest = std::max(highest, budget->bytes());
  }
  CHECK(highest <= max);
  CHECK(budget->bytes() > max / 2); // it is used, not emptied
  CHECK(budget->max_bytes() == max);
  CHECK(budget->evictions() > 0);
  CHECK(m.session_size() < 20000);
  CHECK(m.session_size() + budget->evictions() == 20000); // one key, one recording: each eviction is one
  CHECK(m.match(request("GET", key_uri(19999))).tier == Tier::session_verbatim);
}

TEST_CASE("match::SessionBudget: the key added to least recently is evicted first", "[match]") {
  auto budget = std::make_shared<SessionBudget>(16 * 1024);
  ServiceMatcher m({}, budget);
  int i = 0;
  while (budget->evictions() == 0) {
    m.session_add(recorded("GET", key_uri(i), "body " + std::to_string(i)));
    ++i;
    // Key 0 is recorded again while key 1 is not: key 1 is now the oldest.
    if (i == 2) m.session_add(recorded("GET", key_uri(0), "body 0 again"));
    REQUIRE(i < 10000);
  }
  CHECK(budget->evictions() == 1);
  CHECK(m.match(request("GET", key_uri(1))).tier == Tier::miss);
  auto again = m.match(request("GET", key_uri(0)));
  CHECK(again.tier == Tier::session_verbatim);
  CHECK(again.response->body == "body 0");
  CHECK(m.match(request("GET", key_uri(i - 1))).tier == Tier::session_verbatim);

  // Later adds keep evicting in that order: 0 (recorded again at step 2) before 2, 3, ...
  for (int j = i; budget->evictions() < 2; ++j) m.session_add(recorded("GET", key_uri(j), "body " + std::to_string(j)));
  CHECK(m.match(request("GET", key_uri(0))).tier == Tier::miss);
  CHECK(m.match(request("GET", key_uri(2))).tier == Tier::session_verbatim);
}

TEST_CASE("match::SessionBudget: an evicted key misses tier 1 and falls through to the library tiers", "[match]") {
  auto budget = std::make_shared<SessionBudget>(8 * 1024);
  ServiceMatcher m({}, budget);
  m.load_library({recorded("GET", "/users/42", R"({"id":42,"from":"library"})"),
                  recorded("GET", "/health", R"({"from":"library"})")});
  m.session_add(recorded("GET", "/health", R"({"from":"session"})"));
  m.session_add(recorded("GET", "/users/7", R"({"id":7,"from":"session"})"));
  CHECK(m.match(request("GET", "/health")).tier == Tier::session_verbatim);
  CHECK(m.match(request("GET", "/users/7")).tier == Tier::session_verbatim);
  for (int i = 0; budget->evictions() < 2; ++i) m.session_add(recorded("GET", key_uri(i), "filler"));

  auto exact = m.match(request("GET", "/health"));
  CHECK(exact.tier == Tier::exact);
  CHECK(exact.response->body == R"({"from":"library"})");
  auto swapped = m.match(request("GET", "/users/7"));
  CHECK(swapped.tier == Tier::smart_swap);
  CHECK(swapped.response->body == R"({"id":7,"from":"library"})");
  CHECK(m.match(request("GET", "/nowhere")).tier == Tier::miss);
}

TEST_CASE("match::SessionBudget: repeats of one key stay capped and keep the key's bytes flat", "[match]") {
  auto budget = std::make_shared<SessionBudget>(1 << 20);
  ServiceMatcher m({}, budget);
  std::uint64_t after_cap = 0;
  for (int i = 0; i < 1000; ++i) {
    m.session_add(recorded("GET", "/poll", "{\"n\":" + std::to_string(1000 + i) + "}")); // same size every time
    if (i == 63) after_cap = budget->bytes();
  }
  CHECK(m.session_size() == 64);
  CHECK(budget->bytes() == after_cap);
  CHECK(budget->evictions() == 0);
  CHECK(m.match(request("GET", "/poll")).response->body == "{\"n\":1000}");
}

TEST_CASE("match::SessionBudget: bytes count what an entry holds and return to zero", "[match]") {
  auto budget = std::make_shared<SessionBudget>(1 << 20);
  {
    ServiceMatcher m({}, budget);
    m.session_add(recorded("GET", "/small", "x"));
    auto small = budget->bytes();
    CHECK(small > 0);
    auto big = recorded("POST", "/big?" + std::string(1000, 'q'), std::string(20000, 'b'), R"({"k":"v"})");
    big.response.headers.emplace_back("X-Long", std::string(3000, 'h'));
    m.session_add(big);
    CHECK(budget->bytes() - small >= 1000 + 20000 + 3000); // the URI, the body and the headers
    m.session_clear();
    CHECK(budget->bytes() == 0);
    m.session_add(big);
    CHECK(budget->bytes() > 0);
  }
  CHECK(budget->bytes() == 0); // a matcher that goes away gives its bytes back
}

TEST_CASE("match::SessionBudget: an entry larger than the whole budget is not kept", "[match]") {
  auto budget = std::make_shared<SessionBudget>(4096);
  ServiceMatcher m({}, budget);
  m.session_add(recorded("GET", "/a", "small"));
  m.session_add(recorded("GET", "/huge", std::string(10000, 'z')));
  CHECK(budget->bytes() <= 4096);
  CHECK(m.match(request("GET", "/huge")).tier == Tier::miss);
}

TEST_CASE("match::SessionBudget: 0 disables the session-verbatim tier", "[match]") {
  auto budget = std::make_shared<SessionBudget>(0);
  ServiceMatcher m({}, budget);
  m.load_library({recorded("GET", "/me", R"({"from":"library"})")});
  m.session_add(recorded("GET", "/me", R"({"from":"session"})"));
  m.session_add(recorded("GET", "/only-live", "live"));
  CHECK(m.session_size() == 0);
  CHECK(budget->bytes() == 0);
  CHECK(budget->evictions() == 0);
  CHECK(m.match(request("GET", "/me")).tier == Tier::exact);
  CHECK(m.match(request("GET", "/only-live")).tier == Tier::miss);
}

TEST_CASE("match::SessionBudget: services sharing one budget evict each other's oldest keys", "[match]") {
  constexpr std::uint64_t max = 32 * 1024;
  auto budget = std::make_shared<SessionBudget>(max);
  ServiceMatcher a({}, budget), b({}, budget);
  a.session_add(recorded("GET", "/a/first", "a"));
  for (int i = 0; i < 5000; ++i) {
    b.session_add(recorded("GET", key_uri(i), "b"));
    CHECK(budget->bytes() <= max);
  }
  CHECK(a.session_size() == 0);
  CHECK(a.match(request("GET", "/a/first")).tier == Tier::miss);
  CHECK(b.session_size() > 0);
  a.session_clear(); // nothing of a's left: clearing it leaves b's keys alone
  CHECK(b.match(request("GET", key_uri(4999))).tier == Tier::session_verbatim);
}

TEST_CASE("match::SessionBudget: replays stay valid while adds evict under them", "[match]") {
  auto budget = std::make_shared<SessionBudget>(16 * 1024);
  ServiceMatcher m([](const record::Response& r, Tier) { return std::make_shared<const std::string>(r.body); },
                   budget);
  std::atomic<bool> stop{false};
  std::atomic<int> latest{0};
  std::atomic<int> bad{0};
  std::atomic<long> hits{0};
  std::vector<std::thread> readers;
  for (int t = 0; t < 3; ++t) {
    readers.emplace_back([&, t] {
      while (!stop) {
        int i = std::max(0, latest.load() - t * 3); // just added, or about to be evicted
        auto answer = m.match(request("GET", key_uri(i)));
        if (answer.tier == Tier::session_verbatim) {
          ++hits;
          if (answer.response->body != "v" + std::to_string(i) || !answer.prepared || *answer.prepared != answer.response->body)
            ++bad;
        } else if (answer.tier != Tier::miss) {
          ++bad;
        }
      }
    });
  }
  for (int i = 0; i < 20000 || hits < 1000; ++i) {
    m.session_add(recorded("GET", key_uri(i), "v" + std::to_string(i)));
    latest = i;
  }
  stop = true;
  for (auto& r : readers) r.join();
  CHECK(bad == 0);
  CHECK(budget->evictions() > 0);
  CHECK(budget->bytes() <= 16 * 1024);
}

namespace {

nlohmann::json body_of(const Answer& answer) { return nlohmann::json::parse(answer.response->body); }

// A recorded order flow: created, read, paid (the action recorded), read again, deleted.
std::vector<record::Interaction> order_flow() {
  return {recorded("POST", "/orders", R"({"id":"ord_1a2b3c4d","status":"pending","total":10})", R"({"sku":"x"})", 201),
          recorded("GET", "/orders/ord_1a2b3c4d", R"({"id":"ord_1a2b3c4d","status":"pending","total":10,"items":[1]})"),
          recorded("POST", "/orders/ord_1a2b3c4d/pay", R"({"id":"ord_1a2b3c4d","status":"paid","total":10})"),
          recorded("GET", "/orders/ord_1a2b3c4d", R"({"id":"ord_1a2b3c4d","status":"paid","total":10,"items":[1]})"),
          recorded("GET", "/orders/ord_9f8e7d6c", R"({"id":"ord_9f8e7d6c","status":"pending","total":3})")};
}

} // namespace

TEST_CASE("match::ServiceMatcher: a resource changed in this run shows on its recorded GET; PUT and DELETE apply",
          "[match]") {
  ServiceMatcher m;
  m.load_library({recorded("GET", "/orders/ord_1a2b3c4d", R"({"id":"ord_1a2b3c4d","status":"pending","total":10})"),
                  recorded("POST", "/orders/ord_1a2b3c4d/pay", R"({"id":"ord_1a2b3c4d","status":"paid","total":10})"),
                  recorded("GET", "/orders/ord_9f8e7d6c", R"({"id":"ord_9f8e7d6c","status":"pending","total":3})")});
  auto before = m.match(request("GET", "/orders/ord_1a2b3c4d"));
  CHECK(before.tier == Tier::exact);
  CHECK(before.prepared == nullptr); // no PrepareFn here; the same recorded response object
  CHECK(body_of(before).at("status") == "pending");

  // The recorded action replays as recorded, and the order is now paid for the rest of the run.
  auto paid = m.match(request("POST", "/orders/ord_1a2b3c4d/pay"));
  CHECK(paid.tier == Tier::exact);
  auto got = m.match(request("GET", "/orders/ord_1a2b3c4d"));
  CHECK(got.tier == Tier::resource_store);
  CHECK(body_of(got) == nlohmann::json{{"id", "ord_1a2b3c4d"}, {"status", "paid"}, {"total", 10}});
  CHECK(got.response->status == 200);
  CHECK(got.response->headers == record::Headers{{"Content-Type", "application/json"}}); // the recorded headers

  // An action nobody recorded goes through the statechart from the live status.
  auto shipped = m.match(request("POST", "/orders/ord_1a2b3c4d/ship"));
  CHECK(shipped.tier == Tier::resource_transition);
  CHECK(shipped.transition == "order:paid->shipped");
  CHECK(body_of(m.match(request("GET", "/orders/ord_1a2b3c4d"))).at("status") == "shipped");

  // PUT and PATCH update it, DELETE removes it, and then it is gone like the API would say.
  auto put = m.match(request("PUT", "/orders/ord_1a2b3c4d", R"({"status":"shipped","total":12})"));
  CHECK(put.tier == Tier::resource_store);
  CHECK(put.response->status == 200);
  auto after_put = m.match(request("GET", "/orders/ord_1a2b3c4d"));
  CHECK(after_put.tier == Tier::resource_store);
  CHECK(body_of(after_put) == nlohmann::json{{"id", "ord_1a2b3c4d"}, {"status", "shipped"}, {"total", 12}});
  CHECK(m.match(request("PATCH", "/orders/ord_1a2b3c4d", R"({"note":"gift"})")).tier == Tier::resource_store);
  CHECK(body_of(m.match(request("GET", "/orders/ord_1a2b3c4d"))).at("note") == "gift");
  auto deleted = m.match(request("DELETE", "/orders/ord_1a2b3c4d"));
  CHECK(deleted.tier == Tier::resource_store);
  CHECK(deleted.response->status == 204);
  auto gone = m.match(request("GET", "/orders/ord_1a2b3c4d"));
  CHECK(gone.tier == Tier::resource_store);
  CHECK(gone.response->status == 404);
  CHECK(m.match(request("POST", "/orders/ord_1a2b3c4d/pay")).response->status == 404);

  // A resource never touched still answers exactly as recorded.
  auto other = m.match(request("GET", "/orders/ord_9f8e7d6c"));
  CHECK(other.tier == Tier::exact);
  CHECK(other.response->body == R"({"id":"ord_9f8e7d6c","status":"pending","total":3})");

  m.reset_cursors(); // a new run: the recordings again
  auto again = m.match(request("GET", "/orders/ord_1a2b3c4d"));
  CHECK(again.tier == Tier::exact);
  CHECK(body_of(again).at("status") == "pending");
}

TEST_CASE("match::ServiceMatcher: a recorded flow replayed in its order stays exact, byte for byte", "[match]") {
  // Changes made by replaying a recording only override what was recorded before it: what the
  // server recorded afterwards (here "paid", also an asynchronous "settled") already includes it.
  auto flow = order_flow();
  flow.push_back(recorded("GET", "/orders/ord_1a2b3c4d", R"({"id":"ord_1a2b3c4d","status":"settled","total":10,"items":[1]})"));
  auto expected = flow;
  ServiceMatcher m;
  m.load_library(std::move(flow));
  for (std::size_t i : {0, 1, 2, 3, 5}) {
    INFO(i);
    auto answer = m.match(request(expected[i].request.method, expected[i].request.uri, expected[i].request.body));
    CHECK(answer.tier == Tier::exact);
    CHECK(answer.response->body == expected[i].response.body);
  }
}

TEST_CASE("match::ServiceMatcher: a recorded flow replayed in another order shows the state this run made", "[match]") {
  ServiceMatcher m;
  m.load_library(order_flow());
  CHECK(m.match(request("POST", "/orders", R"({"sku":"x"})")).tier == Tier::exact);
  CHECK(m.match(request("POST", "/orders/ord_1a2b3c4d/pay")).tier == Tier::exact);
  // The first recorded GET (before the payment) now says paid, keeping its other fields.
  auto got = m.match(request("GET", "/orders/ord_1a2b3c4d"));
  CHECK(got.tier == Tier::resource_store);
  CHECK(body_of(got) == nlohmann::json::parse(R"({"id":"ord_1a2b3c4d","status":"paid","total":10,"items":[1]})"));
  // The second was recorded after the payment: exactly as recorded.
  auto later = m.match(request("GET", "/orders/ord_1a2b3c4d"));
  CHECK(later.tier == Tier::exact);

  // A recorded DELETE removes it for the recordings made before it.
  ServiceMatcher d;
  auto flow = order_flow();
  flow.push_back(recorded("DELETE", "/orders/ord_1a2b3c4d", "", "", 204));
  d.load_library(std::move(flow));
  CHECK(d.match(request("DELETE", "/orders/ord_1a2b3c4d")).tier == Tier::exact);
  auto gone = d.match(request("GET", "/orders/ord_1a2b3c4d"));
  CHECK(gone.tier == Tier::resource_store);
  CHECK(gone.response->status == 404);
  CHECK(d.match(request("GET", "/orders/ord_9f8e7d6c")).tier == Tier::exact);
}

TEST_CASE("match::ServiceMatcher: the resource store learns from session-verbatim answers (LEARN flipped to MOCK)",
          "[match]") {
  ServiceMatcher m; // no library: the run was recorded and is replayed without a transition
  m.session_add(recorded("POST", "/orders", R"({"id":"ord_5e6f7a8b","status":"pending","total":4})", R"({"sku":"y"})", 201));
  m.session_add(recorded("GET", "/orders/ord_5e6f7a8b", R"({"id":"ord_5e6f7a8b","status":"pending","total":4})"));

  CHECK(m.match(request("POST", "/orders", R"({"sku":"y"})")).tier == Tier::session_verbatim);
  // Paid through the statechart, the recorded GET shows it.
  auto paid = m.match(request("POST", "/orders/ord_5e6f7a8b/pay"));
  CHECK(paid.tier == Tier::resource_transition);
  CHECK(paid.transition == "order:pending->paid");
  auto got = m.match(request("GET", "/orders/ord_5e6f7a8b"));
  CHECK(got.tier == Tier::resource_store);
  CHECK(body_of(got).at("status") == "paid");

  // A POST replayed from the session links to a later GET by id that was never recorded.
  ServiceMatcher n;
  n.session_add(recorded("POST", "/orders", R"({"id":"ord_7c8d9e0f","status":"pending","total":4})", R"({"sku":"z"})", 201));
  CHECK(n.match(request("POST", "/orders", R"({"sku":"z"})")).tier == Tier::session_verbatim);
  auto linked = n.match(request("GET", "/orders/ord_7c8d9e0f"));
  CHECK(linked.tier == Tier::resource_store);
  CHECK(body_of(linked).at("total") == 4);
  CHECK(n.match(request("DELETE", "/orders/ord_7c8d9e0f")).response->status == 204);
  CHECK(n.match(request("GET", "/orders/ord_7c8d9e0f")).response->status == 404);
}
