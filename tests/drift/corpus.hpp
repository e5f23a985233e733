#pragma once
// The drift corpus (issue 10): realistic pairs of recording sessions, generated
// deterministically (splitmix64 from a fixed seed per case, no std:: distributions, so the
// same bytes on every platform). For every false alarm and every miss the issue lists there is
// a pair that must give no event and a pair that must give one event with the right signal and
// severity. test_corpus.cpp scores the detector over it (precision, recall).
#include "drift/diff.hpp"
#include "drift/fingerprint.hpp"
#include "record/interaction.hpp"

#include <nlohmann/json.hpp>
#include <zlib.h>

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

namespace gostly::drift::corpus {

struct Rng {
  std::uint64_t state;
  explicit Rng(std::uint64_t seed) : state(seed) {}
  std::uint64_t next() {
    std::uint64_t z = (state += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
  }
  int below(int n) { return static_cast<int>(next() % static_cast<std::uint64_t>(n)); }
  std::string hex(int digits) {
    static const char* h = "0123456789abcdef";
    std::string out;
    for (int i = 0; i < digits; ++i) out += h[below(16)];
    return out;
  }
  std::string uuid() { return hex(8) + "-" + hex(4) + "-4" + hex(3) + "-a" + hex(3) + "-" + hex(12); }
  std::string timestamp(int day) {
    char buf[32];
    std::snprintf(buf, sizeof buf, "2026-06-%02dT%02d:%02d:%02dZ", 1 + day % 28, below(24), below(60), below(60));
    return buf;
  }
};

inline std::string gzip(const std::string& in) {
  z_stream z{};
  deflateInit2(&z, 6, Z_DEFLATED, 31, 8, Z_DEFAULT_STRATEGY);
  std::string out(deflateBound(&z, in.size()) + 32, '\0');
  z.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(in.data()));
  z.avail_in = static_cast<uInt>(in.size());
  z.next_out = reinterpret_cast<Bytef*>(out.data());
  z.avail_out = static_cast<uInt>(out.size());
  deflate(&z, Z_FINISH);
  out.resize(z.total_out);
  deflateEnd(&z);
  return out;
}

/// Collects a session's interactions straight into a fingerprint.
struct Session {
  SessionFingerprint fp;
  void add(const std::string& uri, int status, const nlohmann::json& body, bool gzipped = false) {
    record::Interaction i;
    i.request.method = "GET";
    i.request.uri = uri;
    i.response.status = status;
    i.response.body = body.is_null() ? std::string() : body.dump();
    if (gzipped) {
      i.response.body = gzip(i.response.body);
      i.response.headers = {{"Content-Type", "application/json"}, {"Content-Encoding", "gzip"}};
    }
    fp.add(i);
  }
};

struct Expected {
  std::string signal;   // a signal of this kind must be in the event
  Severity severity;    // the event's severity
  std::string route;    // on this route
};

struct Case {
  std::string item;     // the item
  std::string name;
  std::function<void(Session& baseline, Session& current)> build;
  std::optional<Expected> expected; // nullopt: no event at all
};

// A realistic user resource; `mutate` edits it per variant.
inline nlohmann::json user(Rng& r, int id, int day) {
  static const char* statuses[] = {"active", "suspended", "pending"};
  return {{"id", id},
          {"uuid", r.uuid()},
          {"name", "user " + std::to_string(id)},
          {"email", "u" + std::to_string(id) + "@example.com"},
          {"status", statuses[r.below(3)]},
          {"balance", r.below(100000)},
          {"created_at", r.timestamp(day)},
          {"address", {{"city", "c" + std::to_string(r.below(50))}, {"zip", std::to_string(10000 + r.below(89999))}}}};
}

inline std::vector<Case> cases() {
  std::vector<Case> out;
  auto users = [](Session& s, Rng& r, int count, int day, const std::function<void(nlohmann::json&, int)>& edit,
                  bool gz = false, int first_id = 1) {
    for (int i = 0; i < count; ++i) {
      int id = first_id + i;
      auto body = user(r, id, day);
      if (edit) edit(body, i);
      s.add("/users/" + std::to_string(id), 200, body, gz);
    }
  };
  const std::function<void(nlohmann::json&, int)> same;

  // 1. Compressed bodies.
  out.push_back({"1", "gzip bodies, same shape, new values", [=](Session& b, Session& c) {
    Rng r(101); users(b, r, 30, 1, same, true); users(c, r, 30, 2, same, true, 500); }, std::nullopt});
  out.push_back({"1", "gzip bodies, a field removed", [=](Session& b, Session& c) {
    Rng r(102); users(b, r, 30, 1, same, true);
    users(c, r, 30, 2, [](nlohmann::json& u, int) { u.erase("email"); }, true, 500); },
    Expected{"field_removed", Severity::major, "/users/{id}"}});

  // 2. Status-family rates, fair to the sample sizes.
  auto health = [](Session& s, int n, int errors) {
    for (int i = 0; i < n; ++i) s.add("/health", i < errors ? 503 : 200, {{"ok", i >= errors}});
  };
  out.push_back({"2", "5xx 5 % vs 6 % over 100 + 100", [=](Session& b, Session& c) { health(b, 100, 5); health(c, 100, 6); },
                 std::nullopt});
  out.push_back({"2", "5xx 10 % vs 5 % over 20 + 20 (noise at small n)", [=](Session& b, Session& c) { health(b, 20, 2); health(c, 20, 1); },
                 std::nullopt});
  out.push_back({"2", "5xx doubled 5 % -> 10 % over 100 + 100", [=](Session& b, Session& c) { health(b, 100, 5); health(c, 100, 10); },
                 Expected{"status_distribution_changed", Severity::major, "/health"}});
  out.push_back({"2", "5xx 2 % -> 6 % over 1000 + 1000", [=](Session& b, Session& c) { health(b, 1000, 20); health(c, 1000, 60); },
                 Expected{"status_distribution_changed", Severity::major, "/health"}});

  // 3. Coarser timestamps; integer -> fractional numbers.
  out.push_back({"3", "timestamps, new values same format", [=](Session& b, Session& c) {
    Rng r(301); users(b, r, 20, 1, same); users(c, r, 20, 9, same, false, 100); }, std::nullopt});
  out.push_back({"3", "timestamps lose T and zone", [=](Session& b, Session& c) {
    Rng r(302); users(b, r, 20, 1, same);
    users(c, r, 20, 9, [](nlohmann::json& u, int) { auto t = u["created_at"].get<std::string>(); t[10] = ' '; t.pop_back(); u["created_at"] = t; }, false, 100); },
    Expected{"format_changed", Severity::major, "/users/{id}"}});
  out.push_back({"3", "timestamps become dates", [=](Session& b, Session& c) {
    Rng r(303); users(b, r, 20, 1, same);
    users(c, r, 20, 9, [](nlohmann::json& u, int) { u["created_at"] = u["created_at"].get<std::string>().substr(0, 10); }, false, 100); },
    Expected{"format_changed", Severity::major, "/users/{id}"}});
  out.push_back({"3", "a price that is sometimes whole, 3 whole baseline samples", [=](Session& b, Session& c) {
    for (int i = 0; i < 3; ++i) b.add("/prices/" + std::to_string(i + 1), 200, {{"price", 10 + i}});
    for (int i = 0; i < 12; ++i) c.add("/prices/" + std::to_string(i + 1), 200, {{"price", i % 2 ? nlohmann::json(10.5 + i) : nlohmann::json(10 + i)}}); },
    std::nullopt});
  out.push_back({"3", "integer -> fractional", [=](Session& b, Session& c) {
    for (int i = 0; i < 20; ++i) b.add("/prices/" + std::to_string(i + 1), 200, {{"price", 10 + i}});
    for (int i = 0; i < 20; ++i) c.add("/prices/" + std::to_string(i + 1), 200, {{"price", 10.25 + i}}); },
    Expected{"type_changed", Severity::major, "/prices/{id}"}});

  // 4. Past the old limits (512 fields, 8 levels).
  auto wide = [](Session& s, int n, bool drop) {
    for (int i = 0; i < n; ++i) {
      nlohmann::json body = nlohmann::json::object();
      for (int f = 0; f < 600; ++f) body["attr_" + std::to_string(f)] = f + i;
      nlohmann::json deep = {{"value", i}, {"unit", "ms"}};
      if (drop) { body.erase("attr_580"); deep.erase("unit"); }
      for (int level = 0; level < 10; ++level) deep = {{"inner", deep}};
      body["metrics"] = deep;
      s.add("/config/" + std::to_string(i + 1), 200, body);
    }
  };
  out.push_back({"4", "600 fields and 11 levels, same shape", [=](Session& b, Session& c) { wide(b, 5, false); wide(c, 5, false); }, std::nullopt});
  out.push_back({"4", "field 580 and a leaf 11 levels deep removed", [=](Session& b, Session& c) { wide(b, 5, false); wide(c, 5, true); },
                 Expected{"field_removed", Severity::major, "/config/{id}"}});

  // 5. Cardinality fair to sample sizes.
  auto orders = [](Session& s, Rng& r, int n, int categories) {
    for (int i = 0; i < n; ++i)
      s.add("/orders/" + std::to_string(1000 + i), 200,
            {{"id", 1000 + i}, {"category", "cat-" + std::to_string(r.below(categories))}, {"total", r.below(10000)}});
  };
  out.push_back({"5", "15-value enum over 20 vs 200 calls", [=](Session& b, Session& c) { Rng r(501); orders(b, r, 20, 15); orders(c, r, 200, 15); },
                 std::nullopt});
  out.push_back({"5", "15-value enum over 200 vs 20 calls", [=](Session& b, Session& c) { Rng r(502); orders(b, r, 200, 15); orders(c, r, 20, 15); },
                 std::nullopt});
  out.push_back({"5", "same 10 ids fetched 10 times vs 100 ids once", [=](Session& b, Session& c) {
    Rng r(503);
    for (int i = 0; i < 100; ++i) { int id = 1 + i % 10; b.add("/accounts/" + std::to_string(id), 200, {{"id", id}, {"owner", "o" + std::to_string(id)}, {"plan", "pro"}}); }
    for (int i = 0; i < 100; ++i) { int id = 1 + i; c.add("/accounts/" + std::to_string(id), 200, {{"id", id}, {"owner", "o" + std::to_string(id)}, {"plan", "pro"}}); } },
    std::nullopt});
  out.push_back({"5", "a burst of timestamps (all in one second) vs spread", [=](Session& b, Session& c) {
    Rng r(504);
    for (int i = 0; i < 30; ++i) b.add("/events/" + std::to_string(i), 200, {{"id", i}, {"at", r.timestamp(i)}});
    for (int i = 0; i < 30; ++i) c.add("/events/" + std::to_string(i + 100), 200, {{"id", i + 100}, {"at", "2026-06-20T10:00:00Z"}}); },
    std::nullopt});
  out.push_back({"5", "a token that stopped varying", [=](Session& b, Session& c) {
    Rng r(505);
    for (int i = 0; i < 40; ++i) b.add("/sessions/" + std::to_string(i), 200, {{"id", i}, {"token", r.hex(24)}});
    for (int i = 0; i < 40; ++i) c.add("/sessions/" + std::to_string(i + 100), 200, {{"id", i + 100}, {"token", "0000"}}); },
    Expected{"cardinality_changed", Severity::major, "/sessions/{id}"}});

  // 6. Route templating learned from traffic.
  auto catalogue = [](Session& s, Rng& r, int n, bool with_reviews) {
    static const char* words[] = {"red", "blue", "green", "shirt", "hat", "sock", "large", "slim", "wool", "linen"};
    for (int i = 0; i < n; ++i) {
      std::string slug = std::string(words[r.below(10)]) + "-" + words[r.below(10)] + "-" + words[r.below(10)];
      s.add("/products/" + slug, 200, {{"slug", slug}, {"price", r.below(100)}});
      std::string sku = "SKU-" + std::to_string(10000 + r.below(90000));
      s.add("/skus/" + sku, 200, {{"sku", sku}, {"stock", r.below(50)}});
      std::string day = "2026-06-" + std::to_string(10 + r.below(18));
      s.add("/reports/" + day, 200, {{"day", day}, {"total", r.below(1000)}});
      s.add("/users/u" + std::to_string(i) + "@example.com/prefs", 200, {{"theme", "dark"}});
      s.add("/blobs/" + r.hex(7), 200, {{"size", r.below(1000)}});
      s.add("/items/-1", 200, {{"placeholder", true}});
      if (with_reviews) s.add("/products/" + slug + "/reviews", 200, {{"count", r.below(9)}});
    }
  };
  out.push_back({"6", "slugs, SKUs, dates, emails, short hex, -1: new concrete paths", [=](Session& b, Session& c) {
    Rng r(601); catalogue(b, r, 12, true); catalogue(c, r, 12, true); }, std::nullopt});
  out.push_back({"6", "a templated route disappears", [=](Session& b, Session& c) {
    Rng r(602); catalogue(b, r, 12, true); catalogue(c, r, 12, false); },
    Expected{"route_removed", Severity::major, "/products/{id}/reviews"}});

  // 7. Optional fields.
  auto profiles = [](Session& s, int n, int first, const std::function<bool(int)>& has_bio) {
    for (int i = 0; i < n; ++i) {
      nlohmann::json body = {{"id", first + i}, {"name", "p" + std::to_string(i)}};
      if (has_bio(i)) body["bio"] = "text " + std::to_string(i);
      s.add("/profiles/" + std::to_string(first + i), 200, body);
    }
  };
  out.push_back({"7", "optional field (half the baseline) absent from 3 current samples", [=](Session& b, Session& c) {
    profiles(b, 24, 1, [](int i) { return i % 2 == 0; }); profiles(c, 3, 100, [](int) { return false; }); }, std::nullopt});
  out.push_back({"7", "optional field present in 9 of 12 current samples", [=](Session& b, Session& c) {
    profiles(b, 24, 1, [](int i) { return i % 2 == 0; }); profiles(c, 12, 100, [](int i) { return i % 4 != 0; }); }, std::nullopt});
  out.push_back({"7", "a new optional field seen once in 12, baseline of 3", [=](Session& b, Session& c) {
    profiles(b, 3, 1, [](int) { return false; }); profiles(c, 12, 100, [](int i) { return i == 5; }); }, std::nullopt});
  out.push_back({"7", "a required field gone from 12 current samples", [=](Session& b, Session& c) {
    profiles(b, 24, 1, [](int) { return true; }); profiles(c, 12, 100, [](int) { return false; }); },
    Expected{"field_removed", Severity::major, "/profiles/{id}"}});

  // 8. Mixed types.
  auto refs = [](Session& s, int n, int first, int strings_per_10) {
    for (int i = 0; i < n; ++i) {
      nlohmann::json ref = (i % 10) < strings_per_10 ? nlohmann::json("R-" + std::to_string(i)) : nlohmann::json(i);
      s.add("/payments/" + std::to_string(first + i), 200, {{"id", first + i}, {"ref", ref}});
    }
  };
  out.push_back({"8", "half integer, half string; ratio shifts 4:6 -> 6:4", [=](Session& b, Session& c) { refs(b, 30, 1, 4); refs(c, 30, 100, 6); },
                 std::nullopt});
  out.push_back({"8", "integer -> string", [=](Session& b, Session& c) { refs(b, 30, 1, 0); refs(c, 30, 100, 10); },
                 Expected{"type_changed", Severity::major, "/payments/{id}"}});
  return out;
}

} // namespace gostly::drift::corpus
