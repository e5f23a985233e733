#pragma once
// The data directory layout of DESIGN.md. Every path derived from a user-supplied id goes through
// util::require_safe_id(), so ids cannot escape the directory.
#include "store/location.hpp"
#include "store/mode.hpp"

#include <filesystem>
#include <optional>
#include <string>

namespace gostly::store {

class DataDir {
public:
  /// `store` is a --store value (store/location.hpp); empty = root/library.db.
  explicit DataDir(std::filesystem::path root, const std::string& store = {});

  const std::filesystem::path& root() const noexcept { return root_; }
  std::filesystem::path mode_file() const { return root_ / "mode.txt"; }
  /// Where the library lives: root/library.db or the --store it was given.
  const StoreLocation& library() const noexcept { return library_; }
  std::filesystem::path traffic_dir() const { return root_ / "traffic"; }
  std::filesystem::path ca_dir() const { return root_ / "ca"; }
  /// traffic/<service>.jsonl; throws UsageError for an unsafe id.
  std::filesystem::path traffic_file(const std::string& service_id) const;

  /// Creates root and traffic/ if missing.
  void ensure() const;

  /// The global mode from mode.txt; nullopt when absent; throws InputError naming the file and
  /// the accepted values (kSettableModes) when it holds anything else, TRANSITIONING included.
  std::optional<Mode> read_mode() const;
  /// Writes mode.txt atomically ("MOCK\n") and durably; throws gostly::Error "cannot ...
  /// <data>/mode.txt: <reason>" when it cannot (disk full, no directory, read-only).
  void write_mode(Mode mode) const;
  /// write_mode() only when mode.txt does not exist (the default written on start): published
  /// with link(2), so a mode.txt a user wrote meanwhile is never replaced. True when written.
  bool create_mode(Mode mode) const;

private:
  bool publish_mode(Mode mode, bool only_if_absent) const;
  std::filesystem::path root_;
  StoreLocation library_;
};

} // namespace gostly::store
