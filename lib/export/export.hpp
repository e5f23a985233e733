#pragma once
// gostly-export: interaction JSONL or a service's recordings out as HAR 1.2, a Postman v2.1
// collection or an OpenAPI 3.1 document (the mirror of gostly-seed). Each format is a writer
// `write_<format>(InteractionSource&, const <Format>Options&, std::ostream&)`; run() opens the
// source and the output and publishes the output only when the writer succeeded.
#include "export/har.hpp"
#include "export/openapi.hpp"
#include "export/postman.hpp"
#include "export/source.hpp"

#include <string>
#include <string_view>

namespace gostly::export_ {

enum class Format { har, postman, openapi };

/// Routes (method and path template) postman and openapi keep: GOSTLY_EXPORT_MAX_ROUTES (10000).
std::size_t max_routes();

/// `har`, `postman` or `openapi`; throws gostly::UsageError for anything else.
Format parse_format(std::string_view name);

struct Options {
  Format format = Format::har;
  SourceOptions source;
  std::string output = "-";
  HarOptions har;
  PostmanOptions postman;
  OpenApiOptions openapi;
};

/// Runs the tool; returns the exit status (0), throws gostly::Error subclasses on failure.
int run(Options& options);

} // namespace gostly::export_
