// Content-Encoding decoding shared by drift, matching and export: gzip, deflate (zlib and raw),
// br, stacked codings, and the decompression-bomb bound.
#include "record/body_encoding.hpp"
#include "util/limits.hpp"

#include <catch2/catch.hpp>
#include <zlib.h>

using namespace gostly;

namespace {

// window_bits: 15 + 16 gzip, 15 zlib, -15 raw deflate.
std::string compress(const std::string& in, int window_bits) {
  z_stream z{};
  REQUIRE(deflateInit2(&z, 9, Z_DEFLATED, window_bits, 8, Z_DEFAULT_STRATEGY) == Z_OK);
  std::string out(deflateBound(&z, in.size()) + 32, '\0');
  z.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(in.data()));
  z.avail_in = static_cast<uInt>(in.size());
  z.next_out = reinterpret_cast<Bytef*>(out.data());
  z.avail_out = static_cast<uInt>(out.size());
  REQUIRE(deflate(&z, Z_FINISH) == Z_STREAM_END);
  out.resize(z.total_out);
  deflateEnd(&z);
  return out;
}

const std::string kJson = R"({"id":1,"name":"brotli"})";
// kJson compressed by BrotliEncoderCompress (quality 11), so the test needs no encoder.
const std::string kJsonBr("\x8b\x0b\x80\x7b\x22\x69\x64\x22\x3a\x31\x2c\x22\x6e\x61\x6d\x65\x22\x3a\x22\x62\x72\x6f"
                          "\x74\x6c\x69\x22\x7d\x03", 28);

} // namespace

TEST_CASE("body_encoding: gzip, x-gzip, deflate (zlib and raw), br and identity decode", "[body_encoding]") {
  CHECK(record::decode_content(compress(kJson, 31), "gzip") == kJson);
  CHECK(record::decode_content(compress(kJson, 31), " X-GZIP ") == kJson);
  CHECK(record::decode_content(compress(kJson, 15), "deflate") == kJson);
  CHECK(record::decode_content(compress(kJson, -15), "deflate") == kJson);
  CHECK(record::decode_content(kJsonBr, "br") == kJson);
  CHECK(record::decode_content(kJson, "identity") == kJson);
  // Codings are listed in the order applied: deflate first, then gzip over it.
  CHECK(record::decode_content(compress(compress(kJson, 15), 31), "deflate, gzip") == kJson);
  // Two gzip members one after the other are one body.
  CHECK(record::decode_content(compress("{\"a\":", 31) + compress("1}", 31), "gzip") == "{\"a\":1}");
}

TEST_CASE("body_encoding: decoded_body copies only when the response is encoded", "[body_encoding]") {
  record::Response plain;
  plain.body = kJson;
  std::string storage;
  CHECK(&record::decoded_body(plain, storage) == &plain.body);
  record::Response gz;
  gz.headers = {{"Content-Type", "application/json"}, {"Content-Encoding", "gzip"}};
  gz.body = compress(kJson, 31);
  CHECK(record::decoded_body(gz, storage) == kJson);
  CHECK(record::is_encoded("gzip"));
  CHECK_FALSE(record::is_encoded(" identity "));
  CHECK_FALSE(record::is_encoded(""));
}

TEST_CASE("body_encoding: corrupt, truncated and unknown codings are BodyEncodingError", "[body_encoding]") {
  auto gz = compress(kJson, 31);
  CHECK_THROWS_AS(record::decode_content(gz.substr(0, gz.size() / 2), "gzip"), record::BodyEncodingError);
  CHECK_THROWS_AS(record::decode_content("not gzip at all", "gzip"), record::BodyEncodingError);
  CHECK_THROWS_AS(record::decode_content(kJsonBr.substr(0, 10), "br"), record::BodyEncodingError);
  CHECK_THROWS_WITH(record::decode_content(kJson, "compress"), Catch::Contains("unsupported content coding 'compress'"));
}

TEST_CASE("body_encoding: a decompression bomb stops at the limit, naming GOSTLY_MAX_DECODED_BODY", "[body_encoding]") {
  std::string zeros(8u << 20, '\0'); // 8 MiB of zeros compress to about 8 KiB
  auto bomb = compress(zeros, 31);
  REQUIRE(bomb.size() < 64u << 10);
  CHECK_THROWS_AS(record::decode_content(bomb, "gzip", 1u << 20), util::LimitError);
  CHECK_THROWS_WITH(record::decode_content(bomb, "gzip", 1u << 20), Catch::Contains("GOSTLY_MAX_DECODED_BODY"));
  CHECK_THROWS_WITH(record::decode_content(compress(bomb, 31), "gzip, gzip", 1u << 20),
                    Catch::Contains("more than 1048576 bytes"));
  CHECK(record::decode_content(bomb, "gzip", 8u << 20).size() == zeros.size());
}
