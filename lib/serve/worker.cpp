#include "serve/worker.hpp"

#include "util/error.hpp"

#include <algorithm>
#include <cerrno>
#include <csignal>
#include <cstdio>
#include <cstring>
#include <fcntl.h>
#include <nlohmann/json.hpp>
#include <pthread.h>
#include <spdlog/spdlog.h>
#include <poll.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <thread>
#include <unistd.h>
#include <utility>

extern char** environ;

namespace gostly::serve {
namespace {

using Clock = std::chrono::steady_clock;
constexpr std::size_t kStderrKeep = 1024 * 1024; // room for gostly-seed's report and its 100 warnings
constexpr std::size_t kChunk = 64 * 1024;

class Fd {
public:
  Fd() = default;
  explicit Fd(int fd) : fd_(fd) {}
  Fd(Fd&& other) noexcept : fd_(std::exchange(other.fd_, -1)) {}
  Fd& operator=(Fd&& other) noexcept {
    if (this != &other) {
      close();
      fd_ = std::exchange(other.fd_, -1);
    }
    return *this;
  }
  ~Fd() { close(); }
  int get() const noexcept { return fd_; }
  bool open() const noexcept { return fd_ >= 0; }
  void close() noexcept {
    if (fd_ >= 0) ::close(fd_);
    fd_ = -1;
  }

private:
  int fd_ = -1;
};

/// A close-on-exec pipe whose ends are above 2, so dup2() onto 0-2 in the child never lands an
/// end on itself (when the daemon runs with a standard descriptor closed).
std::pair<Fd, Fd> make_pipe() {
  int fds[2];
  if (::pipe2(fds, O_CLOEXEC) != 0) throw Error(std::string("cannot create a pipe: ") + std::strerror(errno));
  Fd ends[2] = {Fd(fds[0]), Fd(fds[1])};
  for (auto& end : ends)
    if (end.get() <= 2) {
      int moved = ::fcntl(end.get(), F_DUPFD_CLOEXEC, 3);
      if (moved < 0) throw Error(std::string("cannot move a pipe: ") + std::strerror(errno));
      end = Fd(moved);
    }
  return {std::move(ends[0]), std::move(ends[1])};
}

void set_nonblocking(int fd) {
  int flags = ::fcntl(fd, F_GETFL);
  if (flags < 0 || ::fcntl(fd, F_SETFL, flags | O_NONBLOCK) < 0)
    throw Error(std::string("cannot make a pipe non-blocking: ") + std::strerror(errno));
}

/// Everything the child needs, computed before fork(): between fork and execve only
/// async-signal-safe calls are allowed (another thread may hold the allocator's lock at the
/// moment of the fork, and the child's copy of that lock would never be released).
struct ChildSetup {
  const char* path;
  char* const* argv;
  char* const* envp;
  int in, out, err;
  rlimit memory, cpu, core;
  sigset_t empty_mask;
  struct sigaction default_action;
};

[[noreturn]] void exec_child(const ChildSetup& s) {
  ::sigprocmask(SIG_SETMASK, &s.empty_mask, nullptr); // the daemon blocks SIGINT/TERM/CHLD
  for (int signal : {SIGPIPE, SIGINT, SIGTERM, SIGCHLD, SIGXCPU}) ::sigaction(signal, &s.default_action, nullptr);
  ::prctl(PR_SET_PDEATHSIG, SIGKILL); // never outlive the daemon
  if (::dup2(s.in, 0) < 0 || ::dup2(s.out, 1) < 0 || ::dup2(s.err, 2) < 0) ::_exit(126);
  // Listening sockets and client connections may lack close-on-exec: close all but 0-2.
  if (::syscall(SYS_close_range, 3U, ~0U, 0U) != 0) {
    rlimit files{};
    rlim_t last = ::getrlimit(RLIMIT_NOFILE, &files) == 0 ? std::min<rlim_t>(files.rlim_cur, 1 << 20) : 1024;
    for (rlim_t fd = 3; fd < last; ++fd) ::close(static_cast<int>(fd));
  }
  ::setrlimit(RLIMIT_AS, &s.memory);
  ::setrlimit(RLIMIT_CPU, &s.cpu);
  ::setrlimit(RLIMIT_CORE, &s.core); // a crash on hostile input is expected: no core files
  ::execve(s.path, s.argv, s.envp);
  ::_exit(127);
}

/// Kills and reaps the child unless it was reaped: no path out of run_work leaves it running
/// or a zombie, exceptions from the line handler included.
class ChildGuard {
public:
  explicit ChildGuard(pid_t pid) : pid_(pid) {}
  ~ChildGuard() {
    if (pid_ > 0) {
      ::kill(pid_, SIGKILL);
      int status = 0;
      while (::waitpid(pid_, &status, 0) < 0 && errno == EINTR) {
      }
    }
  }
  ChildGuard(const ChildGuard&) = delete;
  ChildGuard& operator=(const ChildGuard&) = delete;
  pid_t pid() const noexcept { return pid_; }
  /// waitpid without blocking; true (and `status` set) once the child has ended.
  bool try_reap(int& status) {
    pid_t done = ::waitpid(pid_, &status, WNOHANG);
    if (done == pid_) {
      pid_ = -1;
      return true;
    }
    return false;
  }
  void kill_and_reap(int& status) {
    ::kill(pid_, SIGKILL);
    while (::waitpid(pid_, &status, 0) < 0 && errno == EINTR) {
    }
    pid_ = -1;
  }

private:
  pid_t pid_;
};

/// Blocks SIGPIPE in this thread while feeding the child, so a child that stops reading costs
/// an EPIPE, not the process (gostly-serve ignores SIGPIPE; a test binary may not). A SIGPIPE
/// raised meanwhile is consumed before the mask is restored.
class SigpipeBlock {
public:
  SigpipeBlock() {
    sigemptyset(&pipe_);
    sigaddset(&pipe_, SIGPIPE);
    pthread_sigmask(SIG_BLOCK, &pipe_, &old_);
  }
  ~SigpipeBlock() {
    timespec zero{};
    while (sigtimedwait(&pipe_, nullptr, &zero) == SIGPIPE) {
    }
    pthread_sigmask(SIG_SETMASK, &old_, nullptr);
  }
  SigpipeBlock(const SigpipeBlock&) = delete;
  SigpipeBlock& operator=(const SigpipeBlock&) = delete;

private:
  sigset_t pipe_, old_;
};

std::string after_error_prefix(const std::string& line) {
  // gostly tools print `gostly-<tool>: error: MESSAGE` (cli::run_tool).
  auto at = line.find(": error: ");
  return at == std::string::npos ? line : line.substr(at + 9);
}

std::string budget_flags(const char* flag, const char* env) {
  return std::string("(") + flag + ", env " + env + ")";
}

} // namespace

std::string describe_size(std::uint64_t bytes) {
  const char* units[] = {"bytes", "KiB", "MiB", "GiB", "TiB"};
  int unit = 0;
  while (unit < 4 && bytes >= 1024 && bytes % 1024 == 0) {
    bytes /= 1024;
    ++unit;
  }
  return std::to_string(bytes) + " " + units[unit];
}

std::string describe_duration(std::chrono::milliseconds duration) {
  auto ms = duration.count();
  std::string text = std::to_string(ms / 1000);
  if (ms % 1000) {
    char frac[8];
    std::snprintf(frac, sizeof frac, ".%03lld", static_cast<long long>(ms % 1000));
    std::string f = frac;
    while (f.back() == '0') f.pop_back();
    text += f;
  }
  return text + " s";
}

std::string WorkResult::last_stderr_line() const {
  std::string_view text = stderr_tail;
  while (!text.empty() && (text.back() == '\n' || text.back() == '\r')) text.remove_suffix(1);
  auto nl = text.rfind('\n');
  std::string line(nl == std::string_view::npos ? text : text.substr(nl + 1));
  if (!line.empty() && line.back() == '\r') line.pop_back();
  return line;
}

std::string signal_name(int signal) {
  switch (signal) {
  case SIGSEGV: return "SIGSEGV";
  case SIGBUS: return "SIGBUS";
  case SIGABRT: return "SIGABRT";
  case SIGFPE: return "SIGFPE";
  case SIGILL: return "SIGILL";
  case SIGKILL: return "SIGKILL";
  case SIGTERM: return "SIGTERM";
  case SIGXCPU: return "SIGXCPU";
  case SIGXFSZ: return "SIGXFSZ";
  case SIGPIPE: return "SIGPIPE";
  default: return "signal " + std::to_string(signal);
  }
}

std::filesystem::path sibling_tool(const std::string& name) {
  std::error_code ec;
  auto self = std::filesystem::read_symlink("/proc/self/exe", ec);
  if (ec) throw Error(std::string("cannot find the running binary (/proc/self/exe): ") + ec.message());
  auto tool = self.parent_path() / name;
  if (::access(tool.c_str(), X_OK) != 0)
    throw Error("cannot run " + tool.string() + ": " + std::strerror(errno) + " (" + name +
                " must be installed beside " + self.filename().string() + ")");
  return tool;
}

WorkResult run_work(const std::vector<std::string>& argv, std::string_view input, const LineHandler& on_line,
                    const WorkBudget& budget) {
  if (argv.empty()) throw Error("run_work: no command");
  if (::access(argv[0].c_str(), X_OK) != 0) throw Error("cannot run " + argv[0] + ": " + std::strerror(errno));
  std::vector<std::string> args = argv;
  std::vector<char*> arg_pointers;
  for (auto& arg : args) arg_pointers.push_back(arg.data());
  arg_pointers.push_back(nullptr);

  auto [in_read, in_write] = make_pipe();
  auto [out_read, out_write] = make_pipe();
  auto [err_read, err_write] = make_pipe();

  ChildSetup setup{};
  setup.path = args[0].c_str();
  setup.argv = arg_pointers.data();
  setup.envp = environ;
  setup.in = in_read.get();
  setup.out = out_write.get();
  setup.err = err_write.get();
  setup.memory = {static_cast<rlim_t>(budget.memory), static_cast<rlim_t>(budget.memory)};
  // CPU seconds as a second line of defence behind the wall clock (SIGXCPU, then SIGKILL).
  rlim_t cpu = static_cast<rlim_t>((budget.timeout.count() + 999) / 1000) + 1;
  setup.cpu = {cpu, cpu + 1};
  setup.core = {0, 0};
  sigemptyset(&setup.empty_mask);
  setup.default_action.sa_handler = SIG_DFL;
  sigemptyset(&setup.default_action.sa_mask);

  SigpipeBlock no_sigpipe;
  auto started = Clock::now();
  auto deadline = started + budget.timeout;
  pid_t pid = ::fork();
  if (pid < 0) throw Error(std::string("cannot start ") + args[0] + ": fork: " + std::strerror(errno));
  if (pid == 0) exec_child(setup);
  ChildGuard child(pid);
  in_read.close();
  out_write.close();
  err_write.close();
  set_nonblocking(in_write.get());
  set_nonblocking(out_read.get());
  set_nonblocking(err_read.get());

  WorkResult result;
  std::size_t written = 0;
  if (input.empty()) in_write.close();
  std::string line;
  std::string chunk(kChunk, '\0');
  bool killed = false;
  int status = 0;

  auto deliver = [&](std::string_view data) {
    std::size_t start = 0;
    while (true) {
      auto nl = data.find('\n', start);
      if (nl == std::string_view::npos) break;
      std::string_view piece = data.substr(start, nl - start);
      if (line.empty()) {
        if (on_line) on_line(piece);
      } else {
        line.append(piece);
        if (on_line) on_line(line);
        line.clear();
      }
      start = nl + 1;
    }
    line.append(data.substr(start));
  };

  while (out_read.open() || err_read.open()) {
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now()).count();
    if (left <= 0) {
      result.outcome = WorkResult::Outcome::timed_out;
      break;
    }
    pollfd fds[3];
    nfds_t count = 0;
    int in_index = -1, out_index = -1, err_index = -1;
    if (in_write.open()) {
      in_index = static_cast<int>(count);
      fds[count++] = {in_write.get(), POLLOUT, 0};
    }
    if (out_read.open()) {
      out_index = static_cast<int>(count);
      fds[count++] = {out_read.get(), POLLIN, 0};
    }
    if (err_read.open()) {
      err_index = static_cast<int>(count);
      fds[count++] = {err_read.get(), POLLIN, 0};
    }
    int ready = ::poll(fds, count, static_cast<int>(std::min<long long>(left + 1, 1000)));
    if (ready < 0) {
      if (errno == EINTR) continue;
      throw Error(std::string("poll: ") + std::strerror(errno));
    }
    if (ready == 0) continue;
    if (in_index >= 0 && fds[in_index].revents) {
      std::size_t n = std::min(kChunk, input.size() - written);
      ssize_t sent = ::write(in_write.get(), input.data() + written, n);
      if (sent > 0) written += static_cast<std::size_t>(sent);
      // EPIPE: the child stopped reading (it refused the input early); its status says why.
      if ((sent < 0 && errno != EAGAIN && errno != EINTR) || written == input.size()) in_write.close();
    }
    if (out_index >= 0 && fds[out_index].revents) {
      ssize_t n = ::read(out_read.get(), chunk.data(), chunk.size());
      if (n > 0) {
        deliver(std::string_view(chunk.data(), static_cast<std::size_t>(n)));
        if (line.size() > budget.memory) {
          result.outcome = WorkResult::Outcome::line_limit;
          break;
        }
      } else if (n == 0 || (errno != EAGAIN && errno != EINTR)) {
        out_read.close();
        if (!line.empty() && on_line) on_line(line);
        line.clear();
      }
    }
    if (err_index >= 0 && fds[err_index].revents) {
      ssize_t n = ::read(err_read.get(), chunk.data(), chunk.size());
      if (n > 0) {
        result.stderr_tail.append(chunk.data(), static_cast<std::size_t>(n));
        if (result.stderr_tail.size() > 2 * kStderrKeep) result.stderr_tail.erase(0, result.stderr_tail.size() - kStderrKeep);
      } else if (n == 0 || (errno != EAGAIN && errno != EINTR)) {
        err_read.close();
      }
    }
  }
  if (result.outcome == WorkResult::Outcome::exited) {
    // Both pipes closed: the child is exiting. Wait for it, still within the deadline.
    while (!child.try_reap(status)) {
      if (Clock::now() >= deadline) {
        result.outcome = WorkResult::Outcome::timed_out;
        break;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(2));
    }
  }
  if (result.outcome != WorkResult::Outcome::exited) {
    killed = true;
    child.kill_and_reap(status);
  }
  if (result.stderr_tail.size() > kStderrKeep) result.stderr_tail.erase(0, result.stderr_tail.size() - kStderrKeep);
  result.elapsed = std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - started);
  if (!killed) {
    if (WIFEXITED(status)) {
      result.exit_code = WEXITSTATUS(status);
    } else if (WIFSIGNALED(status)) {
      result.outcome = WorkResult::Outcome::signaled;
      result.signal = WTERMSIG(status);
    }
  }
  return result;
}

