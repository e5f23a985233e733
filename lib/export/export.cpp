#include "export/export.hpp"

#include "export/output.hpp"
#include "util/error.hpp"
#include "util/limits.hpp"

#include <spdlog/spdlog.h>

namespace gostly::export_ {

std::size_t max_routes() { return util::limit_from_env("GOSTLY_EXPORT_MAX_ROUTES", 10000); }

Format parse_format(std::string_view name) {
  if (name == "har") return Format::har;
  if (name == "postman") return Format::postman;
  if (name == "openapi") return Format::openapi;
  throw UsageError("unknown format '" + std::string(name) + "' (har, postman, openapi)");
}

int run(Options& options) {
  if (options.output != "-" && !options.source.input.empty() && options.output == options.source.input)
    throw UsageError("-o " + options.output + " would overwrite the input");
  auto source = open_source(options.source);
  Output output(options.output);
  switch (options.format) {
  case Format::har: write_har(*source, options.har, output.stream()); break;
  case Format::postman: write_postman(*source, options.postman, output.stream()); break;
  case Format::openapi: write_openapi(*source, options.openapi, output.stream()); break;
  }
  output.commit();
  spdlog::info("exported {} interactions from {}", source->delivered(), source->name());
  return 0;
}

} // namespace gostly::export_
