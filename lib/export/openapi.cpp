#include "export/openapi.hpp"

#include "export/export.hpp"
#include "export/openapi_infer.hpp"

#include <spdlog/spdlog.h>

namespace gostly::export_ {

void write_openapi(InteractionSource& source, const OpenApiOptions& options, std::ostream& out) {
  InferOptions infer;
  infer.version = options.version;
  infer.max_routes = max_routes();
  OpenApiBuilder builder(infer);
  std::string service;
  source.for_each([&](const record::Interaction& interaction) {
    if (service.empty()) service = interaction.service_id;
    builder.add(interaction);
  });
  // The title is known only once the first interaction has named its service.
  OrderedJson doc = builder.document();
  doc["info"]["title"] = !options.title.empty() ? options.title
                         : service.empty()      ? std::string("Recorded API")
                                                : service + " (recorded)";
  // What a limit cut is said, with the variable that raises it (gostly-export(1), LIMITS).
  if (auto n = builder.fields_dropped())
    spdlog::warn("openapi: {} body fields past GOSTLY_DRIFT_MAX_FIELDS={} per body schema left out", n,
                 infer.limits.max_fields);
  if (auto n = builder.depth_cut())
    spdlog::warn("openapi: {} values nested deeper than GOSTLY_DRIFT_MAX_DEPTH={} not described", n, infer.limits.max_depth);
  if (auto n = builder.methods_skipped()) spdlog::warn("openapi: {} interactions with a method OpenAPI 3.1 has no field for left out", n);
  if (auto n = builder.undecodable()) spdlog::warn("openapi: {} bodies whose Content-Encoding did not decode gave no schema", n);
  if (options.json) out << doc.dump(2, ' ', false, OrderedJson::error_handler_t::replace) << '\n';
  else emit_yaml(doc, out);
}

} // namespace gostly::export_
