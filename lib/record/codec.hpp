#pragma once
// JSON <-> Interaction. Decoding validates every field it knows and names the dotted path of
// the first bad one; fields it does not know are kept in `extra` and written back unchanged.
#include "record/interaction.hpp"

#include <string>

namespace gostly::record {

/// Encodes `interaction` as one compact JSON object (no newline).
std::string encode_line(const Interaction& interaction);
/// Appends the same line to `out` (no newline): lets a caller batch lines without a copy each.
void append_line(std::string& out, const Interaction& interaction);
nlohmann::json to_json(const Interaction& interaction);

/// Thrown by from_json(); `field()` is the dotted path, e.g. `request.headers[2]`.
struct FieldError {
  std::string field;
  std::string reason;
};

/// Decodes an interaction object. Throws FieldError for a missing or mistyped field.
/// Records whose `v` is newer than kRecordVersion are read as far as they are understood.
Interaction from_json(const nlohmann::json& object);

} // namespace gostly::record
