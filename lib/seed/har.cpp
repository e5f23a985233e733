// HAR 1.2 import, streamed.
//
// A HAR file is one JSON document, and exports of long browser sessions reach gigabytes, so it
// is never parsed whole. nlohmann's SAX interface drives a small state machine that tracks the
// JSON pointer of every event (a stack of frames: object key or array index). Everything outside
// `/log/entries/*` is dropped as it streams past; inside an entry, events build one DOM for that
// entry only (minus `_`-prefixed vendor fields such as Chrome's `_initiator` call stacks, which can
// dwarf the entry). When the entry's object closes it is converted, handed to the sink and freed,
// so memory is bounded by the largest single entry, not by the file.
//
// The session id must be on the first record, before the whole file has been read, so it is
// derived from a digest of the first MiB only: the input is read through a streambuf that serves
// that buffered head and then the rest of the stream.
//
// What browsers really write, and what the record needs instead:
// - bodies in `content.text`, base64 when `content.encoding` says so, and already *decoded*: a
//   response that said `Content-Encoding: gzip` is stored inflated. Replaying inflated bytes under
//   that header would break clients, so the header is dropped (and Content-Length corrected)
//   unless the bytes still carry the gzip magic;
// - HTTP/2 pseudo-headers (`:authority`, ...), which are not headers on HTTP/1.1 replay: dropped;
// - status 0 for requests that never got an answer (blocked, cancelled): counted, not an error;
// - WebSockets as a 101 entry with the frames in `_webSocketMessages`: counted and left out, as
//   WebSockets are never replayed (a bare 101 would leave the client waiting for frames);
// - a cached body on a 304, which HTTP forbids: dropped; HEAD keeps its Content-Length.
#include "seed/common.hpp"

#include "util/encoding.hpp"
#include "util/error.hpp"
#include "util/limits.hpp"
#include "util/time.hpp"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <streambuf>

namespace gostly::seed {
namespace {

using Json = nlohmann::ordered_json;
constexpr std::size_t kDigestHead = 1 << 20;

// Serves `head` first, then the rest of `rest`, in 64 KiB reads.
class HeadThenRest : public std::streambuf {
public:
  HeadThenRest(std::string head, std::streambuf* rest) : head_(std::move(head)), rest_(rest) {
    setg(head_.data(), head_.data(), head_.data() + head_.size());
  }

