#include "record/jsonl.hpp"

#include "record/codec.hpp"
#include "util/error.hpp"
#include "util/files.hpp"
#include "util/limits.hpp"

#include <cerrno>
#include <cstring>
#include <fstream>
#include <iostream>
#include <spdlog/spdlog.h>
#include <sys/stat.h>
#include <unistd.h>

namespace gostly::record {

NamedInput open_input(const std::string& path) {
  NamedInput input;
  if (path == "-") {
    input.name = "<stdin>";
    input.stream = &std::cin;
    return input;
  }
  input.name = path;
  auto file = std::make_unique<std::ifstream>(path, std::ios::binary);
  if (!*file) throw Error("cannot open " + path + ": " + std::strerror(errno));
  input.stream = file.get();
  input.owned = std::move(file);
  return input;
}

std::size_t max_line_bytes() { return util::limit_from_env("GOSTLY_MAX_LINE_BYTES", std::size_t{256} << 20); }

namespace {
// Lines are read a block at a time; one that spans blocks is gathered in long_line_.
constexpr std::size_t kBlock = 64 * 1024;
} // namespace

JsonlReader::JsonlReader(std::istream& in, std::string source_name, TornLastLine torn)
    : in_(in), source_(std::move(source_name)), torn_mode_(torn), max_line_(max_line_bytes()),
      max_depth_(util::max_depth()) {}

bool JsonlReader::next_line(std::string_view& line, bool& had_newline) {
  bool spanning = false;
  long_line_.clear();
  for (;;) {
    const char* data = buffer_.data() + begin_;
    const std::size_t available = end_ - begin_;
    const auto* newline = available ? static_cast<const char*>(std::memchr(data, '\n', available)) : nullptr;
    const std::size_t take = newline ? static_cast<std::size_t>(newline - data) : available;
    if ((spanning ? long_line_.size() : 0) + take > max_line_)
      throw InputError(source_, line_ + 1, "",
                       "line longer than " + std::to_string(max_line_) + " bytes (limit GOSTLY_MAX_LINE_BYTES)");
    if (newline) {
      begin_ += take + 1;
      had_newline = true;
      if (!spanning) {
        line = std::string_view(data, take);
      } else {
        long_line_.append(data, take);
        line = long_line_;
      }
      return true;
    }
    if (available) {
      long_line_.append(data, available);
      spanning = true;
    }
    // Refill. istream::read blocks until the block is full or the input ends: these readers
    // take whole files and streams, nothing waits on a line as it arrives.
    if (buffer_.size() != kBlock) buffer_.resize(kBlock);
    begin_ = end_ = 0;
    if (in_) {
      in_.read(buffer_.data(), static_cast<std::streamsize>(kBlock));
      end_ = static_cast<std::size_t>(in_.gcount());
    }
    if (in_.bad()) throw Error("cannot read " + source_ + ": " + std::strerror(errno));
    if (end_ == 0) {
      if (!spanning) return false;
      had_newline = false;
      line = long_line_;
      return true;
    }
  }
}

bool JsonlReader::next_object(nlohmann::json& out) {
  std::string_view text;
  bool had_newline = false;
  while (next_line(text, had_newline)) {
    ++line_;
    if (!had_newline && torn_mode_ == TornLastLine::error)
      throw InputError(source_, line_, "", "truncated last line (no final newline)");
    if (!text.empty() && text.back() == '\r') text.remove_suffix(1);
    if (text.find_first_not_of(" \t") == std::string_view::npos) continue;
    try {
      out = util::parse_json(text, max_depth_);
    } catch (const util::LimitError& e) {
      throw InputError(source_, line_, "", std::string(e.what()) + " at byte " + std::to_string(e.byte()));
    } catch (const nlohmann::json::exception& e) {
      if (!had_newline) {
        ++torn_;
        spdlog::warn("{}:{}: skipping a torn last line ({} bytes, no final newline)", source_, line_, text.size());
        return false;
      }
      const auto* parse = dynamic_cast<const nlohmann::json::parse_error*>(&e);
      throw InputError(source_, line_, "", parse ? "invalid JSON at byte " + std::to_string(parse->byte) : "invalid JSON");
    }
    if (!out.is_object()) throw InputError(source_, line_, "", "expected a JSON object per line");
    return true;
  }
  return false;
}

bool JsonlReader::next(Interaction& out) {
  nlohmann::json object;
  while (next_object(object)) {
    auto type = object.find("type");
    if (type != object.end() && type->is_string() && *type != "interaction") {
      ++other_;
      continue;
    }
    try {
      out = from_json(object);
    } catch (const FieldError& e) {
      throw InputError(source_, line_, e.field, e.reason);
    }
    return true;
  }
  return false;
}

JsonlWriter::JsonlWriter(int fd, std::string name, Flush flush) : fd_(fd), name_(std::move(name)), flush_(flush) {
  struct stat st {};
  regular_ = ::fstat(fd_, &st) == 0 && S_ISREG(st.st_mode);
}

JsonlWriter::~JsonlWriter() {
  try {
    flush();
  } catch (const std::exception& e) {
    spdlog::error("{}", e.what());
  }
}

void JsonlWriter::write_line(std::string_view compact_json) {
  buffer_.append(compact_json);
  buffer_ += '\n';
  if (flush_ == Flush::per_record || buffer_.size() >= (1u << 16)) flush();
}

void JsonlWriter::write(const Interaction& interaction) { write_line(encode_line(interaction)); }

void JsonlWriter::flush() {
  try {
    // A regular file is cut back to its last whole line when a write stops part-way (disk
    // full), like traffic/<service>.jsonl; a pipe or a terminal cannot be, and gets it all.
    if (regular_) util::write_lines(fd_, buffer_, name_);
    else util::write_all(fd_, buffer_, name_);
  } catch (...) {
    buffer_.clear(); // what failed is not retried into a later write
    throw;
  }
  buffer_.clear();
}

} // namespace gostly::record
