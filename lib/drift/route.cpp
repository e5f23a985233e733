#include "drift/route.hpp"

#include "match/smart_swap.hpp"


namespace gostly::drift {

// One definition of "identifier segment" for the whole toolkit: a route drift compares must be
// the route smart_swap answers, or drift would split what the mocks treat as one endpoint.
bool is_identifier_segment(std::string_view segment) noexcept { return match::is_id_segment(segment); }

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
    std::string_view piece = is_identifier_segment(segment) ? kId : segment;
    out.append(piece.data(), piece.size());
    pos = next;
  }
  if (out.empty()) out = "/";
  return out;
}
#pragma GCC diagnostic pop

} // namespace gostly::drift
