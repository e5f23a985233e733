#include "cli/tool.hpp"

#include "cli/version.hpp"
#include "util/error.hpp"

#include <cstdlib>
#include <iostream>
#include <new>
#include <spdlog/cfg/helpers.h>
#include <spdlog/sinks/stdout_color_sinks.h>
#include <spdlog/spdlog.h>
#include <unistd.h>

namespace gostly::cli {

std::string version_text(const std::string& tool) {
  return tool + " " + kVersion + " (git " + kGitDescribe + ")";
}

void setup_app(CLI::App& app, const std::string& tool, CommonOptions& common) {
  app.name(tool);
  app.set_version_flag("--version", version_text(tool));
  app.add_flag("-v,--verbose", common.verbosity, "More log output on stderr (repeatable)");
  app.add_flag("-q,--quiet", common.quiet, "Only errors on stderr");
  app.add_option("--color", common.color, "Colour on stderr: auto, always or never")
      ->check(CLI::IsMember({"auto", "always", "never"}))
      ->capture_default_str();
}

CLI::Option* add_data_option(CLI::App& app, std::string& data_dir) {
  if (data_dir.empty()) data_dir = "./data";
  return app.add_option("--data", data_dir, "Data directory")->envname("GOSTLY_DATA")->capture_default_str();
}

CLI::Option* add_store_option(CLI::App& app, std::string& store) {
  return app.add_option("--store", store,
                        "Library store: postgres://USER@HOST/DB (libpq URI or key=value) or sqlite:PATH; "
                        "default DIR/library.db")
      ->envname("GOSTLY_STORE");
}

bool stderr_wants_color(const std::string& color) {
  if (color == "always") return true;
  if (color == "never") return false;
  const char* no_color = std::getenv("NO_COLOR");
  if (no_color && *no_color) return false;
  const char* term = std::getenv("TERM");
  if (term && std::string(term) == "dumb") return false;
  return ::isatty(STDERR_FILENO) == 1;
}

void setup_logging(const std::string& tool, const CommonOptions& common, bool default_info) {
  auto mode = stderr_wants_color(common.color) ? spdlog::color_mode::always : spdlog::color_mode::never;
  auto sink = std::make_shared<spdlog::sinks::stderr_color_sink_mt>(mode);
  auto logger = std::make_shared<spdlog::logger>(tool, sink);
  logger->set_pattern("%n: %^%l%$: %v");
  int level = default_info ? spdlog::level::info : spdlog::level::warn;
  level -= common.verbosity;
  if (common.quiet) level = spdlog::level::err;
  if (level < spdlog::level::trace) level = spdlog::level::trace;
  logger->set_level(static_cast<spdlog::level::level_enum>(level));
  spdlog::set_default_logger(logger);
  if (const char* env = std::getenv("GOSTLY_LOG"); env && *env) spdlog::cfg::helpers::load_levels(env);
}

int run_tool(CLI::App& app, const std::string& tool, CommonOptions& common, int argc, char** argv,
             const std::function<int()>& body) {
  try {
    app.parse(argc, argv);
  } catch (const CLI::CallForHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForAllHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForVersion& e) {
    return app.exit(e);
  } catch (const CLI::ParseError& e) {
    // CLI11 2.1 exit codes are 100+; our contract says 2 for every usage error.
    if (e.get_exit_code() == 0) return app.exit(e);
    std::cerr << tool << ": error: " << e.what() << "\n" << "hint: try '" << tool << " --help'\n";
    return kError;
  }
  setup_logging(tool, common);
  try {
    return body();
  } catch (const UsageError& e) {
    std::cerr << tool << ": error: " << e.what() << "\n";
  } catch (const Error& e) {
    std::cerr << tool << ": error: " << e.what() << "\n";
  } catch (const std::bad_alloc&) {
    std::cerr << tool << ": error: out of memory\n";
  } catch (const std::exception& e) {
    std::cerr << tool << ": error: " << e.what() << "\n";
  }
  return kError;
}

} // namespace gostly::cli
