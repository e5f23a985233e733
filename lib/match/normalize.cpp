// The normalized tier's comparison (normalize.hpp).
//
// What varies per run is decided by form, with the toolkit's one notion of string format
// (util/string_format): a recorded uuid answers any uuid, a recorded timestamp any timestamp.
// Everything else must be equal, so the tier never answers a request that differs in data
// (`amount: 12` against a recorded 10): that falls through to the resource and swap tiers and
// then to a miss that names the difference. Bodies and parts are bounded (kMaxNormalizedBody,
// kMaxMultipartParts) and JSON is parsed with the toolkit's depth limit, so a hostile request
// costs at most one bounded parse per exact miss.
#include "match/normalize.hpp"

#include "match/request_key.hpp"
#include "match/smart_swap.hpp"
#include "util/encoding.hpp"
#include "util/limits.hpp"
#include "util/string_format.hpp"

#include <algorithm>
#include <array>
#include <charconv>
#include <map>

namespace gostly::match {
namespace {

using Json = nlohmann::json;

// The value of parameter `name` in a header such as `multipart/form-data; boundary="x"`.
std::string header_parameter(std::string_view header, std::string_view name) {
  std::size_t pos = header.find(';');
  while (pos != std::string_view::npos) {
    ++pos;
    while (pos < header.size() && (header[pos] == ' ' || header[pos] == '\t')) ++pos;
    auto eq = header.find('=', pos);
    if (eq == std::string_view::npos) return {};
    auto key = header.substr(pos, eq - pos);
    while (!key.empty() && (key.back() == ' ' || key.back() == '\t')) key.remove_suffix(1);
    std::size_t start = eq + 1;
    std::string value;
    std::size_t end;
    if (start < header.size() && header[start] == '"') {
      end = start + 1;
      while (end < header.size() && header[end] != '"') {
        if (header[end] == '\\' && end + 1 < header.size()) ++end;
        value += header[end++];
      }
      end = header.find(';', end);
    } else {
      end = header.find(';', start);
      value = std::string(header.substr(start, end == std::string_view::npos ? std::string_view::npos : end - start));
      while (!value.empty() && (value.back() == ' ' || value.back() == '\t')) value.pop_back();
    }
    if (util::iequals(key, name)) return value;
    pos = end;
  }
  return {};
}

bool media_type_is(std::string_view content_type, std::string_view type) {
  auto semi = content_type.find(';');
  auto media = content_type.substr(0, semi);
  while (!media.empty() && (media.back() == ' ' || media.back() == '\t')) media.remove_suffix(1);
  while (!media.empty() && (media.front() == ' ' || media.front() == '\t')) media.remove_prefix(1);
  return util::iequals(media, type);
}

std::string shown(std::string_view value) {
  constexpr std::size_t kShown = 40;
  std::string out(value.substr(0, kShown));
  if (value.size() > kShown) out += "...";
  return out;
}

std::string shown_json(const Json& value) {
  return shown(std::string_view(value.dump(-1, ' ', false, Json::error_handler_t::replace)));
}

class Comparer {
public:
  Comparer(const Normalized& recorded, const Normalized& wanted) : recorded_(recorded), wanted_(wanted) {}

  Distance result;

  void hard(std::string reason) {
    if (result.hard++ == 0) result.reason = std::move(reason);
  }

  // Two scalar texts: equal, or of the same per-run format (soft), or different (hard).
  bool same_text(std::string_view recorded, std::string_view wanted) {
    if (recorded == wanted) return true;
    auto format = volatile_format(recorded, recorded_.around);
    if (format != Volatile::none && format == volatile_format(wanted, wanted_.around)) {
      ++result.soft;
      return true;
    }
    return false;
  }

