// LibraryWatcher: LISTEN/NOTIFY (PostgreSQL) or stat-gated polling (SQLite); see library_watch.hpp.
#include "serve/library_watch.hpp"

#include "store/change_listener.hpp"
#include "store/library_db.hpp"
#include "store/postgres_sql.hpp"
#include "store/sql.hpp"
#include "util/error.hpp"
#include "util/time.hpp"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <cmath>
#include <cstdlib>
#include <fcntl.h>
#include <poll.h>
#include <sys/stat.h>
#include <thread>
#include <unistd.h>

namespace gostly::serve {

using namespace std::chrono_literals;
using std::chrono::milliseconds;

std::optional<FileStamp> FileStamp::of(const std::filesystem::path& path) {
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0) return std::nullopt;
  return FileStamp{static_cast<std::int64_t>(st.st_mtim.tv_sec), static_cast<std::int64_t>(st.st_mtim.tv_nsec),
                   static_cast<std::int64_t>(st.st_size), static_cast<std::int64_t>(st.st_ino)};
}

std::string_view label(ReloadTrigger trigger) noexcept {
  switch (trigger) {
  case ReloadTrigger::notify: return "notify";
  case ReloadTrigger::poll: return "poll";
  case ReloadTrigger::control: return "control";
  case ReloadTrigger::count_: break;
  }
  return "?";
}

milliseconds Backoff::next() {
  milliseconds now = next_;
  next_ = std::min(cap_, next_ * 2);
  return std::min(now, cap_);
}

void Coalescer::add(std::string id, WatchClock::time_point now) {
  if (!first_) first_ = now;
  ids_.insert(std::move(id));
}

std::optional<WatchClock::time_point> Coalescer::deadline() const {
  if (!first_) return std::nullopt;
  return *first_ + window_;
}

std::vector<std::string> Coalescer::take() {
  std::vector<std::string> out(ids_.begin(), ids_.end());
  ids_.clear();
  first_.reset();
  return out;
}

namespace {

milliseconds seconds_from_env(const char* name, milliseconds fallback) {
  const char* text = std::getenv(name);
  if (!text || !*text) return fallback;
  char* end = nullptr;
  errno = 0;
  double value = std::strtod(text, &end);
  if (errno != 0 || end == text || *end != '\0' || !std::isfinite(value) || value <= 0 || value > 86400)
    throw UsageError(std::string(name) + " '" + text + "': expected a number of seconds above 0 and at most 86400");
  return std::max(milliseconds(1), milliseconds(static_cast<std::int64_t>(value * 1000)));
}

} // namespace

WatchSettings WatchSettings::from_environment(store::Engine engine) {
  WatchSettings s;
  // SQLite's poll is two stat() calls, so it can be frequent; PostgreSQL's is a safety net
  // behind NOTIFY and a query on the server, so it is not.
  s.poll = seconds_from_env("GOSTLY_STORE_POLL_SECONDS", engine == store::Engine::sqlite ? 1000ms : 5000ms);
  s.reconnect_first = seconds_from_env("GOSTLY_STORE_RECONNECT_SECONDS", 250ms);
  s.reconnect_max = seconds_from_env("GOSTLY_STORE_RECONNECT_MAX_SECONDS", 30000ms);
  s.reconnect_first = std::min(s.reconnect_first, s.reconnect_max);
  return s;
}

// ---- StoreHealth ----

StoreHealth::StoreHealth(const store::StoreLocation& location) {
  state_.engine = location.is_sqlite() ? "sqlite" : "postgres";
  state_.name = location.name();
  state_.connected = location.is_sqlite(); // a local file is there unless opening it fails
}

void StoreHealth::set_connected(bool connected, bool listening) {
  std::lock_guard lock(mutex_);
  state_.connected = connected;
  state_.listening = listening;
}

void StoreHealth::set_error(std::string message) {
  std::lock_guard lock(mutex_);
  state_.last_error = std::move(message);
}

void StoreHealth::note_reconnect() {
  std::lock_guard lock(mutex_);
  ++state_.reconnects;
}

void StoreHealth::note_reload(ReloadTrigger trigger) {
  auto at = util::now_iso8601();
  std::lock_guard lock(mutex_);
  ++state_.reloads[static_cast<std::size_t>(trigger)];
  state_.last_reload_at = std::move(at);
}

bool StoreHealth::connected() const {
  std::lock_guard lock(mutex_);
  return state_.connected;
}

StoreHealth::Snapshot StoreHealth::snapshot() const {
  std::lock_guard lock(mutex_);
  return state_;
}

std::string StoreHealth::prometheus() const {
  Snapshot s = snapshot();
  std::string out;
  out += "# HELP gostly_store_connected Whether the library store answers (PostgreSQL: the LISTEN connection is up).\n"
         "# TYPE gostly_store_connected gauge\n"
         "gostly_store_connected " + std::string(s.connected ? "1" : "0") + "\n";
  out += "# HELP gostly_store_reconnects_total Connections to the store re-established after it was lost.\n"
         "# TYPE gostly_store_reconnects_total counter\n"
         "gostly_store_reconnects_total " + std::to_string(s.reconnects) + "\n";
  out += "# HELP gostly_library_reloads_total Library reloads after the start, by what caused them.\n"
         "# TYPE gostly_library_reloads_total counter\n";
  for (std::size_t i = 0; i < s.reloads.size(); ++i)
    out += "gostly_library_reloads_total{trigger=\"" + std::string(label(static_cast<ReloadTrigger>(i))) + "\"} " +
           std::to_string(s.reloads[i]) + "\n";
  return out;
}

