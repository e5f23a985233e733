// gostly-seed: HAR, Postman and OpenAPI files in, interaction JSONL out (lib/seed does the work).
#include "cli/tool.hpp"
#include "seed/seed.hpp"

#include <string>
#include <vector>

int main(int argc, char** argv) {
  CLI::App app{"Turn HAR, Postman and OpenAPI files into interaction JSONL for gostly-transition"};
  gostly::cli::CommonOptions common;
  gostly::cli::setup_app(app, "gostly-seed", common);
  gostly::seed::Options opts;
  std::string service, session;
  std::vector<std::string> vars;
  bool strict = false;

  app.add_option("-o,--output", opts.output, "Write JSONL here (atomically; - = stdout)")->capture_default_str();
  app.add_option("--service", service, "Service id of every record (default: default; HAR: one per host)");
  app.add_option("--session", session, "Session id (default: seed-<format>-<digest of the input>)");
  app.add_flag("--strict", strict, "Fail on the first bad entry instead of skipping it");
  app.add_flag("--json", opts.json_report, "Print the import report as one JSON line on stderr");
  app.require_subcommand(1);
  app.fallthrough();

  auto* har = app.add_subcommand("har", "HAR 1.2 export (browser dev tools, proxies), streamed");
  har->add_option("file", opts.input, "HAR file (- = stdin)")->capture_default_str();
  // One value per occurrence, so `--host H FILE` leaves FILE to the positional.
  har->add_option("--host", opts.seed.hosts, "Keep only entries for this host (repeatable)")->allow_extra_args(false);
  har->fallthrough();

  auto* postman = app.add_subcommand("postman", "Postman collection v2.0 or v2.1");
  postman->add_option("file", opts.input, "Collection file (- = stdin)")->capture_default_str();
  postman->add_option("--var", vars, "Set {{NAME}} to VALUE, over the collection's variables (repeatable)")
      ->type_name("NAME=VALUE")
      ->allow_extra_args(false);
  postman->add_flag("--placeholder", opts.seed.placeholder, "Seed an empty 200 for requests without saved responses");
  postman->fallthrough();

  auto* openapi = app.add_subcommand("openapi", "OpenAPI 2.0, 3.0 or 3.1 description, JSON or YAML");
  openapi->add_option("file", opts.input, "Spec file (- = stdin)")->capture_default_str();
  openapi->add_option("--base-url", opts.seed.base_url, "Scheme, host and base path instead of the spec's servers");
  openapi->fallthrough();

  return gostly::cli::run_tool(app, "gostly-seed", common, argc, argv, [&] {
    opts.format = gostly::seed::parse_format(app.get_subcommands().front()->get_name());
    if (!service.empty()) opts.seed.service = service;
    if (!session.empty()) opts.seed.session = session;
    for (const auto& assignment : vars) opts.seed.vars.push_back(gostly::seed::parse_var(assignment));
    opts.seed.on_bad_entry = strict ? gostly::seed::OnBadEntry::fail : gostly::seed::OnBadEntry::skip;
    return gostly::seed::run(opts);
  });
}
