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

// Writes `bytes` until all are written or a write fails (EINTR retried; a write of 0 bytes counts
// as ENOSPC rather than looping). Returns how many bytes landed and the failure's errno, 0 if none.
std::pair<std::size_t, int> write_until_error(int fd, std::string_view bytes) noexcept {
  std::size_t done = 0;
  while (done < bytes.size()) {
    ssize_t n = ::write(fd, bytes.data() + done, bytes.size() - done);
    if (n > 0) done += static_cast<std::size_t>(n);
    else if (n < 0 && errno == EINTR) continue;
    else return {done, n < 0 ? errno : ENOSPC};
  }
  return {done, 0};
}

// fsync() with EINTR retried; returns 0 or the errno.
int fsync_retrying(int fd) noexcept {
  while (::fsync(fd) != 0)
    if (errno != EINTR) return errno;
  return 0;
}

[[noreturn]] void fail(const char* what, const std::filesystem::path& path, int error = errno) {
  throw Error(std::string(what) + " " + path.string() + ": " + std::strerror(error));
}

void sync_fd(int fd, const std::filesystem::path& name) {
  if (int error = fsync_retrying(fd)) fail("cannot sync", name, error);
}

bool under_proc(const std::filesystem::path& p) {
  auto it = p.begin();
  return p.is_absolute() && ++it != p.end() && *it == "proc";
}

// Follows `path` through symlinks to the name that finally holds (or will hold) the file, so
// publishing replaces the target and keeps the links. Done by hand rather than with realpath()
// because the last link may dangle (the target is then created). `magic` is set when a link
// leads into /proc (/dev/stdout -> /proc/self/fd/1): such a link names an open file, not a path.
std::filesystem::path resolve_links(std::filesystem::path path, bool& magic) {
  for (int hops = 0; hops < 40; ++hops) {
    struct stat st {};
    if (::lstat(path.c_str(), &st) != 0 || !S_ISLNK(st.st_mode)) return path;
    std::error_code ec;
    auto next = std::filesystem::read_symlink(path, ec);
    if (ec) throw Error("cannot read link " + path.string() + ": " + ec.message());
    path = next.is_absolute() ? next : path.parent_path() / next;
    if (under_proc(path)) {
      magic = true;
      return path;
    }
  }
  errno = ELOOP;
  fail("cannot resolve", path);
}

void sync_directory(const std::filesystem::path& dir) {
  int fd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) return; // not ours to open (e.g. search-only permission): nothing more to do
  int error = fsync_retrying(fd);
  ::close(fd);
  // Some filesystems cannot sync a directory (EINVAL); the rename itself went through.
  if (error != 0 && error != EINVAL && error != EROFS) fail("cannot sync directory", dir, error);
}

} // namespace

void write_all(int fd, std::string_view bytes, const std::string& name) {
  if (auto [done, error] = write_until_error(fd, bytes); error)
    throw Error("cannot write " + name + ": " + std::strerror(error));
}

void write_lines(int fd, std::string_view lines, const std::string& name) {
  auto [done, error] = write_until_error(fd, lines);
  if (!error) return;
  std::string what = "cannot write " + name + ": " + std::strerror(error);
  if (done > 0) {
    // Part of this call's lines landed: cut them off so the next write starts on a line
    // boundary (with O_APPEND the offset is the end of what we wrote, too).
    off_t end = ::lseek(fd, 0, SEEK_CUR);
    off_t start = end - static_cast<off_t>(done);
    if (end < 0 || start < 0 || ::ftruncate(fd, start) != 0 || ::lseek(fd, start, SEEK_SET) < 0)
      what += std::string("; and cannot cut back the partial line: ") + std::strerror(errno);
  }
  throw Error(what);
}


AtomicFile::AtomicFile(std::filesystem::path path) : path_(std::move(path)) {
  bool magic = false;
  target_ = resolve_links(path_, magic);
  struct stat st {};
  bool exists = ::stat(path_.c_str(), &st) == 0; // follows every link
  if (magic || (exists && !S_ISREG(st.st_mode))) {
    // Not a file we may replace: write into it. A regular file reached through /proc (stdout
    // redirected to a file) is appended to, as a shell's `>>` would.
    regular_ = exists && S_ISREG(st.st_mode);
    kind_ = Kind::in_place;
    fd_ = ::open(path_.c_str(), O_WRONLY | O_CLOEXEC | (regular_ ? O_APPEND : 0));
    if (fd_ < 0) fail("cannot open", path_);
    return;
  }
  auto dir = target_.parent_path().empty() ? std::filesystem::path(".") : target_.parent_path();
  // Naming the unnamed file on commit goes through /proc/self/fd, so both must be there.
  if (::access("/proc/self/fd", X_OK) == 0) {
    fd_ = ::open(dir.c_str(), O_TMPFILE | O_WRONLY | O_CLOEXEC, 0644);
    if (fd_ >= 0) return;
  }
  kind_ = Kind::named;
  temp_ = target_;
  temp_ += ".tmp." + std::to_string(::getpid());
  fd_ = ::open(temp_.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd_ < 0) {
    int error = errno;
    temp_.clear();
    fail("cannot create", target_, error);
  }
}

