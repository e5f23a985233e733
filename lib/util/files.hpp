#pragma once
// Files that never end up half-written: AtomicFile publishes by rename only on commit();
// AppendLog writes whole lines with one write() each and repairs a torn tail left by a crash.
#include <array>
#include <cstdint>
#include <filesystem>
#include <string>
#include <string_view>

namespace gostly::util {

enum class Fsync { no, yes };

/// A whole file published at `path` on commit(); destroying an uncommitted AtomicFile leaves
/// `path` as it was.
/// - A new name or a regular file (symlinks followed: the final target is replaced, the links are
///   kept): written to an unnamed temporary file in the target's directory (O_TMPFILE), given a
///   name and renamed over the target on commit(), then the directory is synced. A kill -9 before
///   commit leaves nothing behind. Where the filesystem lacks O_TMPFILE, `<target>.tmp.<pid>` is
///   used instead (removed on destruction, but left by a kill).
/// - Anything else that exists (a FIFO, a character device such as /dev/null, /dev/stdout) is
///   written in place: it cannot be replaced atomically and must not be replaced at all, so a
///   failed run may have written part of its output there, as it would on stdout.
class AtomicFile {
public:
  explicit AtomicFile(std::filesystem::path path);
  ~AtomicFile();
  AtomicFile(const AtomicFile&) = delete;
  AtomicFile& operator=(const AtomicFile&) = delete;

  void write(std::string_view bytes);
  void commit(Fsync fsync = Fsync::yes);
  /// commit(), except that an existing `path` is never replaced: the file is published with
  /// link(2), which fails when the name exists, so a file someone created meanwhile is kept.
  /// False (and nothing published) when `path` exists; throws like commit() otherwise.
  bool commit_if_absent(Fsync fsync = Fsync::yes);
  /// What commit() publishes: `path` with its symlinks followed.
  const std::filesystem::path& target() const noexcept { return target_; }
  /// True when writing in place (not a regular file).
  bool in_place() const noexcept { return kind_ == Kind::in_place; }

private:
  enum class Kind { unnamed, named, in_place };
  std::filesystem::path path_;
  std::filesystem::path target_;
  std::filesystem::path temp_; // a named temporary file to remove on failure; empty otherwise
  Kind kind_ = Kind::unnamed;
  bool regular_ = true;
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
  /// Appends `lines`, whole lines each ending in '\n', in one write() (a group commit); a write
  /// cut short is undone (write_lines) so the file still ends on a whole line.
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

/// Writes `lines` (whole lines, the last ending in '\n') at the current offset of a regular file
/// (O_APPEND or not) so that the file never holds part of a line: a write that stops part-way
/// (disk full, file size limit) is cut back to where this call started and gostly::Error
/// "cannot write NAME: reason" is thrown; the next call starts on a line boundary again. Short
/// writes and EINTR are retried like write_all(). AppendLog and record::JsonlWriter (for a
/// regular file) both write through it.
void write_lines(int fd, std::string_view lines, const std::string& name);

/// Reads a small file whole (config files such as mode.txt); throws gostly::Error naming it.
std::string read_small_file(const std::filesystem::path& path);

/// True when `id` is a safe service or session id: 1–128 chars of [A-Za-z0-9._-], not starting
/// with '.' or '-', so it can name a file inside the data directory without escaping it.
bool is_safe_id(std::string_view id) noexcept;

/// Throws gostly::UsageError naming `what` when `id` is not is_safe_id().
void require_safe_id(std::string_view id, std::string_view what);

/// The service id a host names: lower case, each character outside [a-z0-9._-] as '-' (so
/// `api.example.com:8443` gives `api.example.com-8443`), leading and trailing '.' and '-'
/// trimmed, at most 128 characters. gostly-seed files a HAR entry under it and gostly-serve
/// finds a request's service by it; written to `out` (no allocation, for the request path) and
/// returned as a view of it; empty when nothing is left.
std::string_view host_service_id(std::string_view host, std::array<char, 128>& out) noexcept;

} // namespace gostly::util
