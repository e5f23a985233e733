// Asio and Beast compiled once for the whole program (BOOST_*_SEPARATE_COMPILATION is defined for
// every target), so no other translation unit pays for their implementation.
#include <utility>

#include <boost/asio/impl/src.hpp>
#include <boost/asio/ssl/impl/src.hpp>
#include <boost/beast/src.hpp>
