#pragma once
// The gostly-drift subcommands and gostly-score, behind the options their main.cpp binds.
// Each run_* returns the exit status: 0 ok / no new drift, 1 new drift (check, diff), and throws
// for errors (run_tool maps them to 2).
#include <string>
#include <vector>

namespace gostly::drift {

struct Options {
  std::string data_dir = "./data";
  std::string store; // --store / GOSTLY_STORE; empty = data_dir/library.db
  std::string service = "default";
  bool service_given = false; // events and score: without --service, every service
  std::string baseline;       // check: session ids
  std::string current;
  std::vector<std::string> files; // diff: BASELINE.jsonl CURRENT.jsonl
  std::string event_id;           // ack, show
  std::string user;
  std::string reason;
  bool open_only = false;
  bool json = false;
  std::string fail_on = "any"; // major | minor | any
};

int run_check_command(const Options& options);
int run_diff_command(const Options& options);
int run_events_command(const Options& options);
int run_ack_command(const Options& options);
int run_show_command(const Options& options);
int run_sessions_command(const Options& options);
int run_sparkline_command(const Options& options);
int run_score_command(const Options& options);

} // namespace gostly::drift
