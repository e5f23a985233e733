#pragma once
// Streaming JSON Lines: readers pull one line at a time (a 1 GB file is never held whole) and
// report `file:line: field: reason`; writers emit one whole line per write().
#include "record/interaction.hpp"

#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <istream>
#include <memory>
#include <string>
#include <string_view>

namespace gostly::record {

/// An input stream plus the name errors use for it (`<stdin>` for "-").
struct NamedInput {
  std::string name;
  std::unique_ptr<std::istream> owned;
  std::istream* stream = nullptr;
};

/// Opens `path` ("-" = stdin) for reading; throws gostly::Error naming the file.
NamedInput open_input(const std::string& path);

/// Longest line a reader takes, in bytes before the newline: GOSTLY_MAX_LINE_BYTES, default
/// 256 MiB (a record with two 64 MiB bodies base64'd fits). A reader never holds more than this
/// plus one read buffer, however long a line without a newline runs on.
std::size_t max_line_bytes();

/// What a JSONL reader does with a last line that has no final newline and does not parse:
/// a recorder killed mid-write leaves one (skip it with a warning); a bundle must not (error).
enum class TornLastLine { skip, error };

class JsonlReader {
public:
  JsonlReader(std::istream& in, std::string source_name, TornLastLine torn = TornLastLine::skip);

  /// Reads the next non-blank line as a JSON object into `out`; false at end of input.
  /// Throws InputError (source, line) for a line that is not a JSON object, is longer than
  /// max_line_bytes() or nests deeper than util::max_depth(), except a torn last line (no
  /// final newline, not parseable), which is skipped with a warning.
  bool next_object(nlohmann::json& out);

  /// Like next_object(), decoded as an interaction (from_json(): every field checked, and
  /// check_wire_safe()). Records of other types (`drift_event`, `score`, ...) are skipped and
  /// counted. Throws InputError naming the bad field.
  bool next(Interaction& out);

  const std::string& source() const noexcept { return source_; }
  std::uint64_t line() const noexcept { return line_; }
  std::uint64_t torn_lines_skipped() const noexcept { return torn_; }
  std::uint64_t other_records_skipped() const noexcept { return other_; }

private:
  /// The next line without its newline (a view into buffer_ or long_line_); false at the end.
  bool next_line(std::string_view& line, bool& had_newline);

  std::istream& in_;
  std::string source_;
  TornLastLine torn_mode_;
  std::size_t max_line_;
  std::size_t max_depth_; // read once: the environment does not change per line
  std::string buffer_;        // read in blocks; lines are found with memchr
  std::size_t begin_ = 0, end_ = 0;
  std::string long_line_;     // a line that spans blocks, at most max_line_ + a block
  std::uint64_t line_ = 0;
  std::uint64_t torn_ = 0;
  std::uint64_t other_ = 0;
};

enum class Flush { per_record, batched };

/// Writes JSONL to a file descriptor: whole lines only, one write() per line when
/// Flush::per_record (live producers), block-buffered at line boundaries when batched. On a
/// regular file a write cut short (disk full) is undone (util::write_lines), so the file only
/// ever holds whole lines and the next write() starts a fresh one; the failed lines are lost
/// and the exception says why.
class JsonlWriter {
public:
  JsonlWriter(int fd, std::string name, Flush flush);
  ~JsonlWriter();
  JsonlWriter(const JsonlWriter&) = delete;
  JsonlWriter& operator=(const JsonlWriter&) = delete;

  void write_line(std::string_view compact_json);
  void write(const Interaction& interaction);
  void flush();

private:
  int fd_;
  std::string name_;
  Flush flush_;
  bool regular_ = false;
  std::string buffer_;
};

} // namespace gostly::record
