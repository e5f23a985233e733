#include "transition/verify.hpp"

#include "match/matcher.hpp"
#include "util/encoding.hpp"
#include "util/limits.hpp"
#include "util/string_format.hpp"

#include <nlohmann/json.hpp>

#include <cctype>
#include <functional>
#include <unordered_map>

namespace gostly::transition {

namespace {

using Json = nlohmann::json;

bool all_digits(std::string_view s) noexcept {
  if (s.empty()) return false;
  for (char c : s)
    if (c < '0' || c > '9') return false;
  return true;
}

// Epoch seconds (10 digits, 2001..2096) or milliseconds (13 digits).
bool is_epoch(std::string_view s) noexcept {
  return all_digits(s) && (s.size() == 10 || s.size() == 13) && s[0] >= '1' && s[0] <= '3';
}

// The per-run formats of util/string_format (the normalized tier's notion): uuids, date-times, epoch times.
bool volatile_text(std::string_view s) noexcept {
  if (is_epoch(s) || util::looks_uuid(s)) return true;
  auto format = util::classify_string(s);
  return format == util::StringFormat::iso_datetime || format == util::StringFormat::datetime_local;
}

bool volatile_number(const Json& value) noexcept {
  if (!value.is_number_integer()) return false;
  auto n = value.get<std::int64_t>();
  return (n >= 1'000'000'000 && n < 4'000'000'000) || (n >= 1'000'000'000'000 && n < 4'000'000'000'000);
}

// Another value of the same format: the last digit (hex digit for a uuid) moves on by one.
std::string freshen(std::string value) {
  for (auto it = value.rbegin(); it != value.rend(); ++it) {
    char& c = *it;
    if (c >= '0' && c <= '9') {
      c = c == '9' ? '0' : static_cast<char>(c + 1);
      return value;
    }
    if ((c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F')) {
      c = c == 'f' ? 'a' : c == 'F' ? 'A' : static_cast<char>(c + 1);
      return value;
    }
  }
  return value;
}

// `a=1&_cb=1732881234`: each value of a volatile format freshened; `where` names the source.
std::string freshen_pairs(std::string_view text, const char* where, std::vector<std::string>& changed) {
  std::string out;
  out.reserve(text.size());
  while (true) {
    auto amp = text.find('&');
    std::string_view pair = text.substr(0, amp);
    auto eq = pair.find('=');
    if (eq != std::string_view::npos && volatile_text(pair.substr(eq + 1))) {
      out.append(pair.substr(0, eq + 1));
      out.append(freshen(std::string(pair.substr(eq + 1))));
      changed.push_back(std::string(where) + " " + std::string(pair.substr(0, eq)));
    } else {
      out.append(pair);
    }
    if (amp == std::string_view::npos) break;
    out.push_back('&');
    text.remove_prefix(amp + 1);
  }
  return out;
}

void freshen_json(Json& value, const std::string& path, std::vector<std::string>& changed) {
  if (value.is_object()) {
    for (auto& [key, item] : value.items()) freshen_json(item, path + "." + key, changed);
  } else if (value.is_array()) {
    for (std::size_t i = 0; i < value.size(); ++i) freshen_json(value[i], path + "[" + std::to_string(i) + "]", changed);
  } else if (value.is_string() && volatile_text(value.get_ref<const std::string&>())) {
    value = freshen(value.get<std::string>());
    changed.push_back("body " + path);
  } else if (volatile_number(value)) {
    value = value.get<std::int64_t>() + 1;
    changed.push_back("body " + path);
  }
}

bool same_response(const record::Response& a, const record::Response& b) noexcept {
  return a.status == b.status && a.body == b.body && a.headers == b.headers;
}

std::uint64_t digest(const record::Response& response) {
  std::hash<std::string_view> h;
  std::uint64_t d = static_cast<std::uint64_t>(response.status) * 0x9E3779B97F4A7C15ull;
  auto mix = [&](std::string_view text) { d = (d ^ h(text)) * 0x100000001B3ull + text.size(); };
  for (const auto& [name, value] : response.headers) {
    mix(name);
    mix(value);
  }
  mix(response.body);
  return d;
}

std::string miss_reason(const record::Response& response) {
  try {
    auto body = util::parse_json(response.body);
    if (body.is_object() && body.contains("reason") && body["reason"].is_string()) return body["reason"].get<std::string>();
  } catch (const std::exception&) {
  }
  return "no mock matched";
}

} // namespace

std::string_view kind_name(VerifyFinding::Kind kind) noexcept {
  switch (kind) {
  case VerifyFinding::Kind::shadowed: return "shadowed";
  case VerifyFinding::Kind::rewritten: return "rewritten";
  case VerifyFinding::Kind::missed: return "missed";
  case VerifyFinding::Kind::per_run_value: return "per-run value";
  }
  return "missed";
}

record::Request rerun_request(const record::Request& request, std::vector<std::string>& changed) {
  record::Request out = request;
  auto q = out.uri.find('?');
  if (q != std::string::npos) {
    auto query = freshen_pairs(std::string_view(out.uri).substr(q + 1), "query", changed);
    out.uri.resize(q + 1);
    out.uri += query;
  }
  if (out.body.empty()) return out;
  const std::string* type = record::find_header(out.headers, "content-type");
  std::string content_type = type ? util::to_lower(*type) : std::string();
  if (content_type.find("application/x-www-form-urlencoded") != std::string::npos) {
    out.body = freshen_pairs(out.body, "form", changed);
  } else if (content_type.find("json") != std::string::npos || out.body.front() == '{' || out.body.front() == '[') {
    try {
      Json body = util::parse_json(out.body);
      std::size_t before = changed.size();
      freshen_json(body, "$", changed);
      if (changed.size() != before) out.body = body.dump();
    } catch (const std::exception&) {
      // Not JSON after all: left as it is.
    }
  }
  return out;
}

struct Verifier::Impl {
  struct Service {
    match::ServiceMatcher matcher;
    // response digest -> the first such recording's id and session
    std::unordered_map<std::uint64_t, std::pair<std::string, std::string>> ids;
    std::string session;                                // of the last interaction checked
  };
  store::LibraryDb& db;
  std::unordered_map<std::string, std::unique_ptr<Service>> services;
  VerifyResult result;

