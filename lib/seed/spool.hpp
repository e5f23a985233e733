#pragma once
// Holding seeded JSONL back until the import has succeeded.
//
// A HAR file is streamed, so a fatal error (a torn file, a bad entry under --strict) can come
// after many entries were converted. On `-o FILE` the AtomicFile simply never publishes; on stdout
// the reader downstream (`gostly-seed har … | gostly-transition`) must not see those records
// either, because it cannot know that the producer later failed. The spool keeps the output in
// memory up to a limit and beyond that in an anonymous temporary file (unlinked at once, so it
// vanishes with the process), and copies it out only on publish(). Memory stays flat however
// large the input; the price is the output's size in TMPDIR and no records downstream until the
// input has been read to its end.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

namespace gostly::seed {

class Spool {
public:
  /// Keeps up to `memory_limit` bytes in memory, the rest in a temporary file in $TMPDIR (or /tmp).
  explicit Spool(std::size_t memory_limit = std::size_t{4} << 20);
  ~Spool();
  Spool(const Spool&) = delete;
  Spool& operator=(const Spool&) = delete;

  /// Appends `bytes`; throws gostly::Error when the temporary file cannot be created or written.
  void write(std::string_view bytes);

  /// Copies everything written so far to `fd` (named `name` in errors) and empties the spool.
  void publish(int fd, const std::string& name);

  /// Bytes held (in memory and on disk).
  std::uint64_t size() const noexcept { return size_; }
  /// True once the spool has spilled to its temporary file.
  bool on_disk() const noexcept { return file_ >= 0; }

private:
  void spill();

  std::size_t memory_limit_;
  std::string memory_;
  int file_ = -1;
  std::string file_dir_;
  std::uint64_t size_ = 0;
};

} // namespace gostly::seed
