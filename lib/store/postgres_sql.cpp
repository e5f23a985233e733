// The placeholder translation of the PostgreSQL engine (store/postgres_sql.hpp).
#include "store/postgres_sql.hpp"

#include <algorithm>
#include <cerrno>
#include <cstdlib>
#include <utility>

namespace gostly::store::sql {

std::string to_dollar_placeholders(std::string_view sql, std::vector<int>& positions) {
  std::vector<std::pair<std::size_t, std::size_t>> spans; // each placeholder's [begin, end) in sql
  std::vector<int> numbers;                                 // and its SQLite number
  int largest = 0;
  for (std::size_t i = 0; i < sql.size(); ++i) {
    char c = sql[i];
    if (c == '\'' || c == '"') {
      std::size_t end = sql.find(c, i + 1);
      while (end != std::string_view::npos && end + 1 < sql.size() && sql[end + 1] == c) end = sql.find(c, end + 2);
      i = end == std::string_view::npos ? sql.size() : end;
    } else if (c == '-' && i + 1 < sql.size() && sql[i + 1] == '-') {
      std::size_t end = sql.find('\n', i);
      i = end == std::string_view::npos ? sql.size() : end;
    } else if (c == '/' && i + 1 < sql.size() && sql[i + 1] == '*') {
      // A block comment: an apostrophe in it ("don't") must not open a quote that hides the
      // placeholders after it.
      std::size_t end = sql.find("*/", i + 2);
      i = end == std::string_view::npos ? sql.size() : end + 1;
    } else if (c == '?') {
      std::size_t j = i + 1;
      int number = 0;
      while (j < sql.size() && sql[j] >= '0' && sql[j] <= '9' && number < 100000) number = number * 10 + (sql[j++] - '0');
      if (j == i + 1) number = largest + 1;
      if (number == 0) continue; // `?0` is no parameter in SQLite either; left as written
      largest = std::max(largest, number);
      spans.emplace_back(i, j);
      numbers.push_back(number);
      i = j - 1;
    }
  }
  positions.assign(static_cast<std::size_t>(largest), -1);
  for (int number : numbers) positions[static_cast<std::size_t>(number) - 1] = 0;
  int slots = 0;
  for (auto& position : positions)
    if (position == 0) position = slots++ + 1;
  std::string out;
  out.reserve(sql.size() + 8);
  std::size_t copied = 0;
  for (std::size_t k = 0; k < spans.size(); ++k) {
    out.append(sql.substr(copied, spans[k].first - copied));
    out += '$';
    out += std::to_string(positions[static_cast<std::size_t>(numbers[k]) - 1]);
    copied = spans[k].second;
  }
  out.append(sql.substr(copied));
  for (auto& position : positions)
    if (position > 0) --position;
  return out;
}

std::string libpq_message(const char* message) {
  std::string out = message ? message : "";
  while (!out.empty() && (out.back() == '\n' || out.back() == ' ')) out.pop_back();
  return out;
}

ConnectParams::ConnectParams(const std::string& conninfo, std::string application) : application_(std::move(application)) {
  auto add = [this](const char* key, const char* value) {
    keys_.push_back(key);
    values_.push_back(value);
  };
  add("keepalives", "1");
  add("keepalives_idle", "10");
  add("keepalives_interval", "5");
  add("keepalives_count", "3");
  // An explicit keyword would override the environment variable, which must win too.
  const char* env_timeout = std::getenv("PGCONNECT_TIMEOUT");
  if (!env_timeout || !*env_timeout) add("connect_timeout", default_timeout_.c_str());
  add("fallback_application_name", application_.c_str());
  add("dbname", conninfo.c_str()); // last: expanded, its keywords override the defaults above
  add(nullptr, nullptr);
}

std::string program_name() {
  const char* name = program_invocation_short_name; // glibc: argv[0]'s last component
  return name && *name ? name : "gostly";
}

} // namespace gostly::store::sql
