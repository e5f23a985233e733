#include "record/jsonl.hpp"

#include "record/codec.hpp"
#include "util/error.hpp"
#include "util/files.hpp"

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

JsonlReader::JsonlReader(std::istream& in, std::string source_name) : in_(in), source_(std::move(source_name)) {}

bool JsonlReader::next_object(nlohmann::json& out) {
  while (std::getline(in_, buffer_)) {
    ++line_;
    bool had_newline = !in_.eof();
    if (!buffer_.empty() && buffer_.back() == '\r') buffer_.pop_back();
    std::size_t first = buffer_.find_first_not_of(" \t");
    if (first == std::string::npos) continue;
    out = nlohmann::json::parse(buffer_, nullptr, /*allow_exceptions=*/false);
    if (out.is_discarded()) {
      if (!had_newline) {
        ++torn_;
        spdlog::warn("{}:{}: skipping a torn last line ({} bytes, no final newline)", source_, line_, buffer_.size());
        return false;
      }
      // Re-parse with exceptions to get nlohmann's byte position for the message.
      try {
        auto ignored = nlohmann::json::parse(buffer_);
        (void)ignored;
      } catch (const nlohmann::json::parse_error& e) {
        throw InputError(source_, line_, "", std::string("invalid JSON at byte ") + std::to_string(e.byte));
      }
      throw InputError(source_, line_, "", "invalid JSON");
    }
    if (!out.is_object()) throw InputError(source_, line_, "", "expected a JSON object per line");
    return true;
  }
  if (in_.bad()) throw Error("cannot read " + source_ + ": " + std::strerror(errno));
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
