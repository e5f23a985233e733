// The LISTEN connection of a PostgreSQL store (store/change_listener.hpp), over libpq.
#include "store/change_listener.hpp"

#include "store/library_db.hpp"
#include "store/location.hpp"
#include "store/postgres_sql.hpp"
#include "util/error.hpp"

#include <libpq-fe.h>

#include <algorithm>
#include <cstdlib>
#include <string_view>

namespace gostly::store {

namespace {

// The connect_timeout libpq settled on (the connection string, PGCONNECT_TIMEOUT or ConnectParams'
// default), as libpq reads it: at least 2 s; 0 or unparseable = the default here, since a
// listener that waits for ever would never reconnect.
std::chrono::seconds connect_timeout(PGconn* conn) {
  long seconds = 0;
  if (PQconninfoOption* options = PQconninfo(conn)) {
    for (auto* o = options; o->keyword; ++o)
      if (std::string_view(o->keyword) == "connect_timeout" && o->val) seconds = std::strtol(o->val, nullptr, 10);
    PQconninfoFree(options);
  }
  if (seconds <= 0 || seconds > 86400) return ChangeListener::kConnectTimeout;
  return std::chrono::seconds(std::max(seconds, 2L));
}

} // namespace

std::unique_ptr<ChangeListener> ChangeListener::connect(const StoreLocation& location, const std::string& application,
                                                        const Waiter& wait) {
  if (location.is_sqlite())
    throw Error("store " + location.name() + ": SQLite sends no change notifications to listen for");
  const std::string& name = location.name();
  // Keepalives and a name in pg_stat_activity (store/postgres_sql.hpp); the connect timeout is
  // this loop's own deadline, since PQconnectPoll does not enforce connect_timeout.
  sql::ConnectParams params(location.conninfo(), application);
  PGconn* conn = PQconnectStartParams(params.keys(), params.values(), 1);
  if (!conn) throw sql::UnavailableError("store " + name + ": cannot connect: out of memory");
  auto timeout = connect_timeout(conn);
  auto deadline = Clock::now() + timeout;
  PostgresPollingStatusType status = PGRES_POLLING_WRITING;
  while (PQstatus(conn) != CONNECTION_BAD && status != PGRES_POLLING_OK && status != PGRES_POLLING_FAILED) {
    Waited waited = wait(PQsocket(conn), status == PGRES_POLLING_WRITING, deadline);
    if (waited == Waited::stop) {
      PQfinish(conn);
      return nullptr;
    }
    if (Clock::now() >= deadline) break;
    if (waited == Waited::ready) status = PQconnectPoll(conn);
  }
  if (PQstatus(conn) != CONNECTION_OK) {
    std::string reason = PQstatus(conn) == CONNECTION_BAD
                             ? sql::libpq_message(PQerrorMessage(conn))
                             : "timed out after " + std::to_string(timeout.count()) + " s";
    PQfinish(conn);
    throw sql::UnavailableError("store " + name + ": cannot connect: " + reason);
  }
  std::string listen = std::string("LISTEN ") + kLibraryChannel;
  PGresult* result = PQexec(conn, listen.c_str());
  bool ok = PQresultStatus(result) == PGRES_COMMAND_OK;
  std::string reason = ok ? "" : sql::libpq_message(result ? PQresultErrorMessage(result) : PQerrorMessage(conn));
  PQclear(result);
  if (!ok) {
    bool lost = PQstatus(conn) != CONNECTION_OK;
    PQfinish(conn);
    std::string what = "store " + name + ": LISTEN " + kLibraryChannel + ": " + reason;
    if (lost) throw sql::UnavailableError(what);
    throw Error(what);
  }
  PQsetnonblocking(conn, 1);
  return std::unique_ptr<ChangeListener>(new ChangeListener(conn, name));
}

ChangeListener::~ChangeListener() { PQfinish(conn_); }

int ChangeListener::socket() const noexcept { return PQsocket(conn_); }

int ChangeListener::backend_pid() const noexcept { return PQbackendPID(conn_); }

std::vector<std::string> ChangeListener::drain() {
  if (!PQconsumeInput(conn_) || PQstatus(conn_) != CONNECTION_OK) throw Lost(name_, sql::libpq_message(PQerrorMessage(conn_)));
  std::vector<std::string> payloads;
  while (PGnotify* note = PQnotifies(conn_)) {
    payloads.emplace_back(note->extra ? note->extra : "");
    PQfreemem(note);
  }
  return payloads;
}

} // namespace gostly::store
