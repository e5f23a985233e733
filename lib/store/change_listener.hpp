#pragma once
// The LISTEN side of a shared store's change notifications: a connection of its own that LISTENs
// on kLibraryChannel (store/library_db.hpp), whose NOTIFY payloads are the ids of the services a
// committed transaction changed. PostgreSQL only: SQLite has no notifications across processes
// (its readers stat() the file instead; see serve/library_watch.hpp), and connect() refuses it.
//
// The connect is non-blocking and driven by the caller's Waiter, so a caller with other things to
// wait for (a stop request) can abandon it at any point, even on a host that accepted TCP and
// never answers. Afterwards the caller polls socket() for input and calls drain(). The libpq
// client stays inside lib/store: an includer sees no libpq header.
#include "store/postgres_sql.hpp"
#include "store/sql.hpp"

#include <chrono>
#include <functional>
#include <memory>
#include <string>
#include <vector>

struct pg_conn; // libpq's PGconn

namespace gostly::store {

class StoreLocation;

class ChangeListener {
public:
  using Clock = std::chrono::steady_clock;
  /// What a Waiter saw: `socket` ready, nothing yet (the deadline passed, a signal), or a request
  /// to abandon the connect.
  enum class Waited { ready, idle, stop };
  /// Waits until `socket` is ready (for writing when `write`, else for reading) or `deadline`.
  using Waiter = std::function<Waited(int socket, bool write, Clock::time_point deadline)>;
  /// How long connect() waits for the server when connect_timeout (in the connection string or
  /// PGCONNECT_TIMEOUT) is unset or 0: libpq's non-blocking connect does not enforce it, so
  /// connect() keeps its own deadline, from connect_timeout when given.
  static constexpr std::chrono::seconds kConnectTimeout{sql::ConnectParams::kDefaultConnectTimeoutSeconds};

  /// The LISTEN connection was lost: what() names the store (never its password), reason() is
  /// libpq's message alone.
  class Lost : public sql::UnavailableError {
  public:
    Lost(const std::string& store, std::string reason)
        : sql::UnavailableError("store " + store + ": LISTEN connection lost: " + reason), reason_(std::move(reason)) {}
    const std::string& reason() const noexcept { return reason_; }

  private:
    std::string reason_;
  };

  /// Connects to `location` (keepalives and `application` as in sql::ConnectParams) and LISTENs,
  /// waiting through `wait` only. nullptr when `wait` said stop (the half-open connection is
  /// closed); sql::UnavailableError naming the store when the server refused or did not answer
  /// within its connect timeout; gostly::Error when LISTEN failed or `location` is SQLite.
  static std::unique_ptr<ChangeListener> connect(const StoreLocation& location, const std::string& application,
                                                 const Waiter& wait);

  ~ChangeListener(); // closes the connection
  ChangeListener(const ChangeListener&) = delete;
  ChangeListener& operator=(const ChangeListener&) = delete;

  /// The connection's socket: poll() it for input, then drain().
  int socket() const noexcept;
  /// The server process of this connection (pg_terminate_backend, pg_stat_activity.pid).
  int backend_pid() const noexcept;
  /// The store, as messages name it (no password).
  const std::string& name() const noexcept { return name_; }
  /// Reads what arrived and returns the payloads of the notifications received, oldest first
  /// (none when the input held none); Lost when the connection is gone.
  std::vector<std::string> drain();

private:
  ChangeListener(pg_conn* conn, std::string name) : conn_(conn), name_(std::move(name)) {}

  pg_conn* conn_;
  std::string name_;
};

} // namespace gostly::store
