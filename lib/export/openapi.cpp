#include "export/openapi.hpp"

#include "util/error.hpp"

namespace gostly::export_ {

void write_openapi(InteractionSource&, const OpenApiOptions&, std::ostream&) {
  throw Error("gostly-export openapi is not built yet");
}

} // namespace gostly::export_
