// gostly-export: interaction JSONL or the library out as HAR, Postman or OpenAPI (lib/export).
#include "cli/tool.hpp"
#include "export/export.hpp"

#include <string>

int main(int argc, char** argv) {
  CLI::App app{"Export interaction JSONL or a service's recordings as HAR 1.2, Postman v2.1 or OpenAPI 3.1"};
  gostly::cli::CommonOptions common;
  gostly::cli::setup_app(app, "gostly-export", common);
  gostly::export_::Options opts;
  auto& source = opts.source;

  app.add_option("-o,--output", opts.output, "Write here (atomically; - = stdout)")->capture_default_str();
  gostly::cli::add_data_option(app, source.data_dir);
  gostly::cli::add_store_option(app, source.store);
  app.add_option("--service", source.service,
                 "Export this service (the library: default 'default'; JSONL: keep only its records)");
  app.add_option("--session", source.session, "Keep only this recording session");
  app.require_subcommand(1);
  app.fallthrough();

  const char* input_help = "Interaction JSONL (- = stdin); without it, the service's recordings in the data dir";
  auto* har = app.add_subcommand("har", "HAR 1.2, one entry per interaction, streamed");
  har->add_option("input", source.input, input_help);
  har->fallthrough();

  auto* postman = app.add_subcommand("postman", "Postman collection v2.1: a folder per path template, responses as examples");
  postman->add_option("input", source.input, input_help);
  postman->add_option("--name", opts.postman.name, "Collection name (default: gostly <service>)");
  postman->fallthrough();

  auto* openapi = app.add_subcommand("openapi", "OpenAPI 3.1 inferred from the traffic (YAML)");
  openapi->add_option("input", source.input, input_help);
  openapi->add_flag("--json", opts.openapi.json, "Write JSON instead of YAML");
  openapi->add_option("--title", opts.openapi.title, "info.title (default: <service> (recorded))");
  openapi->add_option("--api-version", opts.openapi.version, "info.version")->capture_default_str();
  openapi->fallthrough();

  return gostly::cli::run_tool(app, "gostly-export", common, argc, argv, [&] {
    opts.format = gostly::export_::parse_format(app.get_subcommands().front()->get_name());
    return gostly::export_::run(opts);
  });
}