// ---- the watchers ----

namespace {

/// The thread, its stop pipe and the marker compare both kinds share.
class WatcherBase : public LibraryWatcher {
public:
  WatcherBase(const store::StoreLocation& location, StoreHealth& health, ReloadTarget target, WatchSettings settings)
      : location_(location), health_(health), target_(std::move(target)), settings_(settings) {
    if (::pipe2(stop_pipe_, O_CLOEXEC | O_NONBLOCK) != 0) throw Error("cannot create the library watcher's pipe");
  }
  ~WatcherBase() override {
    stop();
    ::close(stop_pipe_[0]);
    ::close(stop_pipe_[1]);
  }
  /// Wakes the thread and joins it; derived destructors call it before their members go.
  void stop() {
    if (!thread_.joinable()) return;
    char byte = 1;
    [[maybe_unused]] auto ignored = ::write(stop_pipe_[1], &byte, 1);
    thread_.join();
  }
  void run_thread() {
    thread_ = std::thread([this] {
      try {
        run();
      } catch (const std::exception& e) { // never takes the server down: the library in memory stays
        spdlog::error("library watcher stopped: {}", e.what());
      }
    });
  }

protected:
  virtual void run() = 0;

  /// Waits until `deadline` or until `fd` (if >= 0) is ready for `events`; false when asked to stop.
  bool wait(WatchClock::time_point deadline, int fd, bool& readable, short events = POLLIN) {
    readable = false;
    auto left = std::chrono::duration_cast<milliseconds>(deadline - WatchClock::now());
    int timeout = static_cast<int>(std::clamp<std::int64_t>(left.count() + 1, 0, 60000));
    pollfd fds[2] = {{stop_pipe_[0], POLLIN, 0}, {fd, events, 0}};
    int n = ::poll(fds, fd >= 0 ? 2 : 1, timeout);
    if (n < 0 && errno != EINTR) throw Error("library watcher: poll() failed");
    if (n > 0 && (fds[0].revents & POLLIN)) return false;
    readable = n > 0 && fd >= 0 && (fds[1].revents & (events | POLLERR | POLLHUP));
    return true;
  }

  /// Compares the store's change marker with the one the engine loaded; a difference reloads
  /// everything. False when the store could not be read (the error is in health_), so the caller
  /// tries again.
  bool compare_marker() {
    try {
      std::string marker;
      try {
        if (!poll_db_) poll_db_ = std::make_unique<store::LibraryDb>(location_);
        marker = poll_db_->change_marker();
      } catch (const store::sql::UnavailableError&) {
        // The kept connection may have died since its last use (a restarted server): one
        // retry on a fresh one before calling the store down.
        poll_db_ = std::make_unique<store::LibraryDb>(location_);
        marker = poll_db_->change_marker();
      }
      if (failed_attempts_ > 0) {
        spdlog::info("library watcher: {} readable again (after {} failed attempt(s))", location_.name(),
                     failed_attempts_);
        failed_attempts_ = 0;
      }
      if (marker != target_.loaded_marker()) {
        spdlog::info("{} changed (marker {}): reloading every library", location_.name(), marker);
        if (target_.reload_all(poll_db_.get())) return true;
        poll_db_.reset(); // it may be what failed
        return false;
      }
      return true;
    } catch (const std::exception& e) {
      poll_db_.reset();
      health_.set_error(e.what());
      // Retried every poll for as long as it lasts: warned once per episode (the reason may
      // alternate, e.g. which file ran out of descriptors), the rest at debug level.
      if (failed_attempts_++ == 0) spdlog::warn("library watcher: {} (retrying)", e.what());
      else spdlog::debug("library watcher: {}", e.what());
      return false;
    }
  }

