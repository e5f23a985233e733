// The cold-start importers through seed::import(), as gostly-seed and `POST /v1/seed/<format>`
// call them: one target per format (GOSTLY_FUZZ_FORMAT), every record re-encoded as JSONL like
// gostly-seed writes it. The OpenAPI targets split on the first byte the way parse_document()
// does, so the JSON target spends its time in nlohmann and the YAML one in yaml-cpp.
#include "fuzz.hpp"

#include "record/codec.hpp"
#include "seed/seed.hpp"

#include <sstream>

namespace {

enum class Doc { any, json, yaml };

#if defined(GOSTLY_FUZZ_HAR)
constexpr auto kFormat = gostly::seed::Format::har;
constexpr auto kDoc = Doc::any;
#elif defined(GOSTLY_FUZZ_POSTMAN)
constexpr auto kFormat = gostly::seed::Format::postman;
constexpr auto kDoc = Doc::any;
#elif defined(GOSTLY_FUZZ_OPENAPI_JSON)
constexpr auto kFormat = gostly::seed::Format::openapi;
constexpr auto kDoc = Doc::json;
#elif defined(GOSTLY_FUZZ_OPENAPI_YAML)
constexpr auto kFormat = gostly::seed::Format::openapi;
constexpr auto kDoc = Doc::yaml;
#else
#error "define GOSTLY_FUZZ_HAR, _POSTMAN, _OPENAPI_JSON or _OPENAPI_YAML"
#endif

bool wanted(std::string_view text) {
  if (kDoc == Doc::any) return true;
  auto first = text.find_first_not_of(" \t\r\n\xEF\xBB\xBF");
  bool json = first != std::string_view::npos && (text[first] == '{' || text[first] == '[');
  return json == (kDoc == Doc::json);
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  auto text = gostly::fuzz::bytes(data, size);
  if (!wanted(text)) return -1; // not added to the corpus
  return gostly::fuzz::run([&] {
    std::istringstream in{std::string(text)};
    gostly::seed::SeedOptions options;
    options.on_warning = [](const std::string&) {};
    std::string out;
    gostly::seed::import(kFormat, in, "fuzz-input", options, [&](gostly::record::Interaction&& interaction) {
      out.clear();
      gostly::record::append_line(out, interaction);
    });
  });
}
