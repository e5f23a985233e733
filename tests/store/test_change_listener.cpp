// store::ChangeListener, the LISTEN connection of a PostgreSQL store: notifications arrive as
// payloads in order, a connect to a host that never answers can be abandoned at once, and a lost
// connection is an UnavailableError naming the store without its password. The cases that need a
// server run against the test server when GOSTLY_TEST_STORE is set (ctest's `postgres: test_store`).
#include "store/change_listener.hpp"
#include "store/library_db.hpp"
#include "store/location.hpp"
#include "store/sql.hpp"
#include "util/error.hpp"

#include "../support/engine_store.hpp"
#include "../support/silent_server.hpp"

#include "../support/scoped_env.hpp"

#include <catch2/catch.hpp>

#include <libpq-fe.h>
#include <poll.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <vector>

using namespace gostly;
using namespace std::chrono_literals;
using Listener = store::ChangeListener;

namespace {

// A Waiter that poll()s the socket for real, `slice` at a time (never past the deadline).
Listener::Waited wait_on(int socket, bool write, Listener::Clock::time_point deadline,
                         std::chrono::milliseconds slice = 100ms) {
  auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Listener::Clock::now());
  int timeout = static_cast<int>(std::clamp<std::int64_t>(left.count() + 1, 0, slice.count()));
  pollfd fd{socket, static_cast<short>(write ? POLLOUT : POLLIN), 0};
  int n = ::poll(&fd, 1, timeout);
  return n > 0 ? Listener::Waited::ready : Listener::Waited::idle;
}

std::unique_ptr<Listener> connect_listener(const store::StoreLocation& location) {
  auto listener = Listener::connect(location, "gostly test listener", [](int s, bool w, Listener::Clock::time_point d) {
    return wait_on(s, w, d);
  });
  REQUIRE(listener);
  return listener;
}

// Every payload that arrives within `within`, until `count` have.
std::vector<std::string> receive(Listener& listener, std::size_t count, std::chrono::milliseconds within = 5s) {
  std::vector<std::string> out;
  auto deadline = Listener::Clock::now() + within;
  while (out.size() < count && Listener::Clock::now() < deadline) {
    if (wait_on(listener.socket(), false, deadline) != Listener::Waited::ready) continue;
    for (auto& payload : listener.drain()) out.push_back(std::move(payload));
  }
  return out;
}

// The password in a libpq connection string ("" when it has none).
std::string password_of(const std::string& conninfo) {
  char* error = nullptr;
  PQconninfoOption* options = PQconninfoParse(conninfo.c_str(), &error);
  if (!options) {
    PQfreemem(error);
    return "";
  }
  std::string password;
  for (auto* o = options; o->keyword; ++o)
    if (std::string_view(o->keyword) == "password" && o->val) password = o->val;
  PQconninfoFree(options);
  return password;
}

#define REQUIRE_TEST_POSTGRES(uri)                                                                                  \
  auto uri = test_support::test_postgres();                                                                        \
  if (!uri) {                                                                                                      \
    WARN("skipped: needs the test PostgreSQL server (GOSTLY_TEST_STORE); ctest runs it as 'postgres: test_store'"); \
    return;                                                                                                        \
  }

} // namespace

TEST_CASE("store::ChangeListener: a NOTIFY on the library channel arrives as its payload, two in the order sent", "[store][engines]") {
  REQUIRE_TEST_POSTGRES(uri);
  auto location = store::StoreLocation::parse(*uri, "unused.db");
  auto listener = connect_listener(location);
  CHECK(listener->name() == location.name());
  CHECK(listener->backend_pid() > 0);

  auto sender = location.connect();
  sender->notify(store::kLibraryChannel, "payments");
  CHECK(receive(*listener, 1) == std::vector<std::string>{"payments"});

  // Two in one transaction and one after: delivered in order, none twice, nothing of another channel.
  sender->notify("some_other_channel", "ignored");
  {
    store::sql::Transaction tx(*sender, store::sql::Lock::deferred);
    sender->notify(store::kLibraryChannel, "orders");
    sender->notify(store::kLibraryChannel, "payments");
    tx.commit();
  }
  sender->notify(store::kLibraryChannel, "users");
  CHECK(receive(*listener, 3) == std::vector<std::string>{"orders", "payments", "users"});
  CHECK(receive(*listener, 1, 200ms).empty());
}