  explicit Impl(store::LibraryDb& database) : db(database) {}

  Service& service(const std::string& id) {
    auto& slot = services[id];
    if (!slot) {
      slot = std::make_unique<Service>();
      auto library = db.load_library(id);
      for (const auto& recording : library)
        slot->ids.try_emplace(digest(recording.response), recording.id, recording.session_id);
      slot->matcher.load_library(std::move(library));
    }
    return *slot;
  }

  void add(VerifyFinding finding) {
    ++result.problems;
    if (result.findings.size() < VerifyResult::kMaxFindings) result.findings.push_back(std::move(finding));
  }
};

Verifier::Verifier(store::LibraryDb& db) : impl_(std::make_unique<Impl>(db)) {}
Verifier::~Verifier() = default;

const VerifyResult& Verifier::result() const noexcept { return impl_->result; }

void Verifier::check(const record::Interaction& incoming, const std::string& at) {
  auto& service = impl_->service(incoming.service_id);
  ++impl_->result.checked;
  // Each session replays as a fresh run: its repeated requests start from the first recording.
  if (incoming.session_id != service.session) {
    service.matcher.reset_cursors();
    service.session = incoming.session_id;
  }
  std::vector<std::string> changed;
  record::Request request = rerun_request(incoming.request, changed);
  match::Answer answer = service.matcher.match(request);

  VerifyFinding finding;
  finding.at = at;
  finding.service_id = incoming.service_id;
  finding.method = incoming.request.method;
  finding.uri = incoming.request.uri;
  finding.tier = std::string(match::header_value(answer.tier));
  if (answer.tier == match::Tier::miss) {
    std::string reason = miss_reason(*answer.response);
    if (!changed.empty()) {
      finding.kind = VerifyFinding::Kind::per_run_value;
      std::string where;
      for (const auto& c : changed) where += (where.empty() ? "" : ", ") + c;
      finding.detail = "carries a per-run value (" + where + "): a rerun sends a fresh one and misses (" + reason + ")";
    } else {
      finding.kind = VerifyFinding::Kind::missed;
      finding.detail = "misses: " + reason;
    }
    return impl_->add(std::move(finding));
  }
  if (same_response(*answer.response, incoming.response)) {
    ++impl_->result.as_recorded;
    return;
  }
  auto by = service.ids.find(digest(*answer.response));
  if (by != service.ids.end() && (answer.tier == match::Tier::exact || answer.tier == match::Tier::smart_swap ||
                                  answer.tier == match::Tier::session_verbatim)) {
    finding.kind = VerifyFinding::Kind::shadowed;
    finding.answered_by = by->second.first;
    finding.detail = "answered by recording " + by->second.first + " of session " + by->second.second + " (status " +
                     std::to_string(answer.response->status) + ", tier " + finding.tier + ") instead of its own (status " +
                     std::to_string(incoming.response.status) + ")";
  } else {
    finding.kind = VerifyFinding::Kind::rewritten;
    finding.detail = "answered by the " + finding.tier + " tier with another response (status " +
                     std::to_string(answer.response->status) + ", recorded " + std::to_string(incoming.response.status) + ")";
  }
  impl_->add(std::move(finding));
}

} // namespace gostly::transition
