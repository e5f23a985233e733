#include "transition/control_client.hpp"

#include "util/error.hpp"

#include <curl/curl.h>
#include <nlohmann/json.hpp>

#include <memory>
#include <mutex>

namespace gostly::transition {

namespace {

// curl_global_init is not thread-safe; do it once per process.
void global_init() {
  static std::once_flag once;
  std::call_once(once, [] { curl_global_init(CURL_GLOBAL_DEFAULT); });
}

std::size_t collect(char* data, std::size_t size, std::size_t count, void* user) {
  static_cast<std::string*>(user)->append(data, size * count);
  return size * count;
}

constexpr long kConnectTimeoutMs = 5'000;
// `end` makes the server reload libraries, which can take a while for a large library.
constexpr long kRequestTimeoutMs = 120'000;

} // namespace

ControlClient::ControlClient(std::string host_port, std::string api_key)
    : host_port_(std::move(host_port)), api_key_(std::move(api_key)) {
  auto colon = host_port_.rfind(':');
  if (host_port_.empty() || colon == std::string::npos || colon == 0 || colon + 1 == host_port_.size() ||
      host_port_.find_first_not_of("0123456789", colon + 1) != std::string::npos)
    throw UsageError("--control: expected HOST:PORT, got '" + host_port_ + "'");
  if (api_key_.empty()) throw UsageError("--control needs the control API key in GHOST_API_KEY");
  url_ = "http://" + host_port_ + "/v1/transition";
}

std::string ControlClient::post_transition(const std::string& action, const std::optional<std::string>& mode) {
  global_init();
  nlohmann::json body = {{"action", action}};
  if (mode) body["mode"] = *mode;
  std::string payload = body.dump();
  std::string response;
  char error[CURL_ERROR_SIZE] = {};

  std::unique_ptr<CURL, decltype(&curl_easy_cleanup)> curl(curl_easy_init(), &curl_easy_cleanup);
  if (!curl) throw Error("control " + host_port_ + ": cannot initialise libcurl");
  std::string key_header = "X-API-Key: " + api_key_;
  curl_slist* raw_headers = curl_slist_append(nullptr, "Content-Type: application/json");
  raw_headers = curl_slist_append(raw_headers, key_header.c_str());
  std::unique_ptr<curl_slist, decltype(&curl_slist_free_all)> headers(raw_headers, &curl_slist_free_all);

  CURL* h = curl.get();
  curl_easy_setopt(h, CURLOPT_URL, url_.c_str());
  curl_easy_setopt(h, CURLOPT_HTTPHEADER, headers.get());
  curl_easy_setopt(h, CURLOPT_POSTFIELDS, payload.c_str());
  curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE, static_cast<long>(payload.size()));
  curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, &collect);
  curl_easy_setopt(h, CURLOPT_WRITEDATA, &response);
  curl_easy_setopt(h, CURLOPT_ERRORBUFFER, error);
  curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT_MS, kConnectTimeoutMs);
  curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, kRequestTimeoutMs);
  curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(h, CURLOPT_NOPROXY, "*"); // the control API is never reached through HTTP_PROXY

  CURLcode rc = curl_easy_perform(h);
  if (rc != CURLE_OK)
    throw Error("control " + host_port_ + ": POST /v1/transition " + action + ": " +
                (error[0] ? std::string(error) : std::string(curl_easy_strerror(rc))));
  long status = 0;
  curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &status);
  if (status < 200 || status > 299) {
    std::string excerpt = response.substr(0, 200);
    while (!excerpt.empty() && (excerpt.back() == '\n' || excerpt.back() == '\r')) excerpt.pop_back();
    throw Error("control " + host_port_ + ": POST /v1/transition " + action + ": HTTP " + std::to_string(status) +
                (excerpt.empty() ? "" : ": " + excerpt));
  }
  return response;
}

void ControlClient::begin() { post_transition("begin"); }
void ControlClient::end(const std::optional<std::string>& then_mode) { post_transition("end", then_mode); }
void ControlClient::abort() { post_transition("abort"); }

} // namespace gostly::transition
