// The HTTP/1.1 request checks the proxy applies before a handler sees a request (framing,
// Transfer-Encoding, header count and size, body limit): http::check_request_bytes() from
// lib/http/request_head.hpp, a pure function of the bytes received so far. Besides the
// sanitizers, the answer must be one the server documents; the first byte picks a small body
// limit half of the time so the 413 path is reached too.
#include "fuzz.hpp"

#include "http/request_head.hpp"

#include <cstdlib>

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  std::uint64_t max_body = size > 0 && (data[0] & 1) ? 16 : 64ull << 20;
  return gostly::fuzz::run([&] {
    int status = gostly::http::check_request_bytes(gostly::fuzz::bytes(data, size), max_body);
    switch (status) {
    case 0: case 200: case 400: case 413: case 431: case 501: break;
    default: std::abort(); // an answer request_head.hpp does not document
    }
  });
}
