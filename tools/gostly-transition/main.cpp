// gostly-transition: interaction JSONL in, library.db out (lib/transition does the work).
#include "cli/tool.hpp"
#include "transition/command.hpp"

#include <string>
#include <vector>

int main(int argc, char** argv) {
  CLI::App app{"Build the mock library (library.db) from interaction JSONL; export or import it as a bundle"};
  gostly::cli::CommonOptions common;
  gostly::cli::setup_app(app, "gostly-transition", common);
  gostly::transition::Options opts;
  std::string data = "data";
  std::string service, session, control, then_mode, export_file, import_file;

  app.add_option("inputs", opts.transition.inputs,
                 "Interaction JSONL files (- = stdin); default: every traffic/*.jsonl of the data dir, else a piped stdin");
  gostly::cli::add_data_option(app, data);
  gostly::cli::add_store_option(app, opts.transition.store);
  app.add_option("--service", service, "Set the service id of every record (default: keep the record's)");
  app.add_option("--session", session, "Set the session id of every record (default: keep the record's)");
  app.add_option("--redact-header", opts.transition.redact_headers,
                 "Also mask this header (repeatable; adds to the floor and REDACT_HEADERS)")
      ->type_name("NAME")
      ->allow_extra_args(false);
  app.add_flag("--dry-run", opts.transition.dry_run, "Validate and report; library.db is left unchanged");
  app.add_option("--control", control, "Tell the gostly-serve control API at HOST:PORT (key: GHOST_API_KEY)")
      ->type_name("HOST:PORT");
  app.add_option("--then-mode", then_mode, "With --control: the mode the server enters afterwards")
      ->type_name("MODE");
  app.add_option("--export", export_file, "Write the library to FILE.tar.gz (bodies PII-scrubbed)")
      ->type_name("FILE");
  app.add_option("--import", import_file, "Read a bundle written by --export into library.db")->type_name("FILE");
  app.add_flag("--force", opts.force, "With --export: overwrite an existing file");
  app.add_flag("--migrate", opts.migrate,
               "Bring the store's schema (library and drift tables) to this version's, report the versions, exit");
  app.add_flag("--json", opts.json, "Print the summary as one JSON line on stdout");
  app.add_flag("--verify", opts.verify,
               "After the commit, replay every input interaction against the library as MOCK would and report "
               "those not answered as recorded (exit 1; the library stays committed)");

  return gostly::cli::run_tool(app, "gostly-transition", common, argc, argv, [&] {
    auto set = [](std::optional<std::string>& field, const std::string& value) {
      if (!value.empty()) field = value;
    };
    opts.transition.data_dir = data;
    set(opts.transition.service, service);
    set(opts.transition.session, session);
    set(opts.control, control);
    set(opts.then_mode, then_mode);
    set(opts.export_file, export_file);
    set(opts.import_file, import_file);
    opts.quiet = common.quiet;
    return gostly::transition::run(opts);
  });
}
