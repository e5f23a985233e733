#pragma once
// The `gostly` front command: `gostly VERB ARGS...` runs `gostly-VERB ARGS...` (as git does),
// looking first beside its own executable, then on PATH.
namespace gostly::cli {

/// Runs the front command; returns an exit status only when exec fails (126/127) or for
/// --help/--version/usage errors, otherwise replaces the process.
int dispatch_main(int argc, char** argv);

} // namespace gostly::cli
