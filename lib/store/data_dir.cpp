#include "store/data_dir.hpp"

#include "util/error.hpp"
#include "util/files.hpp"

namespace gostly::store {

DataDir::DataDir(std::filesystem::path root) : root_(std::move(root)) {}

std::filesystem::path DataDir::traffic_file(const std::string& service_id) const {
  util::require_safe_id(service_id, "service id");
  return traffic_dir() / (service_id + ".jsonl");
}

void DataDir::ensure() const { std::filesystem::create_directories(traffic_dir()); }

std::optional<Mode> DataDir::read_mode() const {
  std::error_code ec;
  if (!std::filesystem::exists(mode_file(), ec)) return std::nullopt;
  std::string text = util::read_small_file(mode_file());
  auto mode = parse_mode(text);
  if (!mode)
    throw InputError(mode_file().string(), 1, "mode",
                     "expected LEARN, MOCK, PASSTHROUGH or TRANSITIONING, got '" + text.substr(0, 40) + "'");
  return mode;
}

void DataDir::write_mode(Mode mode) const {
  // Every failure (no directory, disk full, a read-only mount) is a gostly::Error naming
  // mode.txt and the reason, so a caller such as POST /v1/mode can refuse the change.
  std::error_code ec;
  std::filesystem::create_directories(root_, ec);
  if (ec) throw Error("cannot write " + mode_file().string() + ": " + ec.message());
  util::AtomicFile file(mode_file());
  file.write(std::string(to_string(mode)) + "\n");
  file.commit(); // fsync, rename, then fsync of the directory: the mode survives a crash
}

} // namespace gostly::store
