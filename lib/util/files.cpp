#include "util/files.hpp"

#include "util/error.hpp"

#include <cerrno>
#include <cstring>
#include <fcntl.h>
#include <fstream>
#include <sstream>
#include <sys/stat.h>
#include <unistd.h>

namespace gostly::util {

namespace {
[[noreturn]] void fail(const std::string& what, const std::filesystem::path& path) {
  throw Error(what + " " + path.string() + ": " + std::strerror(errno));
}

} // namespace

void write_all(int fd, std::string_view bytes, const std::string& name) {
  while (!bytes.empty()) {
    ssize_t n = ::write(fd, bytes.data(), bytes.size());
    if (n < 0) {
      if (errno == EINTR) continue;
      throw Error("cannot write " + name + ": " + std::strerror(errno));
    }
    bytes.remove_prefix(static_cast<std::size_t>(n));
  }
}

AtomicFile::AtomicFile(std::filesystem::path path) : path_(std::move(path)) {
  temp_ = path_;
  temp_ += ".tmp." + std::to_string(::getpid());
  fd_ = ::open(temp_.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd_ < 0) fail("cannot create", temp_);
}

AtomicFile::~AtomicFile() {
  if (fd_ >= 0) {
    ::close(fd_);
    ::unlink(temp_.c_str());
  }
}

void AtomicFile::write(std::string_view bytes) { write_all(fd_, bytes, temp_.string()); }

void AtomicFile::commit(Fsync fsync) {
  if (fsync == Fsync::yes && ::fsync(fd_) != 0) fail("cannot sync", temp_);
  if (::close(fd_) != 0) {
    fd_ = -1;
    ::unlink(temp_.c_str());
    fail("cannot close", temp_);
  }
  fd_ = -1;
  if (::rename(temp_.c_str(), path_.c_str()) != 0) {
    ::unlink(temp_.c_str());
    fail("cannot rename onto", path_);
  }
}

AppendLog::AppendLog(const std::filesystem::path& path) : path_(path) {
  if (path.has_parent_path()) std::filesystem::create_directories(path.parent_path());
  fd_ = ::open(path.c_str(), O_RDWR | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
  if (fd_ < 0) fail("cannot open", path);
  struct stat st {};
  if (::fstat(fd_, &st) != 0) fail("cannot stat", path);
  if (st.st_size == 0 || !S_ISREG(st.st_mode)) return;
  // Find the last newline, reading backwards in blocks; cut anything after it.
  off_t end = st.st_size;
  char last;
  if (::pread(fd_, &last, 1, end - 1) == 1 && last == '\n') return;
  char block[4096];
  off_t pos = end;
  off_t keep = 0;
  while (pos > 0) {
    off_t start = pos > static_cast<off_t>(sizeof block) ? pos - static_cast<off_t>(sizeof block) : 0;
    ssize_t n = ::pread(fd_, block, static_cast<std::size_t>(pos - start), start);
    if (n <= 0) fail("cannot read", path);
    bool found = false;
    for (ssize_t i = n - 1; i >= 0; --i) {
      if (block[i] == '\n') {
        keep = start + i + 1;
        found = true;
        break;
      }
    }
    if (found) break;
    pos = start;
  }
  if (::ftruncate(fd_, keep) != 0) fail("cannot truncate torn tail of", path);
  torn_bytes_dropped_ = static_cast<std::uint64_t>(end - keep);
}

AppendLog::~AppendLog() {
  if (fd_ >= 0) ::close(fd_);
}

void AppendLog::append_line(std::string_view line) {
  std::string buffer;
  buffer.reserve(line.size() + 1);
  buffer.append(line);
  buffer += '\n';
  append_lines(buffer);
}

void AppendLog::append_lines(std::string_view lines) {
  if (lines.empty()) return;
  if (lines.back() != '\n') throw Error("internal: append_lines() needs whole lines for " + path_.string());
  // One write(): with O_APPEND the kernel places it whole at the end of the file.
  ssize_t n;
  do {
    n = ::write(fd_, lines.data(), lines.size());
  } while (n < 0 && errno == EINTR);
  if (n < 0) fail("cannot append to", path_);
  if (static_cast<std::size_t>(n) != lines.size()) {
    // A short write (disk full): remove the partial tail so the file stays whole lines.
    int saved = errno;
    struct stat st {};
    if (::fstat(fd_, &st) == 0) (void)::ftruncate(fd_, st.st_size - n);
    errno = saved ? saved : ENOSPC;
    fail("short write to", path_);
  }
}

void AppendLog::sync() {
  if (::fdatasync(fd_) != 0) fail("cannot sync", path_);
}

std::string read_small_file(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) fail("cannot open", path);
  std::ostringstream out;
  out << in.rdbuf();
  return out.str();
}

bool is_safe_id(std::string_view id) noexcept {
  if (id.empty() || id.size() > 128 || id[0] == '.' || id[0] == '-') return false;
  for (char c : id) {
    bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' || c == '_' ||
              c == '-';
    if (!ok) return false;
  }
  return true;
}

void require_safe_id(std::string_view id, std::string_view what) {
  if (!is_safe_id(id))
    throw UsageError(std::string(what) + " '" + std::string(id) +
                     "' is not a valid id (1-128 characters of A-Z a-z 0-9 . _ -, not starting with . or -)");
}

} // namespace gostly::util
