#include "seed/common.hpp"

#include "record/codec.hpp"
#include "util/encoding.hpp"
#include "util/error.hpp"
#include "util/files.hpp"
#include "util/limits.hpp"

#include <yaml-cpp/eventhandler.h>
#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <optional>
#include <streambuf>
#include <unordered_map>

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
  std::array<char, 128> buffer;
  std::string_view id = util::host_service_id(host, buffer); // what gostly-serve looks Host up by
  return util::is_safe_id(id) ? std::string(id) : std::string(record::kDefaultService);
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

void ImportContext::prepare(record::Interaction& interaction, std::uint64_t entry_index, const std::string& pointer) {
  try {
    record::check_wire_safe(interaction);
  } catch (const record::FieldError& e) {
    throw InputError(source_, 0, pointer, e.field + ": " + e.reason + " (refused: it would change the bytes a mock sends)");
  }
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
}

void ImportContext::deliver(record::Interaction&& interaction, const Sink& sink) {
  if (std::find(report_.services.begin(), report_.services.end(), interaction.service_id) == report_.services.end())
    report_.services.push_back(interaction.service_id);
  ++report_.written;
  sink(std::move(interaction));
}

void ImportContext::emit(record::Interaction&& interaction, std::uint64_t entry_index, const std::string& pointer,
                         const Sink& sink) {
  prepare(interaction, entry_index, pointer);
  deliver(std::move(interaction), sink);
}

