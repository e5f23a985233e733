// The HTTP/1.1 request head checks the proxy applies before anything is read further
// (Transfer-Encoding, header count and size, 431/400 decisions): http::check_request_bytes() from
// lib/http/request_head.hpp, a pure function of the bytes received so far.
#include "fuzz.hpp"

#include "http/request_head.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  return gostly::fuzz::run([&] { (void)gostly::http::check_request_bytes(gostly::fuzz::bytes(data, size)); });
}
