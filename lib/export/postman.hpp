#pragma once
// Postman collection v2.1 out: a folder per path template, a request per method in it, each
// recorded response a saved example.
#include "export/source.hpp"

#include <ostream>
#include <string>

namespace gostly::export_ {

struct PostmanOptions {
  std::string name; // the collection's name; empty = "gostly <service>"
};

/// Writes one Postman v2.1 collection of the interactions of `source`.
void write_postman(InteractionSource& source, const PostmanOptions& options, std::ostream& out);

} // namespace gostly::export_
