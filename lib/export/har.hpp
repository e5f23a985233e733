#pragma once
// HAR 1.2 out: one entry per interaction, streamed.
#include "export/source.hpp"

#include <nlohmann/json.hpp>

#include <ostream>

namespace gostly::export_ {

struct HarOptions {};

/// One HAR entry for `interaction` (no secrets added: redacted values stay `gostly-redacted`).
nlohmann::ordered_json har_entry(const record::Interaction& interaction);

/// Writes one HAR 1.2 document with an entry per interaction of `source`, as they come.
void write_har(InteractionSource& source, const HarOptions& options, std::ostream& out);

} // namespace gostly::export_
