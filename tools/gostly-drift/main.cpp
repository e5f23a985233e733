// gostly-drift: compare recording sessions of a service and manage the drift events found.
#include "cli/tool.hpp"
#include "drift/commands.hpp"

int main(int argc, char** argv) {
  CLI::App app{"Detect drift between recording sessions of a service; list, acknowledge and chart drift events"};
  gostly::cli::CommonOptions common;
  gostly::drift::Options opts;
  gostly::cli::setup_app(app, "gostly-drift", common);
  app.set_help_all_flag("--help-all", "Show the options of every subcommand");
  app.require_subcommand(1, 1);
  app.fallthrough();

  auto add_service = [&](CLI::App* sub, const char* what) {
    return sub->add_option("--service", opts.service, what)->capture_default_str();
  };
  const std::string fail_on_help = "Exit 1 only for new drift of this severity or worse: major, minor or any";
  auto add_fail_on = [&](CLI::App* sub) {
    sub->add_option("--fail-on", opts.fail_on, fail_on_help)
        ->check(CLI::IsMember({"major", "minor", "any"}))
        ->capture_default_str();
  };

  auto* check = app.add_subcommand("check", "Compare two sessions of a service; print and store drift events (JSONL)");
  gostly::cli::add_data_option(*check, opts.data_dir);
  gostly::cli::add_store_option(*check, opts.store);
  add_service(check, "Service id");
  check->add_option("--baseline", opts.baseline, "Baseline session id (what the mocks were built from)")->required();
  check->add_option("--current", opts.current, "Current session id (a fresh re-recording)")->required();
  add_fail_on(check);

  auto* diff = app.add_subcommand("diff", "Compare two interaction JSONL files directly, without a store");
  diff->add_option("files", opts.files, "BASELINE.jsonl CURRENT.jsonl ('-' = stdin for one of them)")
      ->required()
      ->expected(2);
  add_service(diff, "Only interactions of this service (default: all)");
  add_fail_on(diff);

  auto* events = app.add_subcommand("events", "List drift events, newest first (JSONL)");
  gostly::cli::add_data_option(*events, opts.data_dir);
  gostly::cli::add_store_option(*events, opts.store);
  add_service(events, "Only events of this service (default: all)");
  events->add_flag("--open", opts.open_only, "Only unacknowledged events");

  auto* ack = app.add_subcommand("ack", "Acknowledge a drift event (append-only audit row)");
  gostly::cli::add_data_option(*ack, opts.data_dir);
  gostly::cli::add_store_option(*ack, opts.store);
  ack->add_option("id", opts.event_id, "Event id")->required();
  ack->add_option("--user", opts.user, "Who acknowledges it");
  ack->add_option("--reason", opts.reason, "Why, e.g. \"tracked in JIRA-1234\"");
  ack->add_flag("--json", opts.json, "Print the event and its acknowledgements as JSON");

  auto* show = app.add_subcommand("show", "Print one drift event with its acknowledgements (JSON)");
  gostly::cli::add_data_option(*show, opts.data_dir);
  gostly::cli::add_store_option(*show, opts.store);
  show->add_option("id", opts.event_id, "Event id")->required();

  auto* sessions = app.add_subcommand("sessions", "List the recording sessions of a service");
  gostly::cli::add_data_option(*sessions, opts.data_dir);
  gostly::cli::add_store_option(*sessions, opts.store);
  add_service(sessions, "Service id");
  sessions->add_flag("--json", opts.json, "One JSON record per session");

  auto* sparkline = app.add_subcommand("sparkline", "30-day per-day drift events of a service as a sparkline");
  gostly::cli::add_data_option(*sparkline, opts.data_dir);
  gostly::cli::add_store_option(*sparkline, opts.store);
  add_service(sparkline, "Service id");
  sparkline->add_flag("--json", opts.json, "The per-day counts as JSON (empty days omitted)");

  return gostly::cli::run_tool(app, "gostly-drift", common, argc, argv, [&] {
    for (auto* sub : {check, diff, events, sparkline, sessions})
      if (sub->parsed() && sub->count("--service") > 0) opts.service_given = true;
    // CLI11 applies GOSTLY_DATA/GOSTLY_STORE to the options of the subcommands not run too, and
    // they all share one variable: what the running subcommand was given must win.
    for (auto* sub : {check, events, ack, show, sessions, sparkline}) {
      if (!sub->parsed()) continue;
      if (sub->count("--data") > 0) opts.data_dir = sub->get_option("--data")->as<std::string>();
      if (sub->count("--store") > 0) opts.store = sub->get_option("--store")->as<std::string>();
    }
    if (check->parsed()) return gostly::drift::run_check_command(opts);
    if (diff->parsed()) return gostly::drift::run_diff_command(opts);
    if (events->parsed()) return gostly::drift::run_events_command(opts);
    if (ack->parsed()) return gostly::drift::run_ack_command(opts);
    if (show->parsed()) return gostly::drift::run_show_command(opts);
    if (sessions->parsed()) return gostly::drift::run_sessions_command(opts);
    return gostly::drift::run_sparkline_command(opts);
  });
}
