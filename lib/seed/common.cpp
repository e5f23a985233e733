#include "seed/common.hpp"

#include "util/encoding.hpp"
#include "util/error.hpp"
#include "util/files.hpp"

#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <regex>

namespace gostly::seed {

Format parse_format(std::string_view name) {
  if (name == "har") return Format::har;
  if (name == "postman") return Format::postman;
  if (name == "openapi") return Format::openapi;
  throw UsageError("unknown seed format '" + std::string(name) + "' (expected har, postman or openapi)");
}

std::string_view to_string(Format format) noexcept {
  switch (format) {
  case Format::har: return "har";
  case Format::postman: return "postman";
  case Format::openapi: return "openapi";
  }
  return "har";
}

bool split_url(std::string_view url, SplitUrl& out) {
  out = SplitUrl{};
  if (auto hash = url.find('#'); hash != std::string_view::npos) url = url.substr(0, hash);
  auto scheme_end = url.find("://");
  if (scheme_end != std::string_view::npos && scheme_end > 0 &&
      url.substr(0, scheme_end).find_first_of("/?") == std::string_view::npos) {
    out.scheme = util::to_lower(url.substr(0, scheme_end));
    std::string_view rest = url.substr(scheme_end + 3);
    auto path_start = rest.find_first_of("/?");
    std::string_view authority = rest.substr(0, path_start);
    if (auto at = authority.rfind('@'); at != std::string_view::npos) authority = authority.substr(at + 1);
    out.host = std::string(authority);
    std::string_view tail = path_start == std::string_view::npos ? std::string_view{} : rest.substr(path_start);
    out.uri = tail.empty() || tail.front() == '?' ? "/" + std::string(tail) : std::string(tail);
    return !out.host.empty();
  }
  if (url.empty() || url.front() != '/') return false;
  out.uri = std::string(url);
  return true;
}

std::string_view host_without_port(std::string_view host) noexcept {
  if (!host.empty() && host.front() == '[') {
    auto close = host.find(']');
    return close == std::string_view::npos ? host : host.substr(0, close + 1);
  }
  auto colon = host.rfind(':');
  return colon == std::string_view::npos ? host : host.substr(0, colon);
}

std::string service_for_host(std::string_view host) {
  std::string id;
  for (char c : util::to_lower(host)) {
    bool safe = (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '.' || c == '-' || c == '_';
    id += safe ? c : '-';
  }
  while (!id.empty() && (id.back() == '.' || id.back() == '-')) id.pop_back();
  while (!id.empty() && (id.front() == '.' || id.front() == '-')) id.erase(id.begin());
  if (id.size() > 128) id.resize(128);
  return util::is_safe_id(id) ? id : std::string(record::kDefaultService);
}

std::string pointer_token(std::string_view token) {
  std::string out;
  for (char c : token) {
    if (c == '~') out += "~0";
    else if (c == '/') out += "~1";
    else out += c;
  }
  return out;
}

std::string normalize_http_version(std::string_view version) {
  std::string v = util::to_lower(version);
  if (v.rfind("http/", 0) == 0) v = v.substr(5);
  if (v == "h2" || v == "2.0") return "2";
  if (v == "h3" || v == "3.0") return "3";
  if (v == "1.0" || v == "1.1" || v == "2" || v == "3") return v;
  return "1.1";
}


ImportContext::ImportContext(Format format, std::string source, const SeedOptions& options, SeedReport& report)
    : format_(format), source_(std::move(source)), options_(options), report_(report),
      redactor_(redact::Redactor::from_environment()) {
  report_.format = format;
  if (options_.service) util::require_safe_id(*options_.service, "service id");
  if (options_.session) {
    util::require_safe_id(*options_.session, "session id");
    report_.session_id = *options_.session;
  }
}

void ImportContext::set_session_from(std::string_view digest_input) {
  if (options_.session) return;
  report_.session_id = "seed-" + std::string(to_string(format_)) + "-" + util::sha256_hex(digest_input).substr(0, 12);
}

void ImportContext::emit(record::Interaction&& interaction, std::uint64_t entry_index, const Sink& sink) {
  // Zero-padded so ids sort in input order; the index is the entry's place in the input (not the
  // count written), so skipping a bad entry does not renumber the rest.
  char suffix[24];
  std::snprintf(suffix, sizeof suffix, "-%06llu", static_cast<unsigned long long>(entry_index));
  interaction.id = report_.session_id + suffix;
  interaction.session_id = report_.session_id;
  interaction.source = std::string(to_string(format_));
  if (options_.service) interaction.service_id = *options_.service;
  if (interaction.service_id.empty()) interaction.service_id = std::string(record::kDefaultService);
  redactor_.apply(interaction);
  if (std::find(report_.services.begin(), report_.services.end(), interaction.service_id) == report_.services.end())
    report_.services.push_back(interaction.service_id);
  ++report_.written;
  sink(std::move(interaction));
}

void ImportContext::bad_entry(const EntryError& error) {
  if (options_.on_bad_entry == OnBadEntry::fail) throw InputError(source_, 0, error.pointer, error.reason);
  ++report_.skipped;
  warn(source_ + ": " + error.pointer + ": " + error.reason + " (entry skipped)");
}

void ImportContext::warn(const std::string& text) {
  if (report_.warnings.size() < 100) report_.warnings.push_back(text);
  if (options_.on_warning) options_.on_warning(text);
}

std::string read_all(std::istream& in, const std::string& source) {
  std::string text;
  char buffer[1 << 16];
  while (in.read(buffer, sizeof buffer) || in.gcount() > 0) text.append(buffer, static_cast<std::size_t>(in.gcount()));
  if (in.bad()) throw Error("cannot read " + source + ": " + std::strerror(errno));
  return text;
}

namespace {

// yaml-cpp keeps every scalar as text; plain (untagged) scalars get YAML 1.2 core-schema types so
// `200`, `true` and `~` mean what they mean in the JSON form of the same spec.
nlohmann::ordered_json yaml_scalar(const YAML::Node& node) {
  const std::string& text = node.Scalar();
  if (node.Tag() == "!") return text; // quoted
  static const std::regex integer(R"([-+]?[0-9]+)");
  static const std::regex hex(R"(0x[0-9a-fA-F]+)");
  static const std::regex number(R"([-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?)");
  if (text.empty() || text == "~" || text == "null" || text == "Null" || text == "NULL") return nullptr;
  if (text == "true" || text == "True" || text == "TRUE") return true;
  if (text == "false" || text == "False" || text == "FALSE") return false;
  try {
    if (std::regex_match(text, integer)) return std::stoll(text);
    if (std::regex_match(text, hex)) return std::stoll(text, nullptr, 16);
    if (std::regex_match(text, number)) return std::stod(text);
  } catch (const std::out_of_range&) {
    return text;
  }
  return text;
}

nlohmann::ordered_json yaml_to_json(const YAML::Node& node, const std::string& source) {
  switch (node.Type()) {
  case YAML::NodeType::Null: return nullptr;
  case YAML::NodeType::Scalar: return yaml_scalar(node);
  case YAML::NodeType::Sequence: {
    auto array = nlohmann::ordered_json::array();
    for (const auto& item : node) array.push_back(yaml_to_json(item, source));
    return array;
  }
  case YAML::NodeType::Map: {
    auto object = nlohmann::ordered_json::object();
    for (const auto& pair : node) {
      if (!pair.first.IsScalar())
        throw InputError(source, static_cast<std::uint64_t>(pair.first.Mark().line + 1), "", "mapping keys must be scalars");
      object[pair.first.Scalar()] = yaml_to_json(pair.second, source);
    }
    return object;
  }
  case YAML::NodeType::Undefined: break;
  }
  return nullptr;
}

} // namespace

nlohmann::ordered_json parse_document(const std::string& text, const std::string& source) {
  auto first = text.find_first_not_of(" \t\r\n\xEF\xBB\xBF");
  if (first == std::string::npos) throw InputError(source, 0, "", "empty document");
  if (text[first] == '{' || text[first] == '[') {
    try {
      return nlohmann::ordered_json::parse(text);
    } catch (const nlohmann::json::parse_error& e) {
      std::size_t byte = e.byte == 0 ? 0 : std::min<std::size_t>(e.byte - 1, text.size());
      auto line = static_cast<std::uint64_t>(std::count(text.begin(), text.begin() + static_cast<std::ptrdiff_t>(byte), '\n') + 1);
      auto line_start = text.rfind('\n', byte == 0 ? 0 : byte - 1);
      std::size_t column = line_start == std::string::npos ? byte + 1 : byte - line_start;
      std::string what = e.what();
      if (auto pos = what.find("syntax error while parsing value - "); pos != std::string::npos)
        what = what.substr(pos + 35);
      else if (auto colon = what.rfind(": "); colon != std::string::npos)
        what = what.substr(colon + 2);
      throw InputError(source, line, "", "column " + std::to_string(column) + ": invalid JSON: " + util::to_lower(what));
    }
  }
  try {
    YAML::Node root = YAML::Load(text);
    return yaml_to_json(root, source);
  } catch (const YAML::Exception& e) {
    throw InputError(source, static_cast<std::uint64_t>(e.mark.line + 1), "",
                     "column " + std::to_string(e.mark.column + 1) + ": invalid YAML: " + e.msg);
  }
}

std::string optional_string(const nlohmann::ordered_json& node, const char* key, const std::string& pointer) {
  auto it = node.find(key);
  if (it == node.end() || it->is_null()) return {};
  if (!it->is_string()) throw EntryError{pointer + "/" + key, std::string("expected a string, got ") + it->type_name()};
  return it->get<std::string>();
}

std::string form_encode(std::string_view text) {
  static const char* hex = "0123456789ABCDEF";
  std::string out;
  for (unsigned char c : text) {
    if (std::isalnum(c) || c == '-' || c == '.' || c == '_' || c == '~') out += static_cast<char>(c);
    else if (c == ' ') out += '+';
    else {
      out += '%';
      out += hex[c >> 4];
      out += hex[c & 15];
    }
  }
  return out;
}

} // namespace gostly::seed
