#include "serve/command_env.hpp"

#include "util/encoding.hpp"
#include "util/error.hpp"
#include "util/files.hpp"

#include <algorithm>
#include <cctype>
#include <openssl/x509.h>
#include <unistd.h>

namespace gostly::serve {
namespace {

std::string upper(std::string_view text) {
  std::string out(text);
  for (char& c : out) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  return out;
}

std::string_view name_of(std::string_view entry) { return entry.substr(0, entry.find('=')); }

std::string_view value_of(std::string_view entry) {
  auto eq = entry.find('=');
  return eq == std::string_view::npos ? std::string_view{} : entry.substr(eq + 1);
}

// Appends each comma-separated item of `list` not yet in `items` (NO_PROXY and no_proxy merged).
void add_items(std::vector<std::string>& items, std::string_view list) {
  for (std::string_view item : util::split_list(list))
    if (std::find(items.begin(), items.end(), item) == items.end()) items.emplace_back(item);
}

bool readable(const std::filesystem::path& path) {
  std::error_code ec;
  return !path.empty() && std::filesystem::is_regular_file(path, ec) && ::access(path.c_str(), R_OK) == 0;
}

} // namespace

std::vector<std::string> command_environment(const std::vector<std::string>& parent, const CommandEnvSettings& settings) {
  const bool intercepting = !settings.bundle_file.empty();
  std::vector<std::pair<std::string, std::string>> set{
      {"GOSTLY_PROXY_URL", settings.proxy_url},
      {"HTTP_PROXY", settings.proxy_url},
      {"http_proxy", settings.proxy_url},
      {"NODE_USE_ENV_PROXY", "1"},
  };
  if (intercepting) {
    const std::string bundle = settings.bundle_file.string();
    for (const char* name : {"HTTPS_PROXY", "https_proxy"}) set.emplace_back(name, settings.proxy_url);
    for (const char* name : {"SSL_CERT_FILE", "REQUESTS_CA_BUNDLE", "CURL_CA_BUNDLE", "GIT_SSL_CAINFO"})
      set.emplace_back(name, bundle);
    set.emplace_back("NODE_EXTRA_CA_CERTS", settings.ca_file.string());
  }
  set.insert(set.end(), settings.extra.begin(), settings.extra.end());

  std::vector<std::string> no_proxy;
  std::vector<std::string> out;
  out.reserve(parent.size() + set.size() + 2);
  for (const auto& entry : parent) {
    std::string key = upper(name_of(entry));
    if (key == "NO_PROXY") {
      add_items(no_proxy, value_of(entry));
      continue;
    }
    bool replaced = std::any_of(set.begin(), set.end(), [&](const auto& kv) { return upper(kv.first) == key; });
    if (!replaced) out.push_back(entry);
  }
  if (!settings.proxy_authority.empty()) add_items(no_proxy, settings.proxy_authority);
  for (const auto& authority : settings.no_proxy_extra) add_items(no_proxy, authority);
  for (auto& [name, value] : set) out.push_back(name + "=" + value);
  if (!no_proxy.empty()) {
    std::string list;
    for (const auto& item : no_proxy) list += (list.empty() ? "" : ",") + item;
    out.push_back("NO_PROXY=" + list);
    out.push_back("no_proxy=" + list);
  }
  return out;
}

std::filesystem::path system_roots_file(std::string_view inherited_cert_file) {
  for (std::filesystem::path candidate : {std::filesystem::path(inherited_cert_file),
                                          std::filesystem::path("/etc/ssl/certs/ca-certificates.crt"),
                                          std::filesystem::path(X509_get_default_cert_file())}) {
    if (readable(candidate)) return candidate;
  }
  return {};
}

bool write_ca_bundle(const std::filesystem::path& bundle, const std::filesystem::path& roots, std::string_view ca_pem) {
  std::string text;
  bool have_roots = false;
  if (!roots.empty()) {
    try {
      text = util::read_small_file(roots);
      have_roots = true;
    } catch (const Error&) {
      text.clear();
    }
  }
  if (!text.empty() && text.back() != '\n') text += '\n';
  text += ca_pem;
  if (!text.empty() && text.back() != '\n') text += '\n';
  util::AtomicFile file(bundle);
  file.write(text);
  file.commit(util::Fsync::no);
  return have_roots;
}

} // namespace gostly::serve
