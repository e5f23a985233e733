#pragma once
// Work on strangers' artifacts, off the daemon's address space. A seed import or a transition
// run parses input gostly did not write (HAR, Postman, OpenAPI, JSONL in traffic/); a parser bug
// that crashes, recurses without end or allocates without bound must cost the caller of that one
// request an error, never the proxy. So the work runs in a child process (the sibling
// gostly-seed or gostly-transition binary) under a budget: RLIMIT_AS for memory, RLIMIT_CPU and
// a wall-clock deadline for time, and a cap on what it may send back. The daemon only reads the
// child's JSONL output, through the same importer and redaction as before. The total output
// is bounded by the deadline, one line by the memory budget.
#include <chrono>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

namespace gostly::serve {

/// What one piece of work may cost. Flags --work-timeout / --work-memory of gostly-serve
/// (env GOSTLY_WORK_TIMEOUT, GOSTLY_WORK_MEMORY).
struct WorkBudget {
  std::chrono::milliseconds timeout{std::chrono::seconds(120)};
  /// Address space of the child, bytes. Also the longest stdout line (one record) the daemon
  /// takes from it: the child could not have built a longer one.
  std::uint64_t memory = std::uint64_t{2} << 30;
};

/// "2 GiB", "64 MiB", "512 KiB" or "N bytes".
std::string describe_size(std::uint64_t bytes);
/// "120 s", "0.2 s".
std::string describe_duration(std::chrono::milliseconds duration);

struct WorkResult {
  enum class Outcome {
    exited,        // exit_code is its status
    signaled,      // killed by `signal` (a crash, the CPU limit, the kernel's OOM killer)
    timed_out,     // past the wall-clock budget: killed by us
    line_limit,    // wrote a stdout line longer than the memory budget: killed by us
  };
  Outcome outcome = Outcome::exited;
  int exit_code = 0;
  int signal = 0;
  std::chrono::milliseconds elapsed{0};
  /// The last MiB of the child's stderr (its error message, its JSON report).
  std::string stderr_tail;

  bool ok() const noexcept { return outcome == Outcome::exited && exit_code == 0; }
  /// The last non-empty line of stderr, without a trailing CR.
  std::string last_stderr_line() const;
};

/// Called once per complete line of the child's stdout (without the newline), on the calling
/// thread while the child runs. An exception from it kills the child and is rethrown.
using LineHandler = std::function<void(std::string_view line)>;

/// Runs `argv` (argv[0] an absolute path; environment inherited) with `input` on its stdin,
/// its stdout split into lines for `on_line` (may be empty: stdout is then discarded), its stderr
/// kept (tail). The child gets RLIMIT_AS = budget.memory, RLIMIT_CPU a little over the timeout,
/// no core dumps, every descriptor but 0-2 closed and a clean signal mask. Returns when the child
/// has ended and been reaped; never leaves it running. Throws gostly::Error when it cannot be
/// started (e.g. the binary is missing).
WorkResult run_work(const std::vector<std::string>& argv, std::string_view input, const LineHandler& on_line,
                    const WorkBudget& budget);

/// The path of the gostly tool `name` installed beside the running binary (/proc/self/exe),
/// e.g. bin/gostly-seed next to bin/gostly-serve. Throws gostly::Error when it is not there.
std::filesystem::path sibling_tool(const std::string& name);

/// The signal's name ("SIGSEGV"), or "signal N".
std::string signal_name(int signal);

/// A message for a work that did not succeed: what happened and which budget (and flag) to
/// raise when a limit was hit. `what` names the work ("the seed import"); `detail` is the
/// child's own error line, if any. Sets `status` to the HTTP status the control API answers:
/// 422 when a budget was exceeded or the input was refused, 500 for a crash.
std::string describe_failure(const WorkResult& result, const WorkBudget& budget, const std::string& what,
                             int& status);

/// POST /v1/transition {"action":"run"}: gostly-transition over `data_dir`'s traffic/ into its
/// library.db, as a child under `budget`. Throws gostly::Error with describe_failure()'s message.
void run_transition_work(const std::filesystem::path& data_dir, const WorkBudget& budget);

} // namespace gostly::serve
