// The LISTEN connection of a PostgreSQL store (store/change_listener.hpp), over libpq.
#include "store/change_listener.hpp"

#include "store/library_db.hpp"
#include "store/location.hpp"
#include "store/postgres_sql.hpp"
#include "util/error.hpp"

#include <libpq-fe.h>

namespace gostly::store {

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
  auto deadline = Clock::now() + kConnectTimeout;
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
                             : "timed out after " + std::to_string(kConnectTimeout.count()) + " s";
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
