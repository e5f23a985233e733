#include "util/error.hpp"

namespace gostly {

namespace {
std::string format_input_error(const std::string& source, std::uint64_t line, const std::string& field,
                               const std::string& reason) {
  std::string text = source;
  if (line > 0) text += ":" + std::to_string(line);
  text += ": ";
  if (!field.empty()) text += field + ": ";
  return text + reason;
}
} // namespace

InputError::InputError(std::string source, std::uint64_t line, std::string field, std::string reason)
    : Error(format_input_error(source, line, field, reason)), source_(std::move(source)), line_(line),
      field_(std::move(field)), reason_(std::move(reason)) {}

} // namespace gostly
