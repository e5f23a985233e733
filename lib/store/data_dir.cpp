#include "store/data_dir.hpp"

#include "util/error.hpp"
#include "util/files.hpp"

namespace gostly::store {

DataDir::DataDir(std::filesystem::path root, const std::string& store)
    : root_(std::move(root)), library_(StoreLocation::parse(store, root_ / "library.db")) {}

std::filesystem::path DataDir::traffic_file(const std::string& service_id) const {
  util::require_safe_id(service_id, "service id");
  return traffic_dir() / (service_id + ".jsonl");
}

void DataDir::ensure() const { std::filesystem::create_directories(traffic_dir()); }

std::optional<Mode> DataDir::read_mode() const {
  std::error_code ec;
  if (!std::filesystem::exists(mode_file(), ec)) return std::nullopt;
  std::string text = util::read_small_file(mode_file());
  auto mode = parse_settable_mode(text);
  if (!mode) {
    std::string_view shown(text);
    while (!shown.empty() && (shown.back() == '\n' || shown.back() == '\r')) shown.remove_suffix(1);
    // TRANSITIONING is what GET /v1/mode shows during a transition, so say why it is refused.
    throw InputError(mode_file().string(), 1, "mode",
                     "expected " + std::string(kSettableModes) + ", got '" + std::string(shown.substr(0, 40)) + "'" +
                         (parse_mode(text) ? " (TRANSITIONING is a state the server enters during a transition, "
                                             "not a mode to set)"
                                           : ""));
  }
  return mode;
}

bool DataDir::publish_mode(Mode mode, bool only_if_absent) const {
  // Every failure (no directory, disk full, a read-only mount) is a gostly::Error naming
  // mode.txt and the reason, so a caller such as POST /v1/mode can refuse the change.
  std::error_code ec;
  std::filesystem::create_directories(root_, ec);
  if (ec) throw Error("cannot write " + mode_file().string() + ": " + ec.message());
  util::AtomicFile file(mode_file());
  file.write(std::string(to_string(mode)) + "\n");
  // fsync, publish, then fsync of the directory: the mode survives a crash
  if (only_if_absent) return file.commit_if_absent();
  file.commit();
  return true;
}

void DataDir::write_mode(Mode mode) const { publish_mode(mode, false); }

bool DataDir::create_mode(Mode mode) const {
  std::error_code ec;
  if (std::filesystem::symlink_status(mode_file(), ec).type() != std::filesystem::file_type::not_found) return false;
  return publish_mode(mode, true);
}

} // namespace gostly::store
