#pragma once
// OpenAPI 3.1 inferred from recorded traffic: `gostly-export openapi` (the inference itself is
// export/openapi_infer.hpp and export/openapi_schema.hpp).
#include "export/source.hpp"

#include <ostream>
#include <string>

namespace gostly::export_ {

struct OpenApiOptions {
  bool json = false;      // JSON instead of YAML
  std::string title;      // info.title; empty: "<service> (recorded)"
  std::string version = "1.0.0"; // info.version
};

/// Reads every interaction of `source` into aggregates (memory bounded by routes and fields, not
/// interactions) and writes one OpenAPI 3.1 document to `out`.
void write_openapi(InteractionSource& source, const OpenApiOptions& options, std::ostream& out);

} // namespace gostly::export_
