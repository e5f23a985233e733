#pragma once
// How the PostgreSQL engine (store/postgres.cpp) reads the SQL every domain writes once for both
// engines (store/sql.hpp); a header of its own so it can be unit-tested without a server.
#include <string>
#include <string_view>

namespace gostly::store::sql {

/// `?` and `?N` placeholders (SQLite's) as `$N` (PostgreSQL's); a bare `?` takes the largest
/// number so far plus one, as in SQLite. Quoted text, quoted identifiers, `--` and `/* */`
/// comments are left alone. `parameters` is set to the largest number used.
std::string to_dollar_placeholders(std::string_view sql, int& parameters);

} // namespace gostly::store::sql
