#pragma once
// Shared command-line scaffolding: the common option groups every tool spells the same way,
// logging set-up (NO_COLOR, -v/-q, GOSTLY_LOG), and run_tool(), the one place that maps
// failures to exit statuses (0 ok, 1 found something, 2 usage/input error).
#include <CLI/CLI.hpp>

#include <functional>
#include <string>

namespace gostly::cli {

enum ExitStatus : int { kOk = 0, kFound = 1, kError = 2 };

struct CommonOptions {
  int verbosity = 0; // -v adds, -q subtracts
  bool quiet = false;
  std::string color = "auto"; // auto | always | never
};

/// `gostly-<tool> 0.1.0 (git abc123)` plus library versions.
std::string version_text(const std::string& tool);

/// Creates the app with --version and the shared -v/-q/--color group bound to `common`.
void setup_app(CLI::App& app, const std::string& tool, CommonOptions& common);

/// Adds `--data DIR` (env GOSTLY_DATA, default ./data).
CLI::Option* add_data_option(CLI::App& app, std::string& data_dir);
/// Adds `--store URI` (env GOSTLY_STORE): where the library lives when not in DIR/library.db.
CLI::Option* add_store_option(CLI::App& app, std::string& store);

/// Parses argv, sets up logging and runs `body`, mapping exceptions to exit statuses and printing
/// `gostly-<tool>: error: ...` once. `body` returns the exit status.
int run_tool(CLI::App& app, const std::string& tool, CommonOptions& common, int argc, char** argv,
             const std::function<int()>& body);

/// Configures spdlog on stderr: level from -v/-q (default warn for batch tools, info when
/// `default_info`), overridden by GOSTLY_LOG; colour per --color, NO_COLOR and TERM=dumb.
void setup_logging(const std::string& tool, const CommonOptions& common, bool default_info = false);

/// True when colour may be used on stderr for this `color` setting.
bool stderr_wants_color(const std::string& color);

} // namespace gostly::cli