void ImportContext::emit_all(std::vector<Pending>& pending, const Sink& sink) {
  for (auto& p : pending) prepare(p.interaction, p.index, p.pointer);
  for (auto& p : pending) deliver(std::move(p.interaction), sink);
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

std::string short_pointer(const std::string& pointer, std::size_t max) {
  if (pointer.size() <= max) return pointer;
  auto cut = pointer.rfind('/', max);
  return pointer.substr(0, cut == 0 || cut == std::string::npos ? max : cut) + "/...";
}

std::size_t yaml_expansion_limit() { return util::limit_from_env("GOSTLY_MAX_YAML_EXPANSION", std::size_t{64} << 20); }

std::string read_all(std::istream& in, const std::string& source) {
  std::string text;
  char buffer[1 << 16];
  while (in.read(buffer, sizeof buffer) || in.gcount() > 0) text.append(buffer, static_cast<std::size_t>(in.gcount()));
  if (in.bad()) throw Error("cannot read " + source + ": " + std::strerror(errno));
  return text;
}

namespace {

using Json = nlohmann::ordered_json;

// The YAML 1.2 core-schema forms, by hand: libstdc++'s std::regex_match recurses once per
// character and overflows the stack on a long scalar (200 000 digits).
std::size_t digits_at(std::string_view text, std::size_t i) {
  std::size_t start = i;
  while (i < text.size() && text[i] >= '0' && text[i] <= '9') ++i;
  return i - start;
}
bool is_integer(std::string_view text) { // [-+]?[0-9]+
  std::size_t sign = !text.empty() && (text[0] == '-' || text[0] == '+') ? 1 : 0;
  return text.size() > sign && digits_at(text, sign) == text.size() - sign;
}
bool is_hex(std::string_view text) { // 0x[0-9a-fA-F]+
  return text.size() > 2 && text[0] == '0' && text[1] == 'x' &&
         std::all_of(text.begin() + 2, text.end(), [](unsigned char c) { return std::isxdigit(c); });
}
bool is_number(std::string_view text) { // [-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?
  std::size_t i = !text.empty() && (text[0] == '-' || text[0] == '+') ? 1 : 0;
  std::size_t whole = digits_at(text, i);
  i += whole;
  std::size_t fraction = 0;
  if (i < text.size() && text[i] == '.') {
    fraction = digits_at(text, ++i);
    i += fraction;
  }
  if (whole == 0 && fraction == 0) return false;
  if (i < text.size() && (text[i] == 'e' || text[i] == 'E')) {
    if (++i < text.size() && (text[i] == '-' || text[i] == '+')) ++i;
    std::size_t exponent = digits_at(text, i);
    if (exponent == 0) return false;
    i += exponent;
  }
  return i == text.size();
}

// yaml-cpp keeps every scalar as text; plain (untagged) scalars get YAML 1.2 core-schema types so
// `200`, `true` and `~` mean what they mean in the JSON form of the same spec.
Json yaml_scalar(const std::string& tag, const std::string& text) {
  if (tag == "!") return text; // quoted
  if (text.empty() || text == "~" || text == "null" || text == "Null" || text == "NULL") return nullptr;
  if (text == "true" || text == "True" || text == "TRUE") return true;
  if (text == "false" || text == "False" || text == "FALSE") return false;
  try {
    if (is_integer(text)) return std::stoll(text);
    if (is_hex(text)) return std::stoll(text, nullptr, 16);
    if (is_number(text)) return std::stod(text);
  } catch (const std::out_of_range&) {
    return text;
  }
  return text;
}

// Reads the text in place (yaml-cpp's parser takes an istream).
class TextBuffer : public std::streambuf {
public:
  explicit TextBuffer(const std::string& text) {
    char* data = const_cast<char*>(text.data()); // only ever read
    setg(data, data, data + text.size());
  }
};

// Builds the JSON value from yaml-cpp's parser events rather than from YAML::Load's node graph:
// there an alias is the anchored node itself, so `&p {a: *p}` is a cycle that a recursive
// conversion follows until the stack ends, and ten levels of ten aliases are 10^10 nodes once
// expanded. Here an alias is a copy of a finished anchored value: one whose anchor is still open
// is a cycle, and every copy is paid for from the expansion budget before it is made. Nesting is
// counted as it opens, the way util::parse_json counts it.
class YamlBuilder : public YAML::EventHandler {
public:
  explicit YamlBuilder(const std::string& source)
      : source_(source), depth_limit_(util::max_depth()), expansion_limit_(yaml_expansion_limit()) {}

  Json take() { return std::move(root_); }

  void OnDocumentStart(const YAML::Mark&) override {}
  void OnDocumentEnd() override {}
  void OnAnchor(const YAML::Mark&, const std::string& name) override { anchor_name_ = name; }

  void OnNull(const YAML::Mark& mark, YAML::anchor_t anchor) override {
    if (at_key()) fail(mark, "mapping keys must be scalars");
    produced_ += kNodeCost;
    remember_scalar(anchor, Json(nullptr), {}, kNodeCost);
    place(Json(nullptr), 0);
  }

  void OnScalar(const YAML::Mark& mark, const std::string& tag, YAML::anchor_t anchor, const std::string& value) override {
    std::size_t cost = kNodeCost + value.size();
    produced_ += cost;
    Json typed = yaml_scalar(tag, value);
    remember_scalar(anchor, typed, value, cost);
    if (at_key()) {
      stack_.back().key = value;
      // A plain `<<` is YAML's merge key (quoted, it is an ordinary key); yaml-cpp's parser
      // leaves merging to its reader, so it is done here (place()).
      if (value == "<<" && (tag.empty() || tag == "?")) stack_.back().merge_at = mark;
    } else {
      place(std::move(typed), 0);
    }
  }

  void OnSequenceStart(const YAML::Mark& mark, const std::string&, YAML::anchor_t anchor, YAML::EmitterStyle::value) override {
    open(mark, anchor, Json::array());
  }
  void OnMapStart(const YAML::Mark& mark, const std::string&, YAML::anchor_t anchor, YAML::EmitterStyle::value) override {
    open(mark, anchor, Json::object());
  }
  void OnSequenceEnd() override { close(); }
  void OnMapEnd() override { close(); }

  void OnAlias(const YAML::Mark& mark, YAML::anchor_t anchor) override {
    auto it = anchors_.find(anchor);
    std::string name = it == anchors_.end() || it->second.name.empty() ? "an alias" : "alias *" + it->second.name;
    if (it == anchors_.end() || !it->second.complete)
      fail(mark, name + " refers to a node that contains it (a cycle)");
    const Anchored& target = it->second;
    bool key = at_key();
    if (key && !target.scalar) fail(mark, "mapping keys must be scalars");
    // Merged into the map that holds `<<`, a mapping adds no level of its own.
    std::size_t height = !key && !stack_.empty() && stack_.back().merge_at && target.value.is_object() ? target.height - 1 : target.height;
    if (!key && stack_.size() + height > depth_limit_) fail(mark, util::depth_limit_message(depth_limit_));
    if (target.cost > expansion_limit_ - std::min(expansion_limit_, expanded_))
      fail(mark, name + ": aliases would add more than " + std::to_string(expansion_limit_) +
                     " bytes to the document (limit GOSTLY_MAX_YAML_EXPANSION)");
    expanded_ += target.cost;
    produced_ += target.cost;
    if (key) stack_.back().key = target.text;
    else place(Json(target.value), target.height);
  }

private:
  static constexpr std::size_t kNodeCost = 64; // about what one nlohmann value costs in memory

  struct Frame {
    Json value;
    YAML::anchor_t anchor;
    std::size_t produced_at_open;
    std::size_t height = 1; // containers nested in it, itself included
    std::optional<std::string> key; // maps: a key waiting for its value
    std::optional<YAML::Mark> merge_at; // maps: that key is the merge key `<<`, written here
  };
  struct Anchored {
    std::string name;
    bool complete = false;
    bool scalar = false;
    std::string text; // scalars: as written, for use as a key
    Json value;
    std::size_t cost = 0;
    std::size_t height = 0;
  };

  [[noreturn]] void fail(const YAML::Mark& mark, const std::string& reason) const {
    throw InputError(source_, static_cast<std::uint64_t>(mark.line + 1), "",
                     "column " + std::to_string(mark.column + 1) + ": " + reason);
  }

  bool at_key() const { return !stack_.empty() && stack_.back().value.is_object() && !stack_.back().key; }

  Anchored& anchor_slot(YAML::anchor_t anchor) {
    Anchored& slot = anchors_[anchor];
    slot.name = std::move(anchor_name_);
    anchor_name_.clear();
    return slot;
  }

  void remember_scalar(YAML::anchor_t anchor, const Json& value, const std::string& text, std::size_t cost) {
    if (anchor == YAML::NullAnchor) return;
    Anchored& slot = anchor_slot(anchor);
    slot = Anchored{std::move(slot.name), true, true, text, value, cost, 0};
  }

  void open(const YAML::Mark& mark, YAML::anchor_t anchor, Json&& container) {
    if (at_key()) fail(mark, "mapping keys must be scalars");
    if (stack_.size() + 1 > depth_limit_) fail(mark, util::depth_limit_message(depth_limit_));
    if (anchor != YAML::NullAnchor) anchor_slot(anchor); // known but incomplete: an alias to it now is a cycle
    produced_ += kNodeCost;
    stack_.push_back(Frame{std::move(container), anchor, produced_ - kNodeCost, 1, std::nullopt, std::nullopt});
  }

  void close() {
    Frame frame = std::move(stack_.back());
    stack_.pop_back();
    if (frame.anchor != YAML::NullAnchor) {
      Anchored& slot = anchors_[frame.anchor];
      slot.complete = true;
      slot.value = frame.value;
      slot.cost = produced_ - frame.produced_at_open;
      slot.height = frame.height;
    }
    place(std::move(frame.value), frame.height);
  }

  void place(Json&& value, std::size_t height) {
    if (stack_.empty()) {
      root_ = std::move(value);
      return;
    }
    Frame& parent = stack_.back();
    if (parent.merge_at) return merge(parent, std::move(value), height);
    parent.height = std::max(parent.height, height + 1);
    if (parent.value.is_array()) {
      parent.value.push_back(std::move(value));
    } else {
      parent.value[*parent.key] = std::move(value);
      parent.key.reset();
    }
  }

  // `<<: MAP` or `<<: [MAP, ...]` (YAML 1.1 merge, which OpenAPI documents use to share parts of
  // schemas): each key of the mappings that the map does not have yet is added, so the map's own
  // keys win wherever they are written (a later one overwrites in place()) and in a list the
  // first mapping holding a key wins. Nothing is copied that was not already paid for: aliases
  // were charged to the expansion budget in OnAlias.
  void merge(Frame& parent, Json&& value, std::size_t height) {
    YAML::Mark mark = *parent.merge_at;
    parent.merge_at.reset();
    parent.key.reset();
    auto merge_one = [&](Json& from) {
      for (auto& [name, item] : from.items())
        if (!parent.value.contains(name)) parent.value[name] = std::move(item);
    };
    if (value.is_object()) {
      merge_one(value);
      parent.height = std::max(parent.height, height);
      return;
    }
    bool all_maps = value.is_array() && std::all_of(value.begin(), value.end(), [](const Json& v) { return v.is_object(); });
    if (!all_maps)
      fail(mark, std::string("the merge key << needs a mapping or a list of mappings, got ") +
                     (value.is_array() ? "a list holding something else" : value.type_name()));
    for (auto& map : value) merge_one(map);
    parent.height = std::max(parent.height, height > 1 ? height - 1 : 1);
  }

  const std::string& source_;
  std::size_t depth_limit_;
  std::size_t expansion_limit_;
  std::size_t produced_ = 0; // cost of everything built so far (for an anchor's own cost)
  std::size_t expanded_ = 0; // cost of the alias copies so far
  std::vector<Frame> stack_;
  std::unordered_map<YAML::anchor_t, Anchored> anchors_;
  std::string anchor_name_;
  Json root_;
};

// 1-based line and column of the 0-based `byte` of `text`.
std::pair<std::uint64_t, std::size_t> line_and_column(const std::string& text, std::size_t byte) {
  byte = std::min(byte, text.size());
  auto line = static_cast<std::uint64_t>(std::count(text.begin(), text.begin() + static_cast<std::ptrdiff_t>(byte), '\n') + 1);
  auto line_start = byte == 0 ? std::string::npos : text.rfind('\n', byte - 1);
  std::size_t column = line_start == std::string::npos ? byte + 1 : byte - line_start;
  return {line, column};
}

} // namespace

nlohmann::ordered_json parse_document(const std::string& text, const std::string& source) {
  auto first = text.find_first_not_of(" \t\r\n\xEF\xBB\xBF");
  if (first == std::string::npos) throw InputError(source, 0, "", "empty document");
  if (text[first] == '{' || text[first] == '[') {
    try {
      return util::parse_ordered_json(text);
    } catch (const util::LimitError& e) {
      auto [line, column] = line_and_column(text, e.byte());
      throw InputError(source, line, "", "column " + std::to_string(column) + ": " + e.what());
    } catch (const nlohmann::json::parse_error& e) {
      auto [line, column] = line_and_column(text, e.byte == 0 ? 0 : e.byte - 1);
      std::string what = e.what();
      if (auto pos = what.find("syntax error while parsing value - "); pos != std::string::npos)
        what = what.substr(pos + 35);
      else if (auto colon = what.rfind(": "); colon != std::string::npos)
        what = what.substr(colon + 2);
      throw InputError(source, line, "", "column " + std::to_string(column) + ": invalid JSON: " + util::to_lower(what));
    }
  }
  try {
    TextBuffer buffer(text);
    std::istream in(&buffer);
    YAML::Parser parser(in);
    YamlBuilder builder(source);
    parser.HandleNextDocument(builder); // the first document, as YAML::Load reads it
    return builder.take();
  } catch (const YAML::Exception& e) {
    throw InputError(source, static_cast<std::uint64_t>(e.mark.line + 1), "",
                     "column " + std::to_string(e.mark.column + 1) + ": invalid YAML: " + e.msg);
  }
}

bool flag(const nlohmann::ordered_json& node, const char* key, bool fallback) noexcept {
  if (!node.is_object()) return fallback;
  auto it = node.find(key);
  if (it == node.end()) return fallback;
  if (it->is_boolean()) return it->get<bool>();
  if (it->is_string()) {
    const auto& text = it->get_ref<const std::string&>();
    if (text == "true") return true;
    if (text == "false") return false;
  }
  return fallback;
}

std::string string_or_empty(const nlohmann::ordered_json& node, const char* key) {
  if (!node.is_object()) return {};
  auto it = node.find(key);
  return it != node.end() && it->is_string() ? it->get<std::string>() : std::string();
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
