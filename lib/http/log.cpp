// Logging for message.cpp, kept out of it (see there).
#include <atomic>
#include <spdlog/spdlog.h>
#include <string>

namespace gostly::http::detail {

void log_refused_response(const std::string& field, const char* why) {
  // Once per process: a bad stored record would otherwise log on every replay.
  static std::atomic<bool> logged{false};
  if (!logged.exchange(true))
    spdlog::error("refused to send a stored response: {}: {} (logged once; such replies are 500s)", field, why);
}

} // namespace gostly::http::detail
