// The PostgreSQL engine's own guarantees: placeholder translation, and a password that never
// reaches a name, a message or an error. The pure ones need no server; those tagged [engines]
// also talk to the test server when GOSTLY_TEST_STORE is set (ctest's `postgres: test_store`).
#include "store/location.hpp"
#include "store/postgres_sql.hpp"
#include "store/sql.hpp"
#include "util/error.hpp"

#include "../support/engine_store.hpp"
#include "../support/scoped_env.hpp"

#include <catch2/catch.hpp>
#include <algorithm>
#include <cstdlib>
#include <libpq-fe.h>
#include <map>
#include <optional>

using namespace gostly;

namespace {

// `parameters`: how many values the statement is sent (the distinct numbers it uses).
std::string dollars(std::string_view sql, int* parameters = nullptr, std::vector<int>* positions = nullptr) {
  std::vector<int> slots;
  std::string out = store::sql::to_dollar_placeholders(sql, slots);
  if (parameters) *parameters = static_cast<int>(std::count_if(slots.begin(), slots.end(), [](int p) { return p >= 0; }));
  if (positions) *positions = slots;
  return out;
}

std::string name_of(const std::string& value) { return store::StoreLocation::parse(value, "unused.db").name(); }

std::string connect_error(const std::string& conninfo) {
  try {
    store::sql::open_postgres(conninfo);
  } catch (const std::exception& e) {
    return e.what();
  }
  return "(connected)";
}

} // namespace

TEST_CASE("store::sql::to_dollar_placeholders: ? and ?N become $N, numbered as SQLite numbers them", "[store][postgres]") {
  int n = 0;
  CHECK(dollars("SELECT 1", &n) == "SELECT 1");
  CHECK(n == 0);
  CHECK(dollars("INSERT INTO t VALUES(?, ?, ?)", &n) == "INSERT INTO t VALUES($1, $2, $3)");
  CHECK(n == 3);
  CHECK(dollars("VALUES(?1, NULL, ?2, ?2)", &n) == "VALUES($1, NULL, $2, $2)");
  CHECK(n == 2);
  std::vector<int> positions;
  // A bare ? follows the largest; numbers the statement never uses are dropped (PostgreSQL cannot
  // type them), the rest renumbered densely.
  CHECK(dollars("WHERE a = ?10 AND b = ?", &n, &positions) == "WHERE a = $1 AND b = $2");
  CHECK(n == 2);
  CHECK(positions == std::vector<int>{-1, -1, -1, -1, -1, -1, -1, -1, -1, 0, 1});
  CHECK(dollars("WHERE s = ?1 AND (?3 = 0 OR x = 'learn')", &n, &positions) == "WHERE s = $1 AND ($2 = 0 OR x = 'learn')");
  CHECK(n == 2);
  CHECK(positions == std::vector<int>{0, -1, 1});
  CHECK(dollars("WHERE id = (SELECT x FROM t WHERE id = ?2) OR id = ?1") ==
        "WHERE id = (SELECT x FROM t WHERE id = $2) OR id = $1");
}

TEST_CASE("store::sql::to_dollar_placeholders: quoted text, identifiers and comments are left alone", "[store][postgres]") {
  int n = 0;
  CHECK(dollars("SELECT '?', 'it''s ?1', ? FROM t", &n) == "SELECT '?', 'it''s ?1', $1 FROM t");
  CHECK(n == 1);
  CHECK(dollars(R"(SELECT "col?" FROM "t""?" WHERE x = ?)", &n) == R"(SELECT "col?" FROM "t""?" WHERE x = $1)");
  CHECK(n == 1);
  CHECK(dollars("SELECT ? -- what is ?2? it's\nFROM t WHERE y = ?", &n) ==
        "SELECT $1 -- what is ?2? it's\nFROM t WHERE y = $2");
  CHECK(n == 2);
  CHECK(dollars("SELECT 1 -- trailing ?", &n) == "SELECT 1 -- trailing ?");
  CHECK(n == 0);
  CHECK(dollars("SELECT /* don't ?3 */ ? FROM t", &n) == "SELECT /* don't ?3 */ $1 FROM t");
  CHECK(n == 1);
  CHECK(dollars("SELECT 10 - ?", &n) == "SELECT 10 - $1"); // one minus is no comment
  CHECK(n == 1);
  CHECK(dollars("SELECT 'unterminated ?", &n) == "SELECT 'unterminated ?");
  CHECK(n == 0);
}

