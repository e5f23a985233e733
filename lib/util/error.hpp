#pragma once
// The small exception tree thrown at the library's edges and caught once, in cli::run_tool().
// Per-request proxy code never throws across an Asio handler; it returns error values instead.
#include <cstdint>
#include <stdexcept>
#include <string>

namespace gostly {

/// Any failure a tool reports as `gostly-<tool>: error: <what>` with exit status 2.
class Error : public std::runtime_error {
public:
  using std::runtime_error::runtime_error;
};

/// Bad command-line usage (exit 2), e.g. conflicting options.
class UsageError : public Error {
public:
  using Error::Error;
};

/// Bad input data: names the stream (`<stdin>` for -), the 1-based line (0 = unknown) and the
/// dotted field path at fault, e.g. `s1.jsonl:17: request.method: expected string, got number`.
class InputError : public Error {
public:
  InputError(std::string source, std::uint64_t line, std::string field, std::string reason);
  const std::string& source() const noexcept { return source_; }
  std::uint64_t line() const noexcept { return line_; }
  const std::string& field() const noexcept { return field_; }
  const std::string& reason() const noexcept { return reason_; }

private:
  std::string source_;
  std::uint64_t line_;
  std::string field_;
  std::string reason_;
};

/// A problem with a service id, session id or path supplied by a user (exit 2 / HTTP 400/422).
class NotFoundError : public Error {
public:
  using Error::Error;
};

} // namespace gostly