AtomicFile::~AtomicFile() {
  if (fd_ >= 0) ::close(fd_);
  if (!temp_.empty()) ::unlink(temp_.c_str());
}

void AtomicFile::write(std::string_view bytes) {
  if (fd_ < 0) throw Error("internal: " + path_.string() + " written after commit");
  write_all(fd_, bytes, path_.string());
}

void AtomicFile::commit(Fsync fsync) {
  if (fd_ < 0) throw Error("internal: " + path_.string() + " committed twice");
  // A FIFO or a device cannot be synced (EINVAL); only a regular file is.
  if (fsync == Fsync::yes && regular_) sync_fd(fd_, path_);
  if (kind_ == Kind::unnamed) {
    // Give the unnamed file a name beside the target, then rename it over the target: linkat()
    // cannot replace an existing name. A leftover of a killed run that had our pid is removed.
    temp_ = target_;
    temp_ += ".tmp." + std::to_string(::getpid());
    std::string self = "/proc/self/fd/" + std::to_string(fd_);
    int rc = ::linkat(AT_FDCWD, self.c_str(), AT_FDCWD, temp_.c_str(), AT_SYMLINK_FOLLOW);
    if (rc != 0 && errno == EEXIST && ::unlink(temp_.c_str()) == 0)
      rc = ::linkat(AT_FDCWD, self.c_str(), AT_FDCWD, temp_.c_str(), AT_SYMLINK_FOLLOW);
    if (rc != 0) {
      int error = errno;
      temp_.clear();
      fail("cannot create", target_, error);
    }
  }
  int closed = ::close(fd_);
  fd_ = -1;
  if (closed != 0) fail("cannot close", path_);
  if (kind_ == Kind::in_place) return;
  if (::rename(temp_.c_str(), target_.c_str()) != 0) fail("cannot rename onto", target_);
  temp_.clear();
  if (fsync == Fsync::yes) sync_directory(target_.parent_path().empty() ? "." : target_.parent_path());
}

bool AtomicFile::commit_if_absent(Fsync fsync) {
  if (fd_ < 0) throw Error("internal: " + path_.string() + " committed twice");
  if (kind_ == Kind::in_place) { // `path` existed when this AtomicFile was made
    ::close(fd_);
    fd_ = -1;
    return false;
  }
  if (fsync == Fsync::yes) sync_fd(fd_, path_);
  int rc;
  if (kind_ == Kind::unnamed) {
    std::string self = "/proc/self/fd/" + std::to_string(fd_);
    rc = ::linkat(AT_FDCWD, self.c_str(), AT_FDCWD, target_.c_str(), AT_SYMLINK_FOLLOW);
  } else {
    rc = ::link(temp_.c_str(), target_.c_str());
  }
  int error = errno;
  int closed = ::close(fd_);
  fd_ = -1;
  if (!temp_.empty()) ::unlink(temp_.c_str());
  temp_.clear();
  if (rc != 0 && error == EEXIST) return false;
  if (rc != 0) fail("cannot create", target_, error);
  if (closed != 0) fail("cannot close", path_);
  if (fsync == Fsync::yes) sync_directory(target_.parent_path().empty() ? "." : target_.parent_path());
  return true;
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
  write_lines(fd_, lines, path_.string());
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

namespace {
// host_service_id's character map, a table because it runs on every proxied request's Host.
constexpr std::array<char, 256> kHostIdChars = [] {
  std::array<char, 256> map{};
  for (int c = 0; c < 256; ++c) {
    bool safe = (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '.' || c == '-' || c == '_';
    map[c] = c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : safe ? static_cast<char>(c) : '-';
  }
  return map;
}();
} // namespace

std::string_view host_service_id(std::string_view host, std::array<char, 128>& out) noexcept {
  auto mapped = [](char c) { return kHostIdChars[static_cast<unsigned char>(c)]; };
  auto trimmed = [](char c) { return c == '.' || c == '-'; };
  std::size_t i = 0;
  while (i < host.size() && trimmed(mapped(host[i]))) ++i;
  std::size_t n = 0;
  for (; i < host.size() && n < out.size(); ++i) out[n++] = mapped(host[i]);
  // Trailing '.'/'-' go before the cut to 128, so they are trimmed only when nothing else is left
  // past it.
  bool more = false;
  for (; i < host.size() && !more; ++i) more = !trimmed(mapped(host[i]));
  if (!more)
    while (n > 0 && trimmed(out[n - 1])) --n;
  return {out.data(), n};
}

void require_safe_id(std::string_view id, std::string_view what) {
  if (!is_safe_id(id))
    throw UsageError(std::string(what) + " '" + std::string(id) +
                     "' is not a valid id (1-128 characters of A-Z a-z 0-9 . _ -, not starting with . or -)");
}

} // namespace gostly::util
