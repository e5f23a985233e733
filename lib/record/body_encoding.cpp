#include "record/body_encoding.hpp"

#include "util/limits.hpp"

#include <brotli/decode.h>
#include <zlib.h>

#include <algorithm>
#include <cctype>
#include <vector>

namespace gostly::record {
namespace {

constexpr std::size_t kDefaultMaxDecoded = 64u << 20;
constexpr std::size_t kChunk = 64u << 10;

std::string_view trim(std::string_view s) noexcept {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

std::string lower(std::string_view s) {
  std::string out(s);
  std::transform(out.begin(), out.end(), out.begin(), [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return out;
}

[[noreturn]] void too_big(std::size_t limit, std::string_view coding) {
  throw util::LimitError("a " + std::string(coding) + "-encoded body decodes to more than " + std::to_string(limit) +
                         " bytes (GOSTLY_MAX_DECODED_BODY raises the limit)");
}

// gzip and deflate through zlib. `deflate` in HTTP means the zlib format (RFC 1950), but some
// servers send raw RFC 1951 data: when the zlib header is wrong, try raw once.
std::string inflate_body(std::string_view in, int window_bits, std::size_t limit, std::string_view coding) {
  struct Stream {
    z_stream z{};
    bool open = false;
    ~Stream() { if (open) inflateEnd(&z); }
  } s;
  if (inflateInit2(&s.z, window_bits) != Z_OK) throw BodyEncodingError(std::string(coding) + ": zlib init failed");
  s.open = true;
  std::string out;
  s.z.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(in.data()));
  s.z.avail_in = static_cast<uInt>(in.size());
  while (true) {
    if (out.size() > limit) too_big(limit, coding);
    std::size_t used = out.size();
    out.resize(std::min(used + kChunk, limit + 1)); // one byte past the limit tells "too big"
    s.z.next_out = reinterpret_cast<Bytef*>(out.data() + used);
    s.z.avail_out = static_cast<uInt>(out.size() - used);
    int rc = inflate(&s.z, Z_NO_FLUSH);
    out.resize(out.size() - s.z.avail_out);
    if (rc == Z_OK) continue;
    if (rc == Z_STREAM_END) break;
    if (rc == Z_BUF_ERROR) throw BodyEncodingError(std::string(coding) + ": truncated data");
    if (rc == Z_DATA_ERROR && window_bits == 15 && out.empty()) return inflate_body(in, -15, limit, coding);
    throw BodyEncodingError(std::string(coding) + ": " + (s.z.msg ? s.z.msg : "corrupt data"));
  }
  if (out.size() > limit) too_big(limit, coding);
  // gzip members may follow one another (RFC 1952 2.2): decode the rest too.
  std::size_t rest = s.z.avail_in;
  if (rest > 0 && window_bits == 15 + 16) {
    try {
      out += inflate_body(in.substr(in.size() - rest), window_bits, limit - out.size(), coding);
    } catch (const util::LimitError&) {
      too_big(limit, coding); // name the whole body's limit, not what was left of it
    }
  }
  return out;
}

std::string brotli_body(std::string_view in, std::size_t limit) {
  BrotliDecoderState* state = BrotliDecoderCreateInstance(nullptr, nullptr, nullptr);
  if (!state) throw BodyEncodingError("br: decoder init failed");
  std::string out;
  const auto* next_in = reinterpret_cast<const uint8_t*>(in.data());
  std::size_t avail_in = in.size();
  BrotliDecoderResult rc = BROTLI_DECODER_RESULT_NEEDS_MORE_OUTPUT;
  while (rc == BROTLI_DECODER_RESULT_NEEDS_MORE_OUTPUT) {
    std::size_t used = out.size();
    if (used > limit) {
      BrotliDecoderDestroyInstance(state);
      too_big(limit, "br");
    }
    out.resize(std::min(used + kChunk, limit + 1));
    auto* next_out = reinterpret_cast<uint8_t*>(out.data() + used);
    std::size_t avail_out = out.size() - used;
    rc = BrotliDecoderDecompressStream(state, &avail_in, &next_in, &avail_out, &next_out, nullptr);
    out.resize(out.size() - avail_out);
  }
  std::string reason = rc == BROTLI_DECODER_RESULT_ERROR
                           ? BrotliDecoderErrorString(BrotliDecoderGetErrorCode(state))
                           : "truncated data";
  BrotliDecoderDestroyInstance(state);
  if (rc != BROTLI_DECODER_RESULT_SUCCESS) throw BodyEncodingError("br: " + reason);
  if (out.size() > limit) too_big(limit, "br");
  return out;
}

} // namespace

std::size_t max_decoded_body() {
  static const std::size_t limit = util::limit_from_env("GOSTLY_MAX_DECODED_BODY", kDefaultMaxDecoded);
  return limit;
}

bool is_encoded(std::string_view content_encoding) noexcept {
  std::size_t pos = 0;
  while (pos <= content_encoding.size()) {
    auto comma = content_encoding.find(',', pos);
    if (comma == std::string_view::npos) comma = content_encoding.size();
    auto coding = trim(content_encoding.substr(pos, comma - pos));
    bool identity = coding.size() == 8 && std::equal(coding.begin(), coding.end(), "identity",
                                                     [](char a, char b) { return std::tolower(static_cast<unsigned char>(a)) == b; });
    if (!coding.empty() && !identity) return true;
    pos = comma + 1;
  }
  return false;
}

std::string decode_content(std::string_view body, std::string_view content_encoding, std::size_t limit) {
  // Codings are listed in the order they were applied; undo the last first.
  std::vector<std::string> codings;
  std::size_t pos = 0;
  while (pos <= content_encoding.size()) {
    auto comma = content_encoding.find(',', pos);
    if (comma == std::string_view::npos) comma = content_encoding.size();
    auto coding = trim(content_encoding.substr(pos, comma - pos));
    if (!coding.empty()) codings.push_back(lower(coding));
    pos = comma + 1;
  }
  if (codings.size() > 4) throw BodyEncodingError("more than 4 content codings: " + std::string(content_encoding));
  std::string current(body);
  for (auto it = codings.rbegin(); it != codings.rend(); ++it) {
    const std::string& coding = *it;
    if (coding == "identity") continue;
    if (coding == "gzip" || coding == "x-gzip") current = inflate_body(current, 15 + 16, limit, "gzip");
    else if (coding == "deflate") current = inflate_body(current, 15, limit, "deflate");
    else if (coding == "br") current = brotli_body(current, limit);
    else throw BodyEncodingError("unsupported content coding '" + coding + "'");
  }
  return current;
}

const std::string& decoded_body(const Response& response, std::string& storage) {
  const std::string* coding = find_header(response.headers, "content-encoding");
  if (!coding || !is_encoded(*coding)) return response.body;
  storage = decode_content(response.body, *coding);
  return storage;
}

} // namespace gostly::record
