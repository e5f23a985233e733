#include "export/har.hpp"

#include "util/error.hpp"

namespace gostly::export_ {

void write_har(InteractionSource&, const HarOptions&, std::ostream&) { throw Error("gostly-export har is not built yet"); }

} // namespace gostly::export_