TEST_CASE("store::ChangeListener: a connect to a host that never answers is abandoned as soon as the waiter says stop", "[store][engines]") {
  test_support::SilentServer silent_server; // accepts TCP, never answers
  int silent = silent_server.fd();
  std::string port = std::to_string(silent_server.port());
  auto location = store::StoreLocation::parse("postgresql://ana:s3cret@127.0.0.1:" + port + "/gostly", "unused.db");

  auto start = Listener::Clock::now();
  int waits = 0;
  bool last_write = true;
  auto listener = Listener::connect(location, "gostly test listener", [&](int s, bool w, Listener::Clock::time_point d) {
    ++waits;
    last_write = w;
    CHECK(d >= start + Listener::kConnectTimeout);
    if (Listener::Clock::now() - start >= 200ms) return Listener::Waited::stop; // a stop request
    return wait_on(s, w, d, 20ms);
  });
  auto took = Listener::Clock::now() - start;
  CHECK_FALSE(listener);
  CHECK(took < 1s);
  CHECK(waits > 1);
  CHECK_FALSE(last_write); // past the TCP connect: waiting for the server's answer

  // The half-open connection was closed, not leaked: the queued one reads end-of-file.
  pollfd pending{silent, POLLIN, 0};
  REQUIRE(::poll(&pending, 1, 2000) == 1);
  int accepted = ::accept4(silent, nullptr, nullptr, SOCK_CLOEXEC);
  REQUIRE(accepted >= 0);
  char buffer[512];
  ssize_t n = 1;
  auto until = Listener::Clock::now() + 2s;
  while (n > 0 && Listener::Clock::now() < until) { // the startup packet first, then the close
    pollfd in{accepted, POLLIN, 0};
    if (::poll(&in, 1, 100) == 1) n = ::recv(accepted, buffer, sizeof buffer, 0);
  }
  CHECK(n <= 0);
  ::close(accepted);
}

TEST_CASE("store::ChangeListener: a terminated backend is UnavailableError naming the store without its password", "[store][engines]") {
  REQUIRE_TEST_POSTGRES(uri);
  auto location = store::StoreLocation::parse(*uri, "unused.db");
  auto listener = connect_listener(location);
  auto admin = location.connect();
  CHECK(test_support::scalar(*admin, "SELECT COUNT(*) FROM pg_stat_activity WHERE pid = " +
                                         std::to_string(listener->backend_pid()) +
                                         " AND application_name = 'gostly test listener'") == 1);
  CHECK(test_support::scalar(*admin, "SELECT CASE WHEN pg_terminate_backend(" + std::to_string(listener->backend_pid()) +
                                         ") THEN 1 ELSE 0 END") == 1);

  std::string message;
  bool unavailable = false;
  auto deadline = Listener::Clock::now() + 5s;
  while (message.empty() && Listener::Clock::now() < deadline) {
    if (wait_on(listener->socket(), false, deadline) != Listener::Waited::ready) continue;
    try {
      auto payloads = listener->drain(); // the FATAL message may come before the end of the input
      CHECK(payloads.empty());
    } catch (const store::sql::UnavailableError& e) {
      unavailable = true;
      message = e.what();
    } catch (const std::exception& e) {
      message = e.what();
    }
  }
  INFO(message);
  CHECK(unavailable);
  CHECK_THAT(message, Catch::StartsWith("store " + location.name() + ": LISTEN connection lost: "));
  CHECK(message.size() > ("store " + location.name() + ": LISTEN connection lost: ").size()); // libpq's reason
  std::string password = password_of(*uri);
  if (password.size() >= 4) CHECK(message.find(password) == std::string::npos);
  else WARN("GOSTLY_TEST_STORE carries no password to look for");
}

TEST_CASE("store::ChangeListener: a SQLite store has no notifications to listen for", "[store]") {
  auto location = store::StoreLocation::sqlite("nowhere/library.db");
  bool waited = false;
  CHECK_THROWS_WITH(Listener::connect(location, "x", [&](int, bool, Listener::Clock::time_point) {
    waited = true;
    return Listener::Waited::stop;
  }),
                    Catch::Contains("nowhere/library.db") && Catch::Contains("SQLite"));
  CHECK_FALSE(waited);
}

TEST_CASE("store::ChangeListener: the connect deadline is the connect_timeout libpq settled on", "[store][postgres]") {
  test_support::SilentServer silent_server; // accepts TCP, never answers
  std::string base = "postgresql://ana@127.0.0.1:" + std::to_string(silent_server.port()) + "/gostly";
  // The deadline the waiter is given, relative to the start; the waiter stops at once.
  auto deadline_of = [](const std::string& conninfo) {
    auto location = store::StoreLocation::parse(conninfo, "unused.db");
    auto start = Listener::Clock::now();
    Listener::Clock::duration given{};
    auto listener = Listener::connect(location, "gostly test listener", [&](int, bool, Listener::Clock::time_point d) {
      given = d - start;
      return Listener::Waited::stop;
    });
    CHECK_FALSE(listener);
    return given;
  };
  test_support::ScopedEnv env_timeout("PGCONNECT_TIMEOUT", nullptr);
  auto in_conninfo = deadline_of(base + "?connect_timeout=3");
  CHECK(in_conninfo >= 3s);
  CHECK(in_conninfo < 4s);
  auto by_default = deadline_of(base);
  CHECK(by_default >= Listener::kConnectTimeout);
  CHECK(by_default < Listener::kConnectTimeout + 1s);
  auto never = deadline_of(base + "?connect_timeout=0"); // "wait for ever": a listener must reconnect
  CHECK(never >= Listener::kConnectTimeout);
  CHECK(never < Listener::kConnectTimeout + 1s);
  env_timeout.set("5");
  auto from_env = deadline_of(base);
  CHECK(from_env >= 5s);
  CHECK(from_env < 6s);
}