  // Bytes handed out so far: nlohmann's stream adapter takes one at a time, so this is where
  // the parser is (the SAX events carry no position).
  std::uint64_t consumed() const noexcept { return served_before_ + static_cast<std::uint64_t>(gptr() - eback()); }

protected:
  int_type underflow() override {
    if (gptr() < egptr()) return traits_type::to_int_type(*gptr());
    if (!rest_) return traits_type::eof();
    served_before_ += static_cast<std::uint64_t>(egptr() - eback());
    if (!head_.empty()) std::string().swap(head_);
    buffer_.resize(1 << 16);
    std::streamsize n = rest_->sgetn(buffer_.data(), static_cast<std::streamsize>(buffer_.size()));
    if (n <= 0) {
      rest_ = nullptr;
      return traits_type::eof();
    }
    setg(buffer_.data(), buffer_.data(), buffer_.data() + n);
    return traits_type::to_int_type(*gptr());
  }

private:
  std::string head_;
  std::streambuf* rest_;
  std::string buffer_;
  std::uint64_t served_before_ = 0;
};


const Json& require_object(const Json& parent, const char* key, const std::string& pointer) {
  auto it = parent.find(key);
  if (it == parent.end()) throw EntryError{pointer + "/" + key, "missing"};
  if (!it->is_object()) throw EntryError{pointer + "/" + key, std::string("expected an object, got ") + it->type_name()};
  return *it;
}

std::string require_string(const Json& parent, const char* key, const std::string& pointer) {
  auto it = parent.find(key);
  if (it == parent.end()) throw EntryError{pointer + "/" + key, "missing"};
  if (!it->is_string()) throw EntryError{pointer + "/" + key, std::string("expected a string, got ") + it->type_name()};
  return it->get<std::string>();
}

record::Headers read_headers(const Json& parent, const std::string& pointer) {
  record::Headers headers;
  auto it = parent.find("headers");
  if (it == parent.end() || it->is_null()) return headers;
  if (!it->is_array()) throw EntryError{pointer + "/headers", std::string("expected an array, got ") + it->type_name()};
  for (std::size_t i = 0; i < it->size(); ++i) {
    const Json& header = (*it)[i];
    std::string at = pointer + "/headers/" + std::to_string(i);
    if (!header.is_object()) throw EntryError{at, "expected an object with name and value"};
    std::string name = require_string(header, "name", at);
    auto value = header.find("value");
    if (value == header.end()) throw EntryError{at + "/value", "missing"};
    if (name.empty() || name.front() == ':') continue; // HTTP/2 pseudo-header
    headers.emplace_back(name, value->is_string() ? value->get<std::string>() : value->dump());
  }
  return headers;
}

void erase_header(record::Headers& headers, std::string_view name) {
  std::erase_if(headers, [&](const record::Header& h) { return util::iequals(h.first, name); });
}

std::string decode_text(const Json& holder, const std::string& pointer) {
  std::string text = optional_string(holder, "text", pointer);
  std::string encoding = optional_string(holder, "encoding", pointer);
  if (encoding.empty() || text.empty()) return text;
  if (!util::iequals(encoding, "base64")) throw EntryError{pointer + "/encoding", "unsupported encoding '" + encoding + "'"};
  auto bytes = util::base64_decode(text);
  if (!bytes) throw EntryError{pointer + "/text", "invalid base64"};
  return std::move(*bytes);
}

std::string post_body(const Json& post, const std::string& pointer) {
  if (!post.is_object()) throw EntryError{pointer, "expected an object"};
  if (auto text = post.find("text"); text != post.end() && text->is_string() && !text->get_ref<const std::string&>().empty())
    return decode_text(post, pointer);
  auto params = post.find("params");
  if (params == post.end() || params->is_null()) return {};
  if (!params->is_array()) throw EntryError{pointer + "/params", "expected an array"};
  std::string body;
  for (std::size_t i = 0; i < params->size(); ++i) {
    const Json& param = (*params)[i];
    std::string at = pointer + "/params/" + std::to_string(i);
    if (!param.is_object()) throw EntryError{at, "expected an object"};
    if (!body.empty()) body += '&';
    body += form_encode(require_string(param, "name", at));
    body += '=';
    body += form_encode(optional_string(param, "value", at));
  }
  return body;
}

// Converts one entry; returns false (and counts) when the entry has no response or is filtered.
bool convert_entry(const Json& entry, const std::string& base, ImportContext& context, record::Interaction& out) {
  const Json& request = require_object(entry, "request", base);
  const Json& response = require_object(entry, "response", base);
  std::string rq = base + "/request";
  std::string rs = base + "/response";

  auto status = response.find("status");
  if (status == response.end()) throw EntryError{rs + "/status", "missing"};
  if (!status->is_number_integer()) throw EntryError{rs + "/status", std::string("expected an integer, got ") + status->type_name()};
  auto code = status->get<long long>();
  if (code == 0) {
    ++context.report().no_response;
    return false;
  }
  if (code < 100 || code > 999) throw EntryError{rs + "/status", "not an HTTP status: " + std::to_string(code)};
  if (code == 101) { // a WebSocket (its frames in _webSocketMessages): a replayed 101 would hang the client
    ++context.report().websockets;
    return false;
  }

  std::string url = require_string(request, "url", rq);
  SplitUrl split;
  if (!split_url(url, split) || split.host.empty()) throw EntryError{rq + "/url", "not an absolute URL: " + url};
  const auto& hosts = context.options().hosts;
  // `api.example.com:443` names the same host as an https URL without a port.
  std::string_view default_port = split.scheme == "https" ? ":443" : split.scheme == "http" ? ":80" : "";
  std::string with_port = split.host == host_without_port(split.host) ? split.host + std::string(default_port) : split.host;
  if (!hosts.empty() && std::none_of(hosts.begin(), hosts.end(), [&](const std::string& h) {
        return util::iequals(h, split.host) || util::iequals(h, host_without_port(split.host)) ||
               (!default_port.empty() && util::iequals(h, with_port));
      })) {
    ++context.report().filtered;
    return false;
  }

  out = record::Interaction{};
  out.service_id = context.options().service ? *context.options().service : service_for_host(split.host);
  std::string started = optional_string(entry, "startedDateTime", base);
  if (!started.empty()) {
    auto when = util::parse_iso8601(started);
    if (!when) throw EntryError{base + "/startedDateTime", "not an ISO 8601 date-time: " + started};
    out.recorded_at = util::format_iso8601(*when);
  }
  if (auto time = entry.find("time"); time != entry.end() && time->is_number() && time->get<double>() >= 0)
    out.duration_ms = std::round(time->get<double>() * 1000) / 1000;

  auto& rqo = out.request;
  rqo.method = require_string(request, "method", rq);
  if (rqo.method.empty()) throw EntryError{rq + "/method", "empty method"};
  rqo.scheme = split.scheme;
  rqo.host = split.host;
  rqo.uri = split.uri;
  rqo.http_version = normalize_http_version(optional_string(request, "httpVersion", rq));
  rqo.headers = read_headers(request, rq);
  if (auto post = request.find("postData"); post != request.end() && !post->is_null()) {
    rqo.body = post_body(*post, rq + "/postData");
    std::string mime = optional_string(*post, "mimeType", rq + "/postData");
    if (!rqo.body.empty() && !mime.empty() && !record::find_header(rqo.headers, "content-type"))
      rqo.headers.emplace_back("Content-Type", mime);
  }

  auto& rso = out.response;
  rso.status = static_cast<int>(code);
  rso.reason = optional_string(response, "statusText", rs);
  if (rso.reason.empty()) rso.reason = std::string(reason_phrase(rso.status));
  rso.headers = read_headers(response, rs);
  std::string content_type;
  if (auto content = response.find("content"); content != response.end() && !content->is_null()) {
    if (!content->is_object()) throw EntryError{rs + "/content", "expected an object"};
    rso.body = decode_text(*content, rs + "/content");
    content_type = optional_string(*content, "mimeType", rs + "/content");
  }

  bool bodiless = rso.status == 304 || rso.status == 204 || rso.status < 200 || util::iequals(rqo.method, "HEAD");
  if (bodiless) {
    rso.body.clear();
  } else {
    bool still_gzip = rso.body.size() >= 2 && static_cast<unsigned char>(rso.body[0]) == 0x1f &&
                      static_cast<unsigned char>(rso.body[1]) == 0x8b;
    if (const std::string* ce = record::find_header(rso.headers, "content-encoding"); ce && !(still_gzip && util::iequals(*ce, "gzip"))) {
      out.extra["seed"] = nlohmann::json{{"decoded_content_encoding", *ce}};
      erase_header(rso.headers, "content-encoding");
    }
    erase_header(rso.headers, "transfer-encoding");
    for (auto& [name, value] : rso.headers)
      if (util::iequals(name, "content-length")) value = std::to_string(rso.body.size());
    // Some exporters list no response headers at all; the body's type is still in mimeType.
    if (!rso.body.empty() && !content_type.empty() && !record::find_header(rso.headers, "content-type"))
      rso.headers.emplace_back("Content-Type", content_type);
  }
  std::string redirect = optional_string(response, "redirectURL", rs);
  if (!redirect.empty() && rso.status >= 300 && rso.status < 400 && !record::find_header(rso.headers, "location"))
    rso.headers.emplace_back("Location", redirect);
  return true;
}

// The SAX handler: tracks the pointer, builds one entry at a time, converts and emits it.
class HarSax {
public:
  HarSax(ImportContext& context, const Sink& sink) : context_(context), sink_(sink), depth_limit_(util::max_depth()) {}

