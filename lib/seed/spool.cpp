#include "seed/spool.hpp"

#include "util/error.hpp"
#include "util/files.hpp"

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <fcntl.h>
#include <unistd.h>

namespace gostly::seed {
namespace {

std::string temp_dir() {
  const char* dir = std::getenv("TMPDIR");
  return dir && *dir ? dir : "/tmp";
}

} // namespace

Spool::Spool(std::size_t memory_limit) : memory_limit_(memory_limit) {}

Spool::~Spool() {
  if (file_ >= 0) ::close(file_);
}

void Spool::spill() {
  file_dir_ = temp_dir();
  file_ = ::open(file_dir_.c_str(), O_TMPFILE | O_RDWR | O_CLOEXEC, 0600);
  if (file_ < 0) { // no O_TMPFILE on this file system: a named file, unlinked at once
    std::string templ = file_dir_ + "/gostly-seed.XXXXXX";
    file_ = ::mkostemp(templ.data(), O_CLOEXEC);
    if (file_ < 0) throw Error("cannot create a temporary file in " + file_dir_ + ": " + std::strerror(errno));
    ::unlink(templ.c_str());
  }
}

void Spool::write(std::string_view bytes) {
  size_ += bytes.size();
  memory_.append(bytes);
  // In memory up to the limit; once on disk, memory is only a 64 KiB write buffer.
  if (memory_.size() <= (file_ < 0 ? memory_limit_ : std::size_t{1} << 16)) return;
  if (file_ < 0) spill();
  util::write_all(file_, memory_, "a temporary file in " + file_dir_);
  memory_.clear();
  if (memory_.capacity() > (std::size_t{1} << 17)) std::string().swap(memory_);
}

void Spool::publish(int fd, const std::string& name) {
  if (file_ >= 0) {
    if (::lseek(file_, 0, SEEK_SET) < 0) throw Error("cannot rewind a temporary file: " + std::string(std::strerror(errno)));
    std::string buffer(std::size_t{1} << 16, '\0');
    while (true) {
      ssize_t n = ::read(file_, buffer.data(), buffer.size());
      if (n < 0) {
        if (errno == EINTR) continue;
        throw Error("cannot read a temporary file in " + file_dir_ + ": " + std::strerror(errno));
      }
      if (n == 0) break;
      util::write_all(fd, std::string_view(buffer.data(), static_cast<std::size_t>(n)), name);
    }
    ::close(file_);
    file_ = -1;
  }
  util::write_all(fd, memory_, name);
  memory_.clear();
  size_ = 0;
}

} // namespace gostly::seed
