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

} // namespace gostly::store::sql
