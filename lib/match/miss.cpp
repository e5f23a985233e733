#include "match/miss.hpp"

#include "match/smart_swap.hpp"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <numeric>

namespace gostly::match {

double route_similarity(const RouteRef& route, std::string_view method, std::string_view uri) {
  auto recorded = split_path(record::uri_path(route.uri));
  auto wanted = split_path(record::uri_path(uri));
  auto longest = std::max(recorded.size(), wanted.size());
  double segments = 1.0;
  if (longest > 0) {
    double same = 0;
    for (std::size_t i = 0; i < std::min(recorded.size(), wanted.size()); ++i) {
      if (recorded[i] == wanted[i]) same += 1.0;
      else if (is_id_segment(recorded[i]) && is_id_segment(wanted[i])) same += 0.75;
      else if (i == 0) break; // a different first segment is a different API area
    }
    segments = same / static_cast<double>(longest);
  }
  double same_method = route.method == method ? 1.0 : 0.0;
  double same_query = record::uri_query(route.uri) == record::uri_query(uri) ? 1.0 : 0.0;
  return 0.7 * segments + 0.2 * same_method + 0.1 * same_query;
}

std::vector<std::size_t> nearest_routes(const std::vector<RouteRef>& routes, std::string_view method,
                                        std::string_view uri, std::size_t limit) {
  std::vector<std::pair<double, std::size_t>> scored;
  scored.reserve(routes.size());
  for (std::size_t i = 0; i < routes.size(); ++i) scored.emplace_back(route_similarity(routes[i], method, uri), i);
  auto keep = std::min(limit, scored.size());
  std::partial_sort(scored.begin(), scored.begin() + static_cast<std::ptrdiff_t>(keep), scored.end(),
                    [](const auto& a, const auto& b) { return a.first > b.first || (a.first == b.first && a.second < b.second); });
  std::vector<std::size_t> best;
  for (std::size_t i = 0; i < keep; ++i) best.push_back(scored[i].second);
  return best;
}

std::shared_ptr<const record::Response> miss_response(std::string_view method, std::string_view uri,
                                                      std::string_view reason,
                                                      const std::vector<const RouteRef*>& nearest,
                                                      std::size_t library_size) {
  using Json = nlohmann::ordered_json;
  Json near = Json::array();
  for (const auto* route : nearest) near.push_back({{"method", route->method}, {"uri", route->uri}});
  Json body = {{"error", "no mock matched"},
               {"reason", reason},
               {"request", {{"method", method}, {"uri", uri}}},
               {"nearest", near},
               {"library_size", library_size}};
  auto response = std::make_shared<record::Response>();
  response->status = 404;
  response->reason = "Not Found";
  response->headers = {{"Content-Type", "application/json"}};
  response->body = body.dump(-1, ' ', false, Json::error_handler_t::replace) + "\n";
  return response;
}

} // namespace gostly::match
