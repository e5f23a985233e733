#pragma once
// Where gostly-export writes: `-o FILE` through util::AtomicFile (published by rename only when
// the whole export succeeded), or stdout through a spool (memory up to a limit, then an unlinked
// temporary file) copied out at the end, so a failed run never leaves half a document anywhere.
#include <memory>
#include <ostream>
#include <string>

namespace gostly::export_ {

class Output {
public:
  /// `path` "-" = stdout.
  explicit Output(const std::string& path);
  ~Output();
  Output(const Output&) = delete;
  Output& operator=(const Output&) = delete;

  std::ostream& stream() noexcept;
  /// Publishes what was written (rename, or copy to stdout). Without it nothing appears.
  void commit();

private:
  class Buffer;
  std::unique_ptr<Buffer> buffer_;
  std::unique_ptr<std::ostream> stream_;
};

} // namespace gostly::export_