  // Parameters or form fields, both sorted by name. `what` is "query" or "body field".
  void pairs(const Pairs& recorded, const Pairs& wanted, std::string_view what, const std::vector<std::string>* ignored) {
    std::size_t i = 0, j = 0;
    while (i < recorded.size() || j < wanted.size()) {
      const std::string& name = i < recorded.size() && (j >= wanted.size() || recorded[i].first <= wanted[j].first)
                                    ? recorded[i].first : wanted[j].first;
      std::size_t i_end = i, j_end = j;
      while (i_end < recorded.size() && recorded[i_end].first == name) ++i_end;
      while (j_end < wanted.size() && wanted[j_end].first == name) ++j_end;
      bool skip = ignored && (std::binary_search(ignored->begin(), ignored->end(), name) || is_cache_buster_name(name));
      if (skip) {
        bool same = i_end - i == j_end - j && std::equal(recorded.begin() + static_cast<std::ptrdiff_t>(i),
                                                         recorded.begin() + static_cast<std::ptrdiff_t>(i_end),
                                                         wanted.begin() + static_cast<std::ptrdiff_t>(j));
        if (!same) ++result.soft;
      } else if (i_end - i == j_end - j) {
        for (std::size_t k = 0; k < i_end - i; ++k)
          if (!same_text(recorded[i + k].second, wanted[j + k].second))
            hard(std::string(what) + " `" + name + "` differs: " + shown(wanted[j + k].second) + " vs recorded " +
                 shown(recorded[i + k].second));
      } else if (i_end == i && all_volatile(wanted, j, j_end, wanted_.around)) {
        ++result.soft; // a fresh per-run value the recording did not send (`_=1732...`)
      } else if (j_end == j && all_volatile(recorded, i, i_end, recorded_.around)) {
        ++result.soft;
      } else if (i_end == i) {
        hard(std::string(what) + " `" + name + "` was not recorded");
      } else if (j_end == j) {
        hard(std::string(what) + " `" + name + "` is missing (recorded " + shown(recorded[i].second) + ")");
      } else {
        hard(std::string(what) + " `" + name + "` is sent " + std::to_string(j_end - j) + " times, recorded " +
             std::to_string(i_end - i));
      }
      i = i_end;
      j = j_end;
    }
  }

  void json(const Json& recorded, const Json& wanted, const std::string& path) {
    auto field = [&] { return path.empty() ? std::string("body") : "body field `" + path + "`"; };
    if (recorded.is_object() && wanted.is_object()) {
      for (const auto& [key, value] : recorded.items()) {
        auto child = path.empty() ? key : path + "." + key;
        auto it = wanted.find(key);
        if (it == wanted.end()) {
          if (volatile_json_format(value, recorded_.around) != Volatile::none) ++result.soft;
          else hard("body field `" + child + "` is missing (recorded " + shown_json(value) + ")");
        } else {
          json(value, *it, child);
        }
      }
      for (const auto& [key, value] : wanted.items()) {
        if (recorded.contains(key)) continue;
        auto child = path.empty() ? key : path + "." + key;
        if (volatile_json_format(value, wanted_.around) != Volatile::none) ++result.soft;
        else hard("body field `" + child + "` was not recorded");
      }
      return;
    }
    if (recorded.is_array() && wanted.is_array()) {
      if (recorded.size() != wanted.size()) {
        hard(field() + " has " + std::to_string(wanted.size()) + " items, recorded " + std::to_string(recorded.size()));
        return;
      }
      for (std::size_t k = 0; k < recorded.size(); ++k) json(recorded[k], wanted[k], path + "[" + std::to_string(k) + "]");
      return;
    }
    if (recorded == wanted) return;
    auto format = volatile_json_format(recorded, recorded_.around);
    if (format != Volatile::none && format == volatile_json_format(wanted, wanted_.around)) {
      ++result.soft;
      return;
    }
    hard(field() + " differs: " + shown_json(wanted) + " vs recorded " + shown_json(recorded));
  }

