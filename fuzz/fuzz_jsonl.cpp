// JSONL record decoder: JsonlReader::next() (line splitting, JSON parse, record::from_json) and
// the re-encoding gostly-transition and the store do with each record (encode_line, which dumps
// the unknown fields kept in `extra`), plus the wire-safety check every input path applies.
#include "fuzz.hpp"

#include "record/codec.hpp"
#include "record/jsonl.hpp"

#include <sstream>

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  return gostly::fuzz::run([&] {
    std::istringstream in{std::string(gostly::fuzz::bytes(data, size))};
    gostly::record::JsonlReader reader(in, "fuzz.jsonl");
    gostly::record::Interaction interaction;
    while (reader.next(interaction)) {
      std::string line = gostly::record::encode_line(interaction);
      (void)line;
      try {
        gostly::record::check_wire_safe(interaction);
      } catch (const gostly::record::FieldError&) {
      }
    }
  });
}