  store::StoreLocation location_;
  StoreHealth& health_;
  ReloadTarget target_;
  WatchSettings settings_;
  std::unique_ptr<store::LibraryDb> poll_db_;
  unsigned failed_attempts_ = 0; // of compare_marker() since it last succeeded

private:
  int stop_pipe_[2] = {-1, -1};
  std::thread thread_;
};

// SQLite: stat() the file and its WAL every poll interval; only when either moved, compare the
// change marker (PRAGMA data_version would need a connection held open for ever, and a stat is
// cheaper still). The connection is closed again: an idle server holds no lock or file open.
class SqliteWatcher final : public WatcherBase {
public:
  using WatcherBase::WatcherBase;
  ~SqliteWatcher() override { stop(); }

private:
  void run() override {
    const std::string file = location_.file().string();
    // The -wal is where WAL commits land; the file itself moves on a checkpoint or a rollback-
    // journal write. A missing file is FileStamp{} (size -1).
    std::pair<FileStamp, FileStamp> seen{{0, 0, -2, 0}, {}}; // never a real stamp: the first round compares
    for (;;) {
      bool readable = false;
      if (!wait(WatchClock::now() + settings_.poll, -1, readable)) return;
      std::pair<FileStamp, FileStamp> now{FileStamp::of(file).value_or(FileStamp{}),
                                          FileStamp::of(file + "-wal").value_or(FileStamp{})};
      if (now == seen) continue;
      if (now.first.size < 0) { // no library.db (yet, or any more): nothing to load
        seen = now;
        continue;
      }
      bool ok = compare_marker();
      poll_db_.reset();
      health_.set_connected(ok, false);
      if (ok) seen = now; // else retried next round
    }
  }
};

// PostgreSQL: a connection of its own that LISTENs (store::ChangeListener); see library_watch.hpp.
class PostgresWatcher final : public WatcherBase {
public:
  using WatcherBase::WatcherBase;
  ~PostgresWatcher() override {
    stop(); // the thread uses listener_: gone first
  }

private:
  void run() override;
  bool connect(); // false when asked to stop
  void drop(const store::ChangeListener::Lost& lost) {
    listener_.reset();
    poll_db_.reset(); // most likely gone too
    health_.set_connected(false, false);
    health_.set_error(lost.reason());
    spdlog::warn("{}", lost.what()); // "store NAME: LISTEN connection lost: REASON"
  }

  std::unique_ptr<store::ChangeListener> listener_;
  bool was_connected_ = false;
};

bool PostgresWatcher::connect() {
  // The connect waits in wait(), so stop() interrupts it even on a host that never answers.
  listener_ = store::ChangeListener::connect(
      location_, store::sql::program_name() + " library watcher",
      [this](int socket, bool write, WatchClock::time_point deadline) {
        bool ready = false;
        if (!wait(deadline, socket, ready, write ? POLLOUT : POLLIN)) return store::ChangeListener::Waited::stop;
        return ready ? store::ChangeListener::Waited::ready : store::ChangeListener::Waited::idle;
      });
  return listener_ != nullptr;
}

void PostgresWatcher::run() {
  Backoff backoff(settings_.reconnect_first, settings_.reconnect_max);
  Coalescer pending(settings_.coalesce);
  auto next_connect = WatchClock::now();
  auto next_poll = WatchClock::now() + settings_.poll;
  for (;;) {
    auto now = WatchClock::now();
    if (!listener_ && now >= next_connect) {
      try {
        if (!connect()) return;
        backoff.reset();
        health_.set_connected(true, true);
        if (was_connected_) {
          health_.note_reconnect();
          spdlog::info("store {}: LISTEN connection re-established", location_.name());
        }
        was_connected_ = true;
        // Whatever was committed while nobody listened: compare now, not at the next poll.
        compare_marker();
        next_poll = WatchClock::now() + settings_.poll;
      } catch (const std::exception& e) {
        health_.set_connected(false, false);
        health_.set_error(e.what());
        auto delay = backoff.next();
        spdlog::warn("{} (retrying in {} ms)", e.what(), delay.count());
        next_connect = WatchClock::now() + delay;
      }
      now = WatchClock::now();
    }
    if (now >= next_poll) {
      // The safety net: notifications can be lost (a reconnect in between, a pooler that
      // drops LISTEN), the marker cannot.
      compare_marker();
      next_poll = WatchClock::now() + settings_.poll;
    }
    if (pending.due(now)) {
      auto ids = pending.take();
      spdlog::info("store {}: {} service(s) changed: reloading them", location_.name(), ids.size());
      try {
        if (!poll_db_) poll_db_ = std::make_unique<store::LibraryDb>(location_);
      } catch (const std::exception&) {
        // the reload opens its own, and reports the failure
      }
      // A failed reload leaves the marker behind, so the next poll compare loads it all.
      if (!target_.reload_services(ids, poll_db_.get())) poll_db_.reset();
    }
    auto deadline = next_poll;
    if (auto d = pending.deadline()) deadline = std::min(deadline, *d);
    if (!listener_) deadline = std::min(deadline, next_connect);
    bool readable = false;
    if (!wait(deadline, listener_ ? listener_->socket() : -1, readable)) return;
    if (!readable || !listener_) continue;
    std::vector<std::string> ids;
    try {
      ids = listener_->drain();
    } catch (const store::ChangeListener::Lost& e) {
      drop(e);
      next_connect = WatchClock::now(); // the first retry at once, then backoff
      continue;
    }
    for (auto& id : ids)
      if (!id.empty()) pending.add(std::move(id), WatchClock::now());
  }
}

} // namespace

std::unique_ptr<LibraryWatcher> LibraryWatcher::start(const store::StoreLocation& location, StoreHealth& health,
                                                      ReloadTarget target, WatchSettings settings) {
  std::unique_ptr<WatcherBase> watcher;
  if (location.is_sqlite()) watcher = std::make_unique<SqliteWatcher>(location, health, std::move(target), settings);
  else watcher = std::make_unique<PostgresWatcher>(location, health, std::move(target), settings);
  watcher->run_thread();
  return watcher;
}

} // namespace gostly::serve
