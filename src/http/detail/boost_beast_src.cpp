// The compiled (non-template) parts of Asio and Beast, built once here instead of in every
// TU that includes them (BOOST_{ASIO,BEAST}_SEPARATE_COMPILATION, set on cartorio_http).
// It rarely changes, so ccache keeps it, and it builds in parallel with server.cpp: about
// 18 s of the 50 s an -O2 header-only server.cpp took. Asio's SSL part serves the TLS
// listener.
#include <boost/asio/impl/src.hpp>
#include <boost/asio/ssl/impl/src.hpp>
#include <boost/beast/src.hpp>
