#pragma once
// An environment variable set (or, with nullptr, unset) for one scope, and put back as it was:
// tests of limits and defaults read from the environment must not leak into the next case.
#include <cstdlib>
#include <optional>
#include <string>

namespace gostly::test_support {

class ScopedEnv {
public:
  ScopedEnv(std::string name, const char* value) : name_(std::move(name)) {
    if (const char* old = std::getenv(name_.c_str())) old_ = old;
    set(value);
  }
  ~ScopedEnv() { set(old_ ? old_->c_str() : nullptr); }
  ScopedEnv(const ScopedEnv&) = delete;
  ScopedEnv& operator=(const ScopedEnv&) = delete;

  /// Changes the value again within the scope; the destructor still restores the original.
  void set(const char* value) const {
    if (value) ::setenv(name_.c_str(), value, 1);
    else ::unsetenv(name_.c_str());
  }

private:
  std::string name_;
  std::optional<std::string> old_;
};

} // namespace gostly::test_support