TEST_CASE("store::StoreLocation: the name of a PostgreSQL store never keeps its password", "[store][postgres]") {
  CHECK(name_of("postgresql://ana:s3cret@db.internal:5432/gostly?sslmode=require") ==
        "postgresql://ana@db.internal:5432/gostly?sslmode=require");
  CHECK(name_of("postgres://ana:s3cret@db/gostly") == "postgresql://ana@db/gostly");
  CHECK(name_of("postgresql://ana@db/gostly?password=s3cret&sslmode=require") ==
        "postgresql://ana@db/gostly?sslmode=require");
  CHECK(name_of("postgresql://ana:s3%40cret@[::1]:5433/gostly") == "postgresql://ana@[::1]:5433/gostly");
  CHECK(name_of("host=db dbname=gostly user=ana password=s3cret") == "host=db dbname=gostly user=ana");
  CHECK(name_of("password='s3 cret' host=db dbname=gostly sslmode=verify-full") ==
        "host=db dbname=gostly sslmode=verify-full");
  for (const char* value : {"postgresql://ana:s3cret@db/gostly", "postgresql://ana@db/gostly?password=s3cret",
                            "host=db password=s3cret dbname=gostly"}) {
    auto location = store::StoreLocation::parse(value, "unused.db");
    CHECK(location.engine() == store::Engine::postgres);
    CHECK(location.name().find("s3cret") == std::string::npos);
    CHECK(store::describe_postgres(value).find("s3cret") == std::string::npos);
    CHECK(location.conninfo() == value); // only the connection itself gets it
  }
  CHECK(store::describe_postgres("postgresql://ana:s3%40cret@db/gostly").find("s3") == std::string::npos);
  // sslpassword (the client key's passphrase) is a secret too: libpq marks both with dispchar "*".
  CHECK(name_of("postgresql://ana@db/gostly?sslmode=verify-full&sslpassword=k3y&sslrootcert=/ca.pem") ==
        "postgresql://ana@db/gostly?sslmode=verify-full&sslrootcert=/ca.pem");
  CHECK(name_of("host=db dbname=gostly sslpassword=k3y sslcert=c.pem") == "host=db dbname=gostly sslcert=c.pem");
}

TEST_CASE("store::StoreLocation: an unparseable connection string is refused without echoing the password", "[store][postgres]") {
  for (const char* value : {"postgresql://ana:s3cret@db/gostly?bogus=1", "host=db password=s3cret bogus=1",
                            "host=db password='s3cret"}) {
    try {
      store::StoreLocation::parse(value, "unused.db");
      FAIL("accepted " << value);
    } catch (const UsageError& e) {
      CHECK_THAT(e.what(), Catch::StartsWith("--store:"));
      CHECK(std::string(e.what()).find("s3cret") == std::string::npos);
    }
  }
}

TEST_CASE("store::sql::open_postgres: a connection failure names the store but not its password", "[store][postgres]") {
  // Port 1 on loopback: nothing listens there, so the connection is refused at once.
  for (const char* conninfo : {"postgresql://ana:s3cret@127.0.0.1:1/gostly?connect_timeout=5",
                               "postgresql://ana@127.0.0.1:1/gostly?password=s3cret&connect_timeout=5",
                               "host=127.0.0.1 port=1 user=ana password=s3cret dbname=gostly connect_timeout=5"}) {
    std::string message = connect_error(conninfo);
    INFO(message);
    CHECK(message.find("cannot connect") != std::string::npos);
    CHECK(message.find("127.0.0.1") != std::string::npos);
    CHECK(message.find("s3cret") == std::string::npos);
  }
}

