#pragma once
// Shared by the seed tests: run an importer on a file or a string and collect what it emits.
#include "record/codec.hpp"
#include "seed/seed.hpp"

#include <fstream>
#include <sstream>
#include <string>
#include <vector>

namespace seed_test {

inline std::string fixture(const std::string& relative) { return std::string(GOSTLY_FIXTURES_DIR) + "/" + relative; }
inline std::string data(const std::string& name) { return std::string(GOSTLY_SOURCE_DIR) + "/tests/seed/data/" + name; }

struct Result {
  gostly::seed::SeedReport report;
  std::vector<gostly::record::Interaction> records;
  std::vector<std::string> warnings;

  std::string jsonl() const {
    std::string out;
    for (const auto& r : records) out += gostly::record::encode_line(r) + "\n";
    return out;
  }
};

inline Result import_stream(gostly::seed::Format format, std::istream& in, const std::string& name,
                            gostly::seed::SeedOptions options = {}) {
  Result result;
  options.on_warning = [&](const std::string& text) { result.warnings.push_back(text); };
  result.report = gostly::seed::import(format, in, name, options,
                                       [&](gostly::record::Interaction&& i) { result.records.push_back(std::move(i)); });
  return result;
}

inline Result import_file(gostly::seed::Format format, const std::string& path, gostly::seed::SeedOptions options = {}) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw std::runtime_error("cannot open " + path);
  return import_stream(format, in, path, std::move(options));
}

inline Result import_text(gostly::seed::Format format, const std::string& text, gostly::seed::SeedOptions options = {}) {
  std::istringstream in(text);
  return import_stream(format, in, "<test>", std::move(options));
}

inline std::string read_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream out;
  out << in.rdbuf();
  return out.str();
}

inline std::string header(const gostly::record::Headers& headers, std::string_view name) {
  const std::string* value = gostly::record::find_header(headers, name);
  return value ? *value : std::string("<absent>");
}

} // namespace seed_test
