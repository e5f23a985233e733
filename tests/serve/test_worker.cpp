#include "serve/worker.hpp"

#include "util/error.hpp"

#include <catch2/catch.hpp>

#include <csignal>
#include <fcntl.h>
#include <pthread.h>
#include <unistd.h>

using namespace gostly;
using namespace std::chrono_literals;
using serve::WorkResult;

namespace {

serve::WorkResult sh(const std::string& script, std::string_view input = {}, std::vector<std::string>* lines = nullptr,
                     serve::WorkBudget budget = {}) {
  return serve::run_work({"/bin/sh", "-c", script}, input, [&](std::string_view line) {
    if (lines) lines->emplace_back(line);
  }, budget);
}

} // namespace

TEST_CASE("serve::run_work: stdin in, stdout lines and exit status out", "[serve][work]") {
  std::vector<std::string> lines;
  auto result = sh("cat; echo last-without-newline | tr -d '\\n'", "one\ntwo\n\nthree\n", &lines);
  CHECK(result.ok());
  CHECK(lines == std::vector<std::string>{"one", "two", "", "three", "last-without-newline"});

  auto failed = sh("echo 'gostly-seed: error: <stdin>:1: log: expected object' >&2; exit 2");
  CHECK_FALSE(failed.ok());
  CHECK(failed.exit_code == 2);
  int status = 0;
  CHECK(serve::describe_failure(failed, {}, "the import", status) == "<stdin>:1: log: expected object");
  CHECK(status == 422);
}

TEST_CASE("serve::run_work: a crash is contained and named", "[serve][work]") {
  auto result = sh("kill -SEGV $$");
  CHECK(result.outcome == WorkResult::Outcome::signaled);
  CHECK(result.signal == SIGSEGV);
  int status = 0;
  auto message = serve::describe_failure(result, {}, "the openapi import", status);
  CHECK(status == 500);
  CHECK_THAT(message, Catch::Contains("SIGSEGV") && Catch::Contains("--work-memory"));
}

TEST_CASE("serve::run_work: past the deadline the child is killed", "[serve][work]") {
  serve::WorkBudget budget;
  budget.timeout = 200ms;
  auto started = std::chrono::steady_clock::now();
  // `exec` so the shell itself sleeps: no grandchild holds the pipes open.
  auto result = sh("exec sleep 30", {}, nullptr, budget);
  CHECK(std::chrono::steady_clock::now() - started < 5s);
  CHECK(result.outcome == WorkResult::Outcome::timed_out);
  int status = 0;
  auto message = serve::describe_failure(result, budget, "the har import", status);
  CHECK(status == 422);
  CHECK_THAT(message, Catch::Contains("0.2 s") && Catch::Contains("--work-timeout"));
}

TEST_CASE("serve::run_work: the child gets the memory budget, no inherited descriptors, no blocked signals",
          "[serve][work]") {
  serve::WorkBudget budget;
  budget.memory = std::uint64_t{256} << 20;
  std::vector<std::string> lines;
  CHECK(sh("ulimit -v", {}, &lines, budget).ok());
  CHECK(lines == std::vector<std::string>{"262144"});

  int leaked = ::open("/dev/null", O_RDONLY); // no O_CLOEXEC, as a socket made by a library may be
  REQUIRE(leaked > 2);
  lines.clear();
  CHECK(sh("[ -e /proc/$$/fd/" + std::to_string(leaked) + " ] && echo open || echo closed", {}, &lines).ok());
  ::close(leaked);
  CHECK(lines == std::vector<std::string>{"closed"});

  sigset_t term, old;
  sigemptyset(&term);
  sigaddset(&term, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &term, &old);
  lines.clear();
  auto result = sh("grep SigBlk /proc/self/status", {}, &lines);
  pthread_sigmask(SIG_SETMASK, &old, nullptr);
  CHECK(result.ok());
  CHECK(lines == std::vector<std::string>{"SigBlk:\t0000000000000000"});
}

TEST_CASE("serve::run_work: a child that stops reading or a failing handler never hangs the caller", "[serve][work]") {
  std::string big(8 << 20, 'x');
  auto result = sh("exit 3", big);
  CHECK(result.exit_code == 3);

  auto started = std::chrono::steady_clock::now();
  CHECK_THROWS_AS(serve::run_work({"/bin/sh", "-c", "echo one; exec sleep 30"}, {},
                                  [](std::string_view) { throw Error("refused"); }, {}),
                  Error);
  CHECK(std::chrono::steady_clock::now() - started < 5s);
}

TEST_CASE("serve::sibling_tool and the budget texts", "[serve][work]") {
  CHECK_THROWS_AS(serve::sibling_tool("gostly-no-such-tool"), Error);
  CHECK(serve::describe_size(std::uint64_t{2} << 30) == "2 GiB");
  CHECK(serve::describe_size(64 << 20) == "64 MiB");
  CHECK(serve::describe_size(1000) == "1000 bytes");
  CHECK(serve::describe_duration(120s) == "120 s");
  CHECK(serve::describe_duration(1500ms) == "1.5 s");
  CHECK(serve::signal_name(SIGXCPU) == "SIGXCPU");
}
