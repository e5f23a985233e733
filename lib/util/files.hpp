#pragma once
// Files that never end up half-written: AtomicFile publishes by rename only on commit();
// AppendLog writes whole lines with one write() each and repairs a torn tail left by a crash.
#include <cstdint>
#include <filesystem>
#include <string>
#include <string_view>

namespace gostly::util {

enum class Fsync { no, yes };

/// Writes to `<path>.tmp.<pid>` and renames over `path` on commit(). Destroying an uncommitted
/// AtomicFile removes the temporary file, so `path` is either the old or the complete new file.
class AtomicFile {
public:
  explicit AtomicFile(std::filesystem::path path);
  ~AtomicFile();
  AtomicFile(const AtomicFile&) = delete;
  AtomicFile& operator=(const AtomicFile&) = delete;

  void write(std::string_view bytes);
  void commit(Fsync fsync = Fsync::yes);
  const std::filesystem::path& temp_path() const noexcept { return temp_; }

private:
  std::filesystem::path path_;
  std::filesystem::path temp_;
  int fd_ = -1;
};

/// An append-only line file (O_APPEND). Each append_line() is a single write() of one whole line,
/// so concurrent writers and crashes never interleave or tear a line in the middle of the file.
/// On open, a tail without a final newline (a write torn by a crash) is cut back to the last
/// newline; `torn_bytes_dropped()` says how much, so the caller can warn.
class AppendLog {
public:
  explicit AppendLog(const std::filesystem::path& path);
  ~AppendLog();
  AppendLog(const AppendLog&) = delete;
  AppendLog& operator=(const AppendLog&) = delete;

  /// Appends `line` plus '\n' in one write(); throws gostly::Error on failure (e.g. disk full).
  void append_line(std::string_view line);
  /// Appends `lines`, whole lines each ending in '\n', in one write() (a group commit); a short
  /// write is cut back so the file still ends on a whole line.
  void append_lines(std::string_view lines);
  void sync();
  std::uint64_t torn_bytes_dropped() const noexcept { return torn_bytes_dropped_; }
  const std::filesystem::path& path() const noexcept { return path_; }

private:
  std::filesystem::path path_;
  int fd_ = -1;
  std::uint64_t torn_bytes_dropped_ = 0;
};

/// Writes all of `bytes` to `fd`, retrying short writes and EINTR; throws gostly::Error
/// "cannot write NAME: reason".
void write_all(int fd, std::string_view bytes, const std::string& name);

/// Reads a small file whole (config files such as mode.txt); throws gostly::Error naming it.
std::string read_small_file(const std::filesystem::path& path);

/// True when `id` is a safe service or session id: 1–128 chars of [A-Za-z0-9._-], not starting
/// with '.' or '-', so it can name a file inside the data directory without escaping it.
bool is_safe_id(std::string_view id) noexcept;

/// Throws gostly::UsageError naming `what` when `id` is not is_safe_id().
void require_safe_id(std::string_view id, std::string_view what);

} // namespace gostly::util
