#pragma once
// How the PostgreSQL engine (store/postgres.cpp) reads the SQL every domain writes once for both
// engines (store/sql.hpp); a header of its own so it can be unit-tested without a server.
#include <string>
#include <string_view>
#include <vector>

namespace gostly::store::sql {

/// `?` and `?N` placeholders (SQLite's) as `$N` (PostgreSQL's); a bare `?` takes the largest
/// number so far plus one, as in SQLite. Quoted text, quoted identifiers, `--` and `/* */`
/// comments are left alone. PostgreSQL cannot type a parameter the statement never uses, while
/// SQLite leaves it NULL, so the numbers used are renumbered densely: `positions[i]` is the
/// 0-based slot of bind index i+1 among the values sent, or -1 when the statement does not use it.
std::string to_dollar_placeholders(std::string_view sql, std::vector<int>& positions);

/// A libpq message (PQerrorMessage, PQresultErrorMessage, a notice) without its trailing newline.
std::string libpq_message(const char* message);

/// The keyword/value arrays for PQconnectdbParams / PQconnectStartParams (expand_dbname = 1):
/// gostly's defaults first, then the user's connection string as `dbname`, so whatever the user
/// set there wins. The defaults: TCP keepalives (a long-lived connection notices a network that
/// died silently), a 10 s connect timeout unless PGCONNECT_TIMEOUT says otherwise (libpq waits
/// for ever on a black-holed host, and a cron job would too), and the program as
/// fallback_application_name, so pg_stat_activity shows who holds the writer lock.
class ConnectParams {
public:
  /// The connect timeout when neither the connection string nor PGCONNECT_TIMEOUT sets one.
  static constexpr int kDefaultConnectTimeoutSeconds = 10;

  ConnectParams(const std::string& conninfo, std::string application);
  const char* const* keys() const noexcept { return keys_.data(); }
  const char* const* values() const noexcept { return values_.data(); }

private:
  std::string application_;
  std::string default_timeout_ = std::to_string(kDefaultConnectTimeoutSeconds);
  std::vector<const char*> keys_;
  std::vector<const char*> values_;
};

/// This program's name (argv[0] without its directory), for ConnectParams.
std::string program_name();

} // namespace gostly::store::sql