  void multipart(const std::vector<Part>& recorded, const std::vector<Part>& wanted) {
    if (recorded.size() != wanted.size()) {
      hard("multipart body has " + std::to_string(wanted.size()) + " parts, recorded " + std::to_string(recorded.size()));
      return;
    }
    for (std::size_t k = 0; k < recorded.size(); ++k) {
      const auto& r = recorded[k];
      const auto& w = wanted[k];
      auto part = "multipart part " + std::to_string(k + 1) + " `" + shown(r.name) + "`";
      if (r.name != w.name) hard("multipart part " + std::to_string(k + 1) + " name differs: " + shown(w.name) + " vs recorded " + shown(r.name));
      else if (r.has_filename != w.has_filename || r.filename != w.filename)
        hard(part + " filename differs: " + shown(w.filename) + " vs recorded " + shown(r.filename));
      else if (!util::iequals(r.content_type, w.content_type))
        hard(part + " content type differs: " + shown(w.content_type) + " vs recorded " + shown(r.content_type));
      else if (r.has_filename ? r.content != w.content : !same_text(r.content, w.content))
        hard(part + " content differs (" + std::to_string(w.content.size()) + " bytes, recorded " +
             std::to_string(r.content.size()) + ")");
    }
  }

private:
  bool all_volatile(const Pairs& pairs, std::size_t from, std::size_t to, std::int64_t around) const {
    for (auto k = from; k < to; ++k)
      if (volatile_format(pairs[k].second, around) == Volatile::none) return false;
    return true;
  }

