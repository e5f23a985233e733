#pragma once
// gostly-transition as a library call: everything the tool does after option parsing. The
// pipeline itself is run_transition() (transition.hpp); this adds the control-API handshake,
// bundle export/import and the report (stderr summary, or JSON on stdout with --json).
#include "transition/transition.hpp"

#include <optional>
#include <string>

namespace gostly::transition {

struct Options {
  TransitionOptions transition;
  std::optional<std::string> control;   // HOST:PORT of gostly-serve's control API
  std::optional<std::string> then_mode; // mode to enter after `end`, needs `control`
  std::optional<std::string> export_file;
  std::optional<std::string> import_file;
  bool force = false; // overwrite an existing export file
  bool json = false;
  bool quiet = false; // no summary on stderr
  bool verify = false; // replay every incoming interaction against the new library (verify.hpp)
  bool migrate = false; // only bring the store's schema (library and drift) to this build's version
};

/// Runs gostly-transition. Returns the exit status (0; 1 when --verify found interactions that
/// would not be answered as recorded, the library being committed all the same); throws gostly::Error subclasses for the
/// caller (cli::run_tool) to report. With `control`, the server is told `begin` before anything
/// is written, `end` after the commit and `abort` when the run fails.
int run(const Options& options);

} // namespace gostly::transition
