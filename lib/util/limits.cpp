#include "util/limits.hpp"

#include <charconv>
#include <cstdlib>

namespace gostly::util {

std::size_t limit_from_env(const char* env_name, std::size_t fallback) {
  const char* text = std::getenv(env_name);
  if (!text || !*text) return fallback;
  std::size_t value = 0;
  std::string_view view(text);
  auto [end, ec] = std::from_chars(view.data(), view.data() + view.size(), value);
  if (ec != std::errc{} || end != view.data() + view.size() || value == 0)
    throw UsageError(std::string(env_name) + ": expected a positive integer, got '" + text + "'");
  return value;
}

std::size_t max_depth() { return limit_from_env("GOSTLY_MAX_DEPTH", 256); }

std::string depth_limit_message(std::size_t depth_limit) {
  return "nested deeper than " + std::to_string(depth_limit) + " levels (limit GOSTLY_MAX_DEPTH)";
}

namespace {

// nlohmann's parser is iterative, but everything done with the value afterwards (dump, copy,
// comparison, our own walks) recurses once per level: the depth is bounded while parsing, before
// a deep value exists. The SAX events are dispatched statically, so these hide the base's.
template <typename BasicJson>
class DepthLimitedParser : public nlohmann::detail::json_sax_dom_parser<BasicJson> {
  using Base = nlohmann::detail::json_sax_dom_parser<BasicJson>;

public:
  DepthLimitedParser(BasicJson& result, std::size_t limit) : Base(result, true), limit_(limit) {}

  bool start_object(std::size_t length) {
    enter();
    return Base::start_object(length);
  }
  bool end_object() {
    --depth_;
    return Base::end_object();
  }
  bool start_array(std::size_t length) {
    enter();
    return Base::start_array(length);
  }
  bool end_array() {
    --depth_;
    return Base::end_array();
  }
  template <class Exception>
  bool parse_error(std::size_t position, const std::string& last_token, const Exception& error) {
    return Base::parse_error(position, last_token, error);
  }

private:
  void enter() {
    if (++depth_ > limit_) throw LimitError(depth_limit_message(limit_));
  }

  std::size_t limit_;
  std::size_t depth_ = 0;
};

// Where the nesting first goes past `limit` (the SAX interface gets no positions); run only
// once the limit was hit, so the common path stays one pass.
std::size_t offset_past_depth(std::string_view text, std::size_t limit) {
  std::size_t depth = 0;
  bool in_string = false;
  for (std::size_t i = 0; i < text.size(); ++i) {
    char c = text[i];
    if (in_string) {
      if (c == '\\') ++i;
      else if (c == '"') in_string = false;
    } else if (c == '"') {
      in_string = true;
    } else if (c == '{' || c == '[') {
      if (++depth > limit) return i;
    } else if ((c == '}' || c == ']') && depth > 0) {
      --depth;
    }
  }
  return 0;
}

template <typename BasicJson>
BasicJson parse_limited(std::string_view text, std::size_t depth_limit) {
  BasicJson root;
  DepthLimitedParser<BasicJson> sax(root, depth_limit);
  try {
    BasicJson::sax_parse(text.begin(), text.end(), &sax, nlohmann::json::input_format_t::json, true);
  } catch (const LimitError& e) {
    throw LimitError(e.what(), offset_past_depth(text, depth_limit));
  }
  return root;
}

} // namespace

nlohmann::json parse_json(std::string_view text, std::size_t depth_limit) {
  return parse_limited<nlohmann::json>(text, depth_limit);
}

nlohmann::ordered_json parse_ordered_json(std::string_view text, std::size_t depth_limit) {
  return parse_limited<nlohmann::ordered_json>(text, depth_limit);
}

} // namespace gostly::util