  const Normalized& recorded_;
  const Normalized& wanted_;
};

std::string_view body_name(Normalized::Body body) noexcept {
  switch (body) {
  case Normalized::Body::none: return "no body";
  case Normalized::Body::json: return "JSON";
  case Normalized::Body::form: return "form data";
  case Normalized::Body::multipart: return "multipart";
  case Normalized::Body::bytes: break;
  }
  return "other bytes";
}

constexpr std::array<std::string_view, 14> kCacheBusterNames = {
    "_", "cb", "_cb", "cachebuster", "cache_buster", "cache-buster", "cachebust", "nocache", "_nocache",
    "bust", "_t", "_ts", "rnd", "_rnd"};

std::string_view format_name(Volatile format) noexcept {
  static constexpr std::string_view names[] = {"", "uuid", "timestamp", "epoch_seconds", "epoch_millis", "nonce"};
  return names[static_cast<std::size_t>(format)];
}

// `value` with every volatile scalar replaced by the name of its format.
Json masked(const Json& value, std::int64_t around) {
  if (value.is_object()) {
    Json out = Json::object();
    for (const auto& [key, child] : value.items()) out[key] = masked(child, around);
    return out;
  }
  if (value.is_array()) {
    Json out = Json::array();
    for (const auto& child : value) out.push_back(masked(child, around));
    return out;
  }
  auto format = volatile_json_format(value, around);
  return format == Volatile::none ? value : Json(std::string("\x01") + std::string(format_name(format)));
}

void append_pairs(std::string& out, const Pairs& pairs, std::int64_t around, const std::vector<std::string>* ignored) {
  for (const auto& [name, value] : pairs) {
    if (ignored && std::binary_search(ignored->begin(), ignored->end(), name)) continue;
    auto format = volatile_format(value, around);
    out.append(name).append("=").append(format == Volatile::none ? std::string_view(value) : format_name(format));
    out += '\0';
  }
}

} // namespace

Volatile volatile_format(std::string_view text, std::int64_t around) noexcept {
  if (text.size() < 10) return Volatile::none; // shorter than any per-run format
  if (util::looks_uuid(text)) return Volatile::uuid;
  auto format = util::classify_string(text);
  if (format == util::StringFormat::iso_datetime || format == util::StringFormat::datetime_local)
    return Volatile::timestamp;
  if (text.size() == 10 || text.size() == 13) {
    std::int64_t value = 0;
    auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
    if (ec == std::errc{} && end == text.data() + text.size()) {
      switch (util::epoch_near(value, around, kEpochWindowSeconds)) {
      case util::EpochUnit::seconds: return Volatile::epoch_seconds;
      case util::EpochUnit::millis: return Volatile::epoch_millis;
      case util::EpochUnit::none: return Volatile::none;
      }
    }
  }
  return util::looks_nonce(text) ? Volatile::nonce : Volatile::none;
}

Volatile volatile_json_format(const nlohmann::json& value, std::int64_t around) noexcept {
  if (value.is_string()) return volatile_format(std::string_view(value.get_ref<const std::string&>()), around);
  std::int64_t number = 0;
  if (value.is_number_integer()) number = value.get<std::int64_t>();
  else return Volatile::none;
  switch (util::epoch_near(number, around, kEpochWindowSeconds)) {
  case util::EpochUnit::seconds: return Volatile::epoch_seconds;
  case util::EpochUnit::millis: return Volatile::epoch_millis;
  case util::EpochUnit::none: break;
  }
  return Volatile::none;
}

Pairs parse_pairs(std::string_view text) {
  Pairs pairs;
  std::size_t pos = 0;
  while (pos <= text.size()) {
    auto amp = text.find('&', pos);
    auto item = text.substr(pos, amp == std::string_view::npos ? std::string_view::npos : amp - pos);
    if (!item.empty()) {
      auto eq = item.find('=');
      pairs.emplace_back(util::percent_decode(item.substr(0, eq), true),
                         eq == std::string_view::npos ? std::string() : util::percent_decode(item.substr(eq + 1), true));
    }
    if (amp == std::string_view::npos) break;
    pos = amp + 1;
  }
  std::stable_sort(pairs.begin(), pairs.end(), [](const auto& a, const auto& b) { return a.first < b.first; });
  return pairs;
}

bool is_cache_buster_name(std::string_view name) noexcept {
  return std::any_of(kCacheBusterNames.begin(), kCacheBusterNames.end(),
                     [&](std::string_view known) { return util::iequals(known, name); });
}

bool parse_multipart(std::string_view body, std::string_view boundary, std::vector<Part>& parts) {
  if (boundary.empty()) return false;
  std::string delimiter = "--" + std::string(boundary);
  auto pos = body.find(delimiter);
  if (pos == std::string_view::npos || (pos != 0 && (pos < 2 || body.substr(pos - 2, 2) != "\r\n"))) return false;
  pos += delimiter.size();
  std::string next = "\r\n" + delimiter;
  while (true) {
    if (body.substr(pos, 2) == "--") return true; // the closing delimiter
    auto line_end = body.find("\r\n", pos);
    if (line_end == std::string_view::npos) return false;
    auto head_end = body.find("\r\n\r\n", line_end);
    if (head_end == std::string_view::npos) return false;
    auto end = body.find(next, head_end + 4);
    if (end == std::string_view::npos || parts.size() >= kMaxMultipartParts) return false;
    Part part;
    auto headers = body.substr(line_end + 2, head_end + 2 - (line_end + 2));
    std::size_t h = 0;
    while (h < headers.size()) {
      auto eol = headers.find("\r\n", h);
      auto line = headers.substr(h, eol - h);
      h = eol == std::string_view::npos ? headers.size() : eol + 2;
      auto colon = line.find(':');
      if (colon == std::string_view::npos) continue;
      auto name = line.substr(0, colon);
      auto value = line.substr(colon + 1);
      while (!value.empty() && (value.front() == ' ' || value.front() == '\t')) value.remove_prefix(1);
      if (util::iequals(name, "Content-Disposition")) {
        part.name = header_parameter(value, "name");
        part.filename = header_parameter(value, "filename");
        part.has_filename = value.find("filename") != std::string_view::npos;
      } else if (util::iequals(name, "Content-Type")) {
        part.content_type = std::string(value);
      }
    }
    part.content = std::string(body.substr(head_end + 4, end - (head_end + 4)));
    parts.push_back(std::move(part));
    pos = end + next.size();
  }
}

Normalized normalize(const record::Request& request, std::string_view uri, std::int64_t around) {
  Normalized n;
  n.around = around;
  n.query = parse_pairs(record::uri_query(uri));
  std::string_view body = request.body;
  if (body.empty()) return n;
  n.body = Normalized::Body::bytes;
  if (body.size() > kMaxNormalizedBody) {
    n.bytes = util::sha256_hex(body);
    return n;
  }
  const auto* content_type = record::find_header(request.headers, "Content-Type");
  std::string_view type = content_type ? std::string_view(*content_type) : std::string_view();
  if (looks_like_json(body)) {
    try {
      n.json = util::parse_json(body);
      n.body = Normalized::Body::json;
      return n;
    } catch (const std::exception&) { // not JSON after all, or nested past the limit: bytes
    }
  } else if (media_type_is(type, "application/x-www-form-urlencoded")) {
    n.form = parse_pairs(body);
    n.body = Normalized::Body::form;
    return n;
  } else if (type.size() >= 10 && util::iequals(type.substr(0, 10), "multipart/")) {
    if (parse_multipart(body, header_parameter(type, "boundary"), n.parts)) {
      n.body = Normalized::Body::multipart;
      return n;
    }
    n.parts.clear();
  }
  n.bytes = canonical_body(body);
  return n;
}

Distance distance(const Normalized& recorded, const Normalized& wanted, const std::vector<std::string>& ignored) {
  Comparer compare(recorded, wanted);
  compare.pairs(recorded.query, wanted.query, "query", &ignored);
  if (recorded.body != wanted.body) {
    compare.hard("body is " + std::string(body_name(wanted.body)) + ", recorded " + std::string(body_name(recorded.body)));
    return std::move(compare.result);
  }
  switch (recorded.body) {
  case Normalized::Body::none: break;
  case Normalized::Body::json: compare.json(recorded.json, wanted.json, ""); break;
  case Normalized::Body::form: compare.pairs(recorded.form, wanted.form, "body field", nullptr); break;
  case Normalized::Body::multipart: compare.multipart(recorded.parts, wanted.parts); break;
  case Normalized::Body::bytes:
    if (recorded.bytes != wanted.bytes) compare.hard("body differs");
    break;
  }
  return std::move(compare.result);
}

std::vector<std::string> ignored_parameters(const std::vector<const Normalized*>& recordings) {
  struct Seen {
    std::vector<std::string_view> values;
    bool ignore = false;
  };
  std::map<std::string_view, Seen> seen;
  for (const auto* recording : recordings)
    for (const auto& [name, value] : recording->query) {
      auto& s = seen[name];
      s.values.push_back(value);
      if (is_cache_buster_name(name) || volatile_format(value, recording->around) != Volatile::none) s.ignore = true;
    }
  std::vector<std::string> ignored;
  for (auto& [name, s] : seen) {
    if (!s.ignore && s.values.size() >= 2) {
      bool tokens = std::all_of(s.values.begin(), s.values.end(), [](std::string_view v) {
        return v.size() >= 6 && std::any_of(v.begin(), v.end(), [](char c) { return c >= '0' && c <= '9'; });
      });
      std::sort(s.values.begin(), s.values.end());
      s.ignore = tokens && std::adjacent_find(s.values.begin(), s.values.end()) == s.values.end();
    }
    if (s.ignore) ignored.emplace_back(name);
  }
  return ignored; // std::map iterates in order: sorted
}

std::string signature(const Normalized& recording, const std::vector<std::string>& ignored) {
  std::string out;
  append_pairs(out, recording.query, recording.around, &ignored);
  out += '\x02';
  out += static_cast<char>('0' + static_cast<int>(recording.body));
  switch (recording.body) {
  case Normalized::Body::none: break;
  case Normalized::Body::json:
    out += masked(recording.json, recording.around).dump(-1, ' ', false, Json::error_handler_t::replace);
    break;
  case Normalized::Body::form: append_pairs(out, recording.form, recording.around, nullptr); break;
  case Normalized::Body::multipart:
    for (const auto& part : recording.parts) {
      out.append(part.name).append("\x03").append(part.has_filename ? part.filename : "\x04").append("\x03");
      out.append(util::to_lower(part.content_type)).append("\x03");
      auto format = part.has_filename ? Volatile::none : volatile_format(part.content, recording.around);
      out.append(format == Volatile::none ? util::sha256_hex(part.content) : std::string(format_name(format)));
      out += '\0';
    }
    break;
  case Normalized::Body::bytes: out += recording.bytes; break;
  }
  return out;
}

} // namespace gostly::match
