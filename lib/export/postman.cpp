#include "export/postman.hpp"

#include "util/error.hpp"

namespace gostly::export_ {

void write_postman(InteractionSource&, const PostmanOptions&, std::ostream&) {
  throw Error("gostly-export postman is not built yet");
}

} // namespace gostly::export_