  bool null() { return value(Json(nullptr)); }
  bool boolean(bool v) { return value(Json(v)); }
  bool number_integer(Json::number_integer_t v) { return value(Json(v)); }
  bool number_unsigned(Json::number_unsigned_t v) { return value(Json(v)); }
  bool number_float(Json::number_float_t v, const std::string&) { return value(Json(v)); }
  bool string(std::string& v) { return value(Json(std::move(v))); }
  bool binary(Json::binary_t&) { return value(Json(nullptr)); }

  bool start_object(std::size_t) { return open(false); }
  bool start_array(std::size_t) { return open(true); }
  bool end_object() { return close(); }
  bool end_array() { return close(); }

  bool key(std::string& k) {
    frames_.back().key = k;
    if (building_ && skip_depth_ == 0 && !k.empty() && k.front() == '_') skip_next_ = true;
    return true;
  }

  bool parse_error(std::size_t position, const std::string&, const nlohmann::detail::exception& e) {
    error_position_ = position;
    error_pointer_ = pointer();
    error_text_ = e.what();
    return false;
  }

  bool saw_entries() const noexcept { return saw_entries_; }
  std::size_t error_position() const noexcept { return error_position_; }
  const std::string& error_pointer() const noexcept { return error_pointer_; }
  const std::string& error_text() const noexcept { return error_text_; }

