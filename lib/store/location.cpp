#include "store/location.hpp"

#include "util/error.hpp"

#include <libpq-fe.h>

#include <map>

namespace gostly::store {

namespace {

bool starts_with(const std::string& text, std::string_view prefix) { return text.rfind(prefix, 0) == 0; }

bool is_postgres_uri(const std::string& value) {
  return starts_with(value, "postgres://") || starts_with(value, "postgresql://");
}

// key=value form: `host=db dbname=gostly`, as libpq accepts it.
bool looks_like_keywords(const std::string& value) {
  auto eq = value.find('=');
  return eq != std::string::npos && eq > 0 && value.find('/') > eq && value.find(':') > eq;
}

// libpq quotes the offending token in a parse error ("invalid percent-encoded token: \"%zz\""),
// and that token may be the password: quoted parts are left out.
std::string without_quoted_values(const std::string& message) {
  std::string out;
  bool quoted = false;
  for (char c : message) {
    if (c == '"') {
      out += quoted ? "\"" : "\"…";
      quoted = !quoted;
    } else if (!quoted && c != '\n') {
      out += c;
    }
  }
  while (!out.empty() && out.back() == ' ') out.pop_back();
  return out;
}

} // namespace

StoreLocation StoreLocation::sqlite(std::filesystem::path file) {
  StoreLocation out;
  out.engine_ = Engine::sqlite;
  out.file_ = std::move(file);
  out.name_ = out.file_.string();
  return out;
}

StoreLocation StoreLocation::parse(const std::string& value, const std::filesystem::path& default_file) {
  if (value.empty()) return sqlite(default_file);
  if (starts_with(value, "sqlite://")) return sqlite(value.substr(9));
  if (starts_with(value, "sqlite:")) return sqlite(value.substr(7));
  if (is_postgres_uri(value) || looks_like_keywords(value)) {
    char* error = nullptr;
    PQconninfoOption* options = PQconninfoParse(value.c_str(), &error);
    if (!options) {
      std::string reason = error ? error : "out of memory";
      PQfreemem(error);
      throw UsageError("--store: not a PostgreSQL connection string: " + without_quoted_values(reason));
    }
    PQconninfoFree(options);
    StoreLocation out;
    out.engine_ = Engine::postgres;
    out.conninfo_ = value;
    out.name_ = describe_postgres(value);
    return out;
  }
  throw UsageError("--store: expected postgres://USER@HOST/DB, postgresql://…, libpq key=value pairs "
                   "(host=… dbname=…) or sqlite:PATH");
}

bool StoreLocation::exists() const {
  if (engine_ == Engine::postgres) return true;
  std::error_code ec;
  return std::filesystem::exists(file_, ec);
}

std::unique_ptr<sql::Database> StoreLocation::connect() const {
  if (engine_ == Engine::postgres) return sql::open_postgres(conninfo_);
  return sql::open_sqlite(file_.string());
}

std::string describe_postgres(const std::string& conninfo) {
  char* error = nullptr;
  PQconninfoOption* options = PQconninfoParse(conninfo.c_str(), &error);
  if (!options) {
    PQfreemem(error);
    return "postgres (unparseable connection string)";
  }
  std::map<std::string, std::string> set;
  // libpq marks its secrets (password, sslpassword) with dispchar "*": never part of the name.
  for (auto* o = options; o->keyword; ++o)
    if (o->val && *o->val && std::string_view(o->dispchar) != "*") set[o->keyword] = o->val;
  PQconninfoFree(options);
  auto take = [&](const char* key) {
    auto it = set.find(key);
    if (it == set.end()) return std::string();
    std::string value = it->second;
    set.erase(it);
    return value;
  };
  if (is_postgres_uri(conninfo)) {
    std::string user = take("user"), host = take("host"), port = take("port"), dbname = take("dbname");
    std::string out = "postgresql://";
    if (!user.empty()) out += user + "@";
    out += host.find(':') != std::string::npos ? "[" + host + "]" : host;
    if (!port.empty()) out += ":" + port;
    out += "/" + dbname;
    char separator = '?';
    for (const auto& [key, value] : set) {
      out += separator + key + "=" + value;
      separator = '&';
    }
    return out;
  }
  std::string out;
  for (const char* key : {"host", "hostaddr", "port", "dbname", "user"}) {
    std::string value = take(key);
    if (!value.empty()) out += (out.empty() ? "" : " ") + std::string(key) + "=" + value;
  }
  for (const auto& [key, value] : set) out += (out.empty() ? "" : " ") + key + "=" + value;
  return out;
}

} // namespace gostly::store
