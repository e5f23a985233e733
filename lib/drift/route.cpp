#include "drift/route.hpp"

#include "drift/fingerprint.hpp"
#include "match/smart_swap.hpp"

#include <algorithm>
#include <map>
#include <set>
#include <vector>


namespace gostly::drift {

// One definition of "identifier segment" for the whole toolkit: a route drift compares must be
// the route smart_swap answers, or drift would split what the mocks treat as one endpoint.
bool is_identifier_segment(std::string_view segment) noexcept { return match::is_id_segment(segment); }

namespace {
bool digit(char c) noexcept { return c >= '0' && c <= '9'; }
bool alpha(char c) noexcept { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'); }
bool hex_letter(char c) noexcept { return (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F'); }
} // namespace

bool is_data_segment(std::string_view s) noexcept { return is_data_segment(s, classify_string(s)); }

bool is_data_segment(std::string_view s, StringFormat format) noexcept {
  if (s.empty()) return false;
  if (s.size() >= 2 && s[0] == '-' && std::all_of(s.begin() + 1, s.end(), digit)) return true;
  if (format == StringFormat::date || format == StringFormat::email || format == StringFormat::iso_datetime ||
      format == StringFormat::datetime_local)
    return true;
  if (s.size() >= 6 && s.size() < 12 && std::all_of(s.begin(), s.end(), [](char c) { return digit(c) || hex_letter(c); }) &&
      std::any_of(s.begin(), s.end(), digit) && std::any_of(s.begin(), s.end(), hex_letter))
    return true;
  // SKU-like: letters, a separator, and a run of 3+ digits.
  bool letters = false, separator = false;
  std::size_t run = 0, best_run = 0;
  for (char c : s) {
    if (digit(c)) best_run = std::max(best_run, ++run);
    else {
      run = 0;
      if (alpha(c)) letters = true;
      else if (c == '-' || c == '_') separator = true;
      else return false;
    }
  }
  return letters && separator && best_run >= 3;
}

// GCC 12 reports a false -Wrestrict on std::string appends inlined at -O2 (GCC bug 105329).
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wrestrict"
std::string template_path(std::string_view uri) {
  auto end = uri.find_first_of("?#");
  std::string_view path = uri.substr(0, end);
  std::string out;
  out.reserve(path.size());
  std::size_t pos = 0;
  while (pos < path.size()) {
    if (path[pos] == '/') {
      out.push_back('/');
      ++pos;
      continue;
    }
    auto next = path.find('/', pos);
    if (next == std::string_view::npos) next = path.size();
    auto segment = path.substr(pos, next - pos);
    static constexpr std::string_view kId = "{id}";
    std::string_view piece = is_identifier_segment(segment) || is_data_segment(segment) ? kId : segment;
    out.append(piece.data(), piece.size());
    pos = next;
  }
  if (out.empty()) out = "/";
  return out;
}
#pragma GCC diagnostic pop

namespace {

std::vector<std::string> split(const std::string& path) {
  std::vector<std::string> out;
  std::size_t pos = 1;
  while (pos <= path.size()) {
    auto slash = path.find('/', pos);
    if (slash == std::string::npos) slash = path.size();
    out.push_back(path.substr(pos, slash - pos));
    pos = slash + 1;
  }
  return out;
}

std::string join(const std::vector<std::string>& segments) {
  std::string out;
  for (const auto& s : segments) out += "/" + s;
  return out.empty() ? "/" : out;
}

} // namespace

std::map<std::string, std::string> learn_templates(const std::map<std::string, unsigned>& routes) {
  // Every route as segments, with the sessions it was seen in (bit 1, 2).
  struct Path {
    std::vector<std::string> segments;
    unsigned sessions = 0;
  };
  std::map<std::string, Path> paths;
  for (const auto& [route, sessions] : routes) paths[route] = Path{split(route), sessions};
  std::map<std::string, std::string> renamed;
  if (paths.size() < kLearnMinValues) return renamed;
  std::size_t depth = 0;
  for (const auto& [_, p] : paths) depth = std::max(depth, p.segments.size());
  bool changed = false;
  for (std::size_t d = 0; d < depth; ++d) {
    // Sibling values at position d, per prefix (the segments before d, as already templated).
    std::map<std::string, std::map<std::string, unsigned>> siblings;
    for (const auto& [_, p] : paths) {
      if (p.segments.size() <= d || p.segments[d] == "{id}") continue;
      std::vector<std::string> prefix(p.segments.begin(), p.segments.begin() + static_cast<std::ptrdiff_t>(d));
      siblings[join(prefix)][p.segments[d]] |= p.sessions;
    }
    std::set<std::string> parameter_prefixes;
    for (const auto& [prefix, values] : siblings) {
      if (values.size() < kLearnMinValues) continue;
      auto one_side = std::count_if(values.begin(), values.end(), [](const auto& v) { return v.second != 3u; });
      if (values.size() >= kLearnManyValues || static_cast<std::size_t>(one_side) * 2 >= values.size())
        parameter_prefixes.insert(prefix);
    }
    if (parameter_prefixes.empty()) continue;
    for (auto& [_, p] : paths) {
      if (p.segments.size() <= d) continue;
      std::vector<std::string> prefix(p.segments.begin(), p.segments.begin() + static_cast<std::ptrdiff_t>(d));
      if (parameter_prefixes.count(join(prefix))) {
        p.segments[d] = "{id}";
        changed = true;
      }
    }
  }
  if (!changed) return renamed;
  for (const auto& [route, p] : paths) {
    auto templated = join(p.segments);
    if (templated != route) renamed.emplace(route, std::move(templated));
  }
  return renamed;
}

void learn_route_templates(SessionFingerprint& baseline, SessionFingerprint& current) {
  std::map<std::string, unsigned> routes;
  for (auto [side, bit] : {std::pair{&baseline, 1u}, std::pair{&current, 2u}})
    for (const auto& [key, route] : side->routes()) routes[key.route] |= bit;
  auto renamed = learn_templates(routes);
  if (renamed.empty()) return;
  for (auto* side : {&baseline, &current}) {
    side->rename_routes([&](const RouteKey& key) {
      auto it = renamed.find(key.route);
      return it == renamed.end() ? key : RouteKey{key.method, it->second};
    });
  }
}

} // namespace gostly::drift