  std::string pointer() const {
    std::string out;
    for (const Frame& f : frames_) {
      if (f.array && f.count > 0) out += "/" + std::to_string(f.count - 1);
      else if (!f.array && !f.key.empty()) out += "/" + pointer_token(f.key);
    }
    return out;
  }

private:
  struct Frame {
    bool array = false;
    std::string key;
    std::uint64_t count = 0; // arrays: elements started so far
  };

  // Where a new value starts: counts array elements and checks the document's outer shape.
  void enter_value(bool is_container, bool is_array) {
    if (!frames_.empty() && frames_.back().array) ++frames_.back().count;
    std::size_t depth = frames_.size();
    if (building_) return;
    if (depth == 0 && (!is_container || is_array)) throw EntryError{"", "not a HAR file: expected an object with log.entries"};
    if (depth == 1 && frames_[0].key == "log" && (!is_container || is_array))
      throw EntryError{"/log", "expected an object"};
    if (depth == 2 && frames_[0].key == "log" && frames_[1].key == "entries") {
      if (!is_container || !is_array) throw EntryError{"/log/entries", "expected an array"};
      saw_entries_ = true;
    }
  }

  bool in_entries_array() const {
    return frames_.size() == 3 && !frames_[0].array && frames_[0].key == "log" && !frames_[1].array &&
           frames_[1].key == "entries" && frames_[2].array;
  }

  bool value(Json&& v) {
    enter_value(false, false);
    if (in_entries_array() && !building_) {
      ++context_.report().entries;
      context_.bad_entry({pointer(), std::string("expected an object, got ") + v.type_name()});
      return true;
    }
    if (!building_) return true;
    if (skip_depth_ > 0) return true;
    if (skip_next_) {
      skip_next_ = false;
      return true;
    }
    Json& parent = *stack_.back();
    if (parent.is_array()) parent.push_back(std::move(v));
    else parent[frames_.back().key] = std::move(v);
    return true;
  }

  bool open(bool is_array) {
    // The whole document, dropped fields included, nests no deeper than everything else gostly
    // parses: the entry's DOM is dumped and copied recursively later.
    if (frames_.size() >= depth_limit_) throw util::LimitError(util::depth_limit_message(depth_limit_));
    enter_value(true, is_array);
    if (!building_ && in_entries_array()) {
      if (is_array) {
        ++context_.report().entries;
        context_.bad_entry({pointer(), "expected an object, got array"});
        frames_.push_back(Frame{is_array, {}, 0});
        return true;
      }
      building_ = true;
      entry_ = Json::object();
      stack_.assign(1, &entry_);
      entry_depth_ = frames_.size() + 1;
      frames_.push_back(Frame{is_array, {}, 0});
      return true;
    }
    if (building_) {
      if (skip_depth_ > 0 || skip_next_) {
        skip_next_ = false;
        ++skip_depth_;
      } else {
        Json& parent = *stack_.back();
        Json child = is_array ? Json::array() : Json::object();
        Json* slot;
        if (parent.is_array()) {
          parent.push_back(std::move(child));
          slot = &parent.back();
        } else {
          slot = &(parent[frames_.back().key] = std::move(child));
        }
        stack_.push_back(slot);
      }
    }
    frames_.push_back(Frame{is_array, {}, 0});
    return true;
  }

