#pragma once
// Hot reload across processes and machines: a LibraryWatcher runs on its own thread and asks the
// engine to reload when the store changed under it. Two kinds behind one interface:
//
//   PostgreSQL  its own connection (store::ChangeListener) LISTENs on store::kLibraryChannel
//               (payload: a service id); ids arriving within a short window are reloaded
//               together. A lost connection is retried with exponential backoff. After every
//               (re)connect, and every poll interval as a safety net (notifications sent while
//               it was down are lost), the store's change_marker() is compared with the one the
//               engine loaded, and a difference reloads everything.
//   SQLite      no notifications across processes: every poll interval two stat() calls (the
//               file and its -wal, where WAL commits land) and only when either moved, a
//               change_marker() compare. A running gostly-serve thus picks up a gostly-transition
//               run by another process, and an idle store costs no database work at all.
//
// Reloads use the engine's lock-free library swap, so requests are never held up; a store that
// is down only means the library in memory stays as it is. Settings (environment):
//   GOSTLY_STORE_POLL_SECONDS            poll interval (SQLite: 1, PostgreSQL safety net: 5)
//   GOSTLY_STORE_RECONNECT_SECONDS       first reconnect delay (0.25), doubling ...
//   GOSTLY_STORE_RECONNECT_MAX_SECONDS   ... up to this cap (30)
#include "store/location.hpp"

namespace gostly::store {
class LibraryDb;
}

#include <array>
#include <chrono>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <vector>

namespace gostly::serve {

using WatchClock = std::chrono::steady_clock;

/// What stat() says of a file: it moves on an edit in place (time, size) and on a replacement
/// (inode). mode.txt and the SQLite library are watched this way.
struct FileStamp {
  std::int64_t sec = 0, nsec = 0, size = -1, inode = 0;
  bool operator==(const FileStamp&) const = default;
  /// nullopt when the file cannot be stat()ed (it does not exist).
  static std::optional<FileStamp> of(const std::filesystem::path& path);
};

/// Why a library was reloaded (gostly_library_reloads_total{trigger}).
enum class ReloadTrigger { notify, poll, control, count_ };
std::string_view label(ReloadTrigger trigger) noexcept;

/// Reconnect delays: `first`, doubling on every failure up to `cap`; reset() after a success.
class Backoff {
public:
  Backoff(std::chrono::milliseconds first, std::chrono::milliseconds cap) : first_(first), cap_(cap), next_(first) {}
  /// The delay before the next attempt (and the one after it doubles).
  std::chrono::milliseconds next();
  void reset() { next_ = first_; }

private:
  std::chrono::milliseconds first_, cap_, next_;
};

/// Service ids from notifications, collected for `window` after the first one, so a burst (one
/// transition touching many services, several transitions in a row) is one reload per service.
class Coalescer {
public:
  explicit Coalescer(std::chrono::milliseconds window) : window_(window) {}
  void add(std::string id, WatchClock::time_point now);
  /// When take() is due (nothing pending: none).
  std::optional<WatchClock::time_point> deadline() const;
  bool due(WatchClock::time_point now) const { return deadline() && now >= *deadline(); }
  /// The pending ids, sorted and distinct; empties the collection.
  std::vector<std::string> take();

private:
  std::chrono::milliseconds window_;
  std::set<std::string> ids_;
  std::optional<WatchClock::time_point> first_;
};

struct WatchSettings {
  std::chrono::milliseconds poll{5000};
  std::chrono::milliseconds reconnect_first{250};
  std::chrono::milliseconds reconnect_max{30000};
  std::chrono::milliseconds coalesce{50};
  /// The environment's settings (see the top of this file); UsageError naming the variable for
  /// a value that is not a positive number of seconds.
  static WatchSettings from_environment(store::Engine engine);
};

/// The store as /healthz and /metrics show it. Written by the watcher and by reloads, read by the
/// control API; never touched on the request path, so a mutex is fine.
class StoreHealth {
public:
  struct Snapshot {
    std::string engine;
    std::string name; // never the password
    bool connected = false;
    bool listening = false;
    std::string last_error;
    std::string last_reload_at; // ISO 8601, empty before the first
    std::uint64_t reconnects = 0;
    std::array<std::uint64_t, static_cast<std::size_t>(ReloadTrigger::count_)> reloads{};
  };
  StoreHealth(const store::StoreLocation& location);
  void set_connected(bool connected, bool listening);
  void set_error(std::string message);
  void note_reconnect();
  void note_reload(ReloadTrigger trigger);
  bool connected() const;
  Snapshot snapshot() const;
  /// gostly_store_connected, gostly_store_reconnects_total, gostly_library_reloads_total.
  std::string prometheus() const;

private:
  mutable std::mutex mutex_;
  Snapshot state_;
};

/// What a watcher asks of the engine, from the watcher's thread. `connection` is the watcher's
/// own open connection (no new login per reload), or null; the reloads return false when the
/// store could not be read.
struct ReloadTarget {
  /// The change_marker() the engine's library was loaded at ("" before any load).
  std::function<std::string()> loaded_marker;
  /// Reloads these services (a notification named them).
  std::function<bool(const std::vector<std::string>& ids, store::LibraryDb* connection)> reload_services;
  /// Reloads everything (the marker moved).
  std::function<bool(store::LibraryDb* connection)> reload_all;
};

class LibraryWatcher {
public:
  virtual ~LibraryWatcher() = default; // stops the thread and joins it (promptly: within ~a poll() wake-up)
  /// The watcher for `location`'s engine, already running.
  static std::unique_ptr<LibraryWatcher> start(const store::StoreLocation& location, StoreHealth& health,
                                               ReloadTarget target, WatchSettings settings);
};

} // namespace gostly::serve
