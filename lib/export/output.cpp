#include "export/output.hpp"

#include "seed/spool.hpp"
#include "util/error.hpp"
#include "util/files.hpp"

#include <optional>
#include <streambuf>
#include <unistd.h>

namespace gostly::export_ {

// A streambuf that collects 64 KiB blocks and hands them to the AtomicFile or the spool.
// Exceptions from a sink escape the ostream (exceptions(badbit)), so a full disk is an error.
class Output::Buffer : public std::streambuf {
public:
  explicit Buffer(const std::string& path) : block_(std::size_t{1} << 16, '\0') {
    if (path == "-") spool_.emplace();
    else file_.emplace(path);
    setp(block_.data(), block_.data() + block_.size());
  }

  void commit() {
    drain();
    if (file_) file_->commit();
    else spool_->publish(STDOUT_FILENO, "<stdout>");
  }

protected:
  int_type overflow(int_type ch) override {
    drain();
    if (!traits_type::eq_int_type(ch, traits_type::eof())) {
      *pptr() = traits_type::to_char_type(ch);
      pbump(1);
    }
    return traits_type::not_eof(ch);
  }

  std::streamsize xsputn(const char* data, std::streamsize n) override {
    if (n >= static_cast<std::streamsize>(block_.size())) { // big bodies go straight through
      drain();
      put({data, static_cast<std::size_t>(n)});
      return n;
    }
    return std::streambuf::xsputn(data, n);
  }

  int sync() override {
    drain();
    return 0;
  }

private:
  void drain() {
    if (pptr() > pbase()) put({pbase(), static_cast<std::size_t>(pptr() - pbase())});
    setp(block_.data(), block_.data() + block_.size());
  }
  void put(std::string_view bytes) {
    if (file_) file_->write(bytes);
    else spool_->write(bytes);
  }

  std::string block_;
  std::optional<util::AtomicFile> file_;
  std::optional<seed::Spool> spool_;
};

Output::Output(const std::string& path)
    : buffer_(std::make_unique<Buffer>(path)), stream_(std::make_unique<std::ostream>(buffer_.get())) {
  stream_->exceptions(std::ios::badbit);
}

Output::~Output() = default;

std::ostream& Output::stream() noexcept { return *stream_; }

void Output::commit() {
  stream_->flush();
  buffer_->commit();
}

} // namespace gostly::export_
