#pragma once
// The miss tier: a 404 whose JSON body says why nothing matched and names the nearest
// recordings, so a failing test run points at the recording it probably expected.
#include "record/interaction.hpp"

#include <cstddef>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace gostly::match {

/// One distinct method + URI of the library, as a miss names it.
struct RouteRef {
  std::string method;
  std::string uri;
};

/// How alike the request `method` `uri` is to the recorded route `route`, in [0, 1]: mostly
/// path segments compared position by position (two ids count as nearly equal), then the
/// method, then the query string.
double route_similarity(const RouteRef& route, std::string_view method, std::string_view uri);

/// Indexes into `routes` of the `limit` routes most similar to `method` `uri`, best first
/// (earlier routes win ties, so the answer is stable).
std::vector<std::size_t> nearest_routes(const std::vector<RouteRef>& routes, std::string_view method,
                                        std::string_view uri, std::size_t limit = 3);

/// The 404 `application/json` response for a miss of `method` `uri`: `reason` (one sentence,
/// lower case), the `nearest` routes and the library size `library_size`.
std::shared_ptr<const record::Response> miss_response(std::string_view method, std::string_view uri,
                                                      std::string_view reason,
                                                      const std::vector<const RouteRef*>& nearest,
                                                      std::size_t library_size);

} // namespace gostly::match