namespace {

// What libpq makes of ConnectParams: the options of a connection started (never finished) to
// port 1, where nothing listens.
std::map<std::string, std::string> effective_options(const std::string& conninfo, const std::string& application) {
  store::sql::ConnectParams params(conninfo, application);
  PGconn* conn = PQconnectStartParams(params.keys(), params.values(), 1);
  REQUIRE(conn);
  std::map<std::string, std::string> out;
  PQconninfoOption* options = PQconninfo(conn);
  for (auto* o = options; o && o->keyword; ++o)
    if (o->val) out[o->keyword] = o->val;
  PQconninfoFree(options);
  PQfinish(conn);
  return out;
}

} // namespace

using gostly::test_support::ScopedEnv;

TEST_CASE("store::sql::ConnectParams: keepalives, a connect timeout and a name, unless the user says otherwise", "[store][postgres]") {
  ScopedEnv no_timeout("PGCONNECT_TIMEOUT", nullptr);
  ScopedEnv no_name("PGAPPNAME", nullptr);
  auto plain = effective_options("postgresql://ana@127.0.0.1:1/gostly", "gostly-transition");
  CHECK(plain["keepalives"] == "1");
  CHECK(plain["keepalives_idle"] == "10");
  CHECK(plain["connect_timeout"] == "10");
  CHECK(plain["fallback_application_name"] == "gostly-transition");
  CHECK(plain["dbname"] == "gostly"); // the URI was expanded, not taken as a database name
  CHECK(plain["user"] == "ana");

  // The user's connection string wins over every default, in both forms.
  for (const char* conninfo : {"postgresql://ana@127.0.0.1:1/gostly?connect_timeout=3&keepalives=0&application_name=ci-7",
                               "host=127.0.0.1 port=1 user=ana dbname=gostly connect_timeout=3 keepalives=0 application_name=ci-7"}) {
    INFO(conninfo);
    auto mine = effective_options(conninfo, "gostly-serve");
    CHECK(mine["connect_timeout"] == "3");
    CHECK(mine["keepalives"] == "0");
    CHECK(mine["application_name"] == "ci-7");
  }

  // PGCONNECT_TIMEOUT is libpq's: an explicit default would override it, so there is none.
  ScopedEnv timeout("PGCONNECT_TIMEOUT", "4");
  CHECK(effective_options("postgresql://ana@127.0.0.1:1/gostly", "x")["connect_timeout"] == "4");
}

TEST_CASE("store::sql::open_postgres: a refused password and a failing statement never show the password", "[store][engines]") {
  auto uri = test_support::test_postgres();
  if (!uri) {
    WARN("skipped: needs the test PostgreSQL server (GOSTLY_TEST_STORE); ctest runs it as 'postgres: test_store'");
    return;
  }
  auto location = store::StoreLocation::parse(*uri, "unused.db");
  // The real password: whatever it is, it appears in no name and no error of this connection.
  char* error = nullptr;
  PQconninfoOption* options = PQconninfoParse(uri->c_str(), &error);
  REQUIRE(options);
  std::string password, user;
  for (auto* o = options; o->keyword; ++o) {
    if (std::string_view(o->keyword) == "password" && o->val) password = o->val;
    if (std::string_view(o->keyword) == "user" && o->val) user = o->val;
  }
  PQconninfoFree(options);
  if (password.size() < 4) { // run-catch.sh puts the test server's generated password in the URI
    WARN("skipped: GOSTLY_TEST_STORE carries no password to look for");
    return;
  }

  auto db = location.connect();
  CHECK(db->name().find(password) == std::string::npos);
  try {
    db->exec("SELECT * FROM no_such_table");
    FAIL("expected an error");
  } catch (const Error& e) {
    CHECK_THAT(e.what(), Catch::Contains("no_such_table"));
    CHECK(std::string(e.what()).find(password) == std::string::npos);
  }

  // A later password wins in both forms of a connection string.
  std::string wrong = *uri;
  if (test_support::is_uri(wrong))
    wrong += std::string(wrong.find('?') == std::string::npos ? "?" : "&") + "password=wrong-s3cret";
  else
    wrong += " password=wrong-s3cret";
  std::string message = connect_error(wrong);
  INFO(message);
  CHECK(message.find("cannot connect") != std::string::npos);
  CHECK(message.find("password authentication failed") != std::string::npos);
  CHECK(message.find("wrong-s3cret") == std::string::npos);
  CHECK(message.find(password) == std::string::npos);
}
