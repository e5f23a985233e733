// gostly-score: the 0-100 freshness score of each service, with the signals behind it.
#include "cli/tool.hpp"
#include "drift/commands.hpp"

int main(int argc, char** argv) {
  CLI::App app{"Freshness score (0-100) per service: recency, route coverage and open drift"};
  gostly::cli::CommonOptions common;
  gostly::drift::Options opts;
  gostly::cli::setup_app(app, "gostly-score", common);
  gostly::cli::add_data_option(app, opts.data_dir);
  gostly::cli::add_store_option(app, opts.store);
  auto* service = app.add_option("--service", opts.service, "Only this service (default: every recorded service)");
  app.add_flag("--json", opts.json, "One JSON record per service (\"type\":\"score\")");
  return gostly::cli::run_tool(app, "gostly-score", common, argc, argv, [&] {
    opts.service_given = service->count() > 0;
    return gostly::drift::run_score_command(opts);
  });
}
