#include "record/interaction.hpp"

#include "util/encoding.hpp"

namespace gostly::record {

const std::string* find_header(const Headers& headers, std::string_view name) noexcept {
  for (const auto& [key, value] : headers)
    if (util::iequals(key, name)) return &value;
  return nullptr;
}

std::string_view uri_path(std::string_view uri) noexcept {
  auto q = uri.find('?');
  return q == std::string_view::npos ? uri : uri.substr(0, q);
}

std::string_view uri_query(std::string_view uri) noexcept {
  auto q = uri.find('?');
  return q == std::string_view::npos ? std::string_view{} : uri.substr(q + 1);
}

std::string_view reason_phrase(int status) noexcept {
  switch (status) {
  case 100: return "Continue";
  case 101: return "Switching Protocols";
  case 200: return "OK";
  case 201: return "Created";
  case 202: return "Accepted";
  case 203: return "Non-Authoritative Information";
  case 204: return "No Content";
  case 206: return "Partial Content";
  case 300: return "Multiple Choices";
  case 301: return "Moved Permanently";
  case 302: return "Found";
  case 303: return "See Other";
  case 304: return "Not Modified";
  case 307: return "Temporary Redirect";
  case 308: return "Permanent Redirect";
  case 400: return "Bad Request";
  case 401: return "Unauthorized";
  case 403: return "Forbidden";
  case 404: return "Not Found";
  case 405: return "Method Not Allowed";
  case 406: return "Not Acceptable";
  case 408: return "Request Timeout";
  case 409: return "Conflict";
  case 410: return "Gone";
  case 411: return "Length Required";
  case 412: return "Precondition Failed";
  case 413: return "Content Too Large";
  case 415: return "Unsupported Media Type";
  case 422: return "Unprocessable Content";
  case 429: return "Too Many Requests";
  case 431: return "Request Header Fields Too Large";
  case 500: return "Internal Server Error";
  case 501: return "Not Implemented";
  case 502: return "Bad Gateway";
  case 503: return "Service Unavailable";
  case 504: return "Gateway Timeout";
  default: return "";
  }
}

} // namespace gostly::record