std::string describe_failure(const WorkResult& result, const WorkBudget& budget, const std::string& what,
                             int& status) {
  const std::string memory = "the memory budget of " + describe_size(budget.memory) + " " +
                             budget_flags("--work-memory", "GOSTLY_WORK_MEMORY");
  const std::string time = "the time budget of " + describe_duration(budget.timeout) + " " +
                           budget_flags("--work-timeout", "GOSTLY_WORK_TIMEOUT");
  std::string detail = after_error_prefix(result.last_stderr_line());
  status = 422;
  switch (result.outcome) {
  case WorkResult::Outcome::timed_out: return what + " ran past " + time + " and was stopped";
  case WorkResult::Outcome::line_limit: return what + " produced a record larger than " + memory + " and was stopped";
  case WorkResult::Outcome::signaled:
    if (result.signal == SIGXCPU) return what + " used more CPU time than " + time + " and was stopped";
    if (result.signal == SIGABRT && result.stderr_tail.find("bad_alloc") != std::string::npos)
      return what + " needed more than " + memory;
    status = 500;
    return what + " crashed (" + signal_name(result.signal) + ") on this input and was contained; the daemon is " +
           "unaffected (limits: " + memory + ", " + time + ")";
  case WorkResult::Outcome::exited:
    if (result.exit_code == 2) {
      if (detail == "out of memory") return what + " needed more than " + memory;
      return detail.empty() ? what + " refused the input" : detail;
    }
    status = 500;
    return what + " failed (exit status " + std::to_string(result.exit_code) + ")" +
           (detail.empty() ? std::string() : ": " + detail);
  }
  status = 500;
  return what + " failed";
}

void run_transition_work(const std::filesystem::path& data_dir, const WorkBudget& budget) {
  std::vector<std::string> argv{sibling_tool("gostly-transition").string(), "--data=" + data_dir.string(), "--json",
                                "--quiet", "--color=never"};
  std::string summary;
  auto result = run_work(argv, {}, [&](std::string_view line) { summary.assign(line); }, budget);
  if (!result.ok()) {
    int status = 0;
    throw Error(describe_failure(result, budget, "the transition run (gostly-transition)", status));
  }
  try {
    auto out = nlohmann::json::parse(summary);
    spdlog::info("transition run: {} records read, {} added, {} duplicates ({} ms)", out.value("records_read", 0),
                 out.value("added", 0), out.value("duplicates", 0), result.elapsed.count());
  } catch (const nlohmann::json::exception&) {
    spdlog::info("transition run done ({} ms)", result.elapsed.count());
  }
}

} // namespace gostly::serve
