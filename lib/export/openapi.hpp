#pragma once
// OpenAPI 3.1 inferred from recorded traffic: `gostly-export openapi`.
#include "export/source.hpp"

#include <ostream>
#include <string>

namespace gostly::export_ {

struct OpenApiOptions {
  bool json = false; // JSON instead of YAML
};

/// Reads every interaction of `source` and writes one OpenAPI 3.1 document to `out`.
void write_openapi(InteractionSource& source, const OpenApiOptions& options, std::ostream& out);

} // namespace gostly::export_