  bool close() {
    if (building_) {
      if (frames_.size() == entry_depth_) {
        finish_entry();
      } else if (skip_depth_ > 0) {
        --skip_depth_;
      } else {
        stack_.pop_back();
      }
    }
    frames_.pop_back();
    return true;
  }

  void finish_entry() {
    building_ = false;
    stack_.clear();
    std::uint64_t index = frames_[2].count - 1;
    std::string base = "/log/entries/" + std::to_string(index);
    ++context_.report().entries;
    record::Interaction interaction;
    bool keep = false;
    try {
      keep = convert_entry(entry_, base, context_, interaction);
    } catch (const EntryError& e) {
      context_.bad_entry(e);
    }
    entry_ = Json();
    if (keep) context_.emit(std::move(interaction), index, base, sink_);
  }

  ImportContext& context_;
  const Sink& sink_;
  std::size_t depth_limit_;
  std::vector<Frame> frames_;
  bool building_ = false;
  bool skip_next_ = false;
  std::size_t skip_depth_ = 0;
  std::size_t entry_depth_ = 0;
  Json entry_;
  std::vector<Json*> stack_;
  bool saw_entries_ = false;
  std::size_t error_position_ = 0;
  std::string error_pointer_;
  std::string error_text_;
};

} // namespace

void import_har(std::istream& in, ImportContext& context, const Sink& sink) {
  std::string head(kDigestHead, '\0');
  in.read(head.data(), static_cast<std::streamsize>(head.size()));
  head.resize(static_cast<std::size_t>(in.gcount()));
  if (in.bad()) throw Error("cannot read " + context.source());
  context.set_session_from(head);
  if (head.find_first_not_of(" \t\r\n") == std::string::npos) throw InputError(context.source(), 0, "", "empty input");

  HeadThenRest buffer(std::move(head), in.eof() ? nullptr : in.rdbuf());
  std::istream stream(&buffer);
  HarSax sax(context, sink);
  bool ok;
  try {
    ok = nlohmann::ordered_json::sax_parse(stream, &sax, nlohmann::json::input_format_t::json, /*strict=*/true);
  } catch (const EntryError& e) {
    // Shape errors outside any entry: the file is not a HAR at all, never skippable.
    throw InputError(context.source(), 0, e.pointer, e.reason);
  } catch (const util::LimitError& e) {
    // The '[' or '{' one level too deep is the byte just taken.
    throw InputError(context.source(), 0, short_pointer(sax.pointer()),
                     "byte " + std::to_string(buffer.consumed() - 1) + ": " + e.what());
  }
  if (!ok) {
    std::string what = sax.error_text();
    // nlohmann's lexer counts lines as it streams: "parse error at line L, column C: ...".
    unsigned long long line = 0, column = 0;
    if (auto at = what.find("at line "); at != std::string::npos)
      if (std::sscanf(what.c_str() + at, "at line %llu, column %llu", &line, &column) != 2) line = column = 0;
    if (auto pos = what.find("syntax error while parsing value - "); pos != std::string::npos) what = what.substr(pos + 35);
    else if (auto colon = what.rfind(": "); colon != std::string::npos) what = what.substr(colon + 2);
    std::string where = "byte " + std::to_string(sax.error_position());
    if (line > 0) where = "column " + std::to_string(column) + " (" + where + ")";
    throw InputError(context.source(), line, sax.error_pointer(), where + ": invalid JSON: " + util::to_lower(what));
  }
  if (!sax.saw_entries()) throw InputError(context.source(), 0, "/log/entries", "missing: not a HAR file");
}

} // namespace gostly::seed
