// RAII for libcurl's easy handles and header lists, and its once-per-process global init:
// what every libcurl user of the project needs (webhooks, ACME validation, the TSA client;
// the S3 client keeps its own older copy until it moves to this one).
#pragma once

#include <curl/curl.h>

#include <memory>

namespace cartorio::http {

struct CurlDeleter {
  void operator()(CURL* c) const noexcept { curl_easy_cleanup(c); }
};
struct CurlListDeleter {
  void operator()(curl_slist* l) const noexcept { curl_slist_free_all(l); }
};
using CurlHandle = std::unique_ptr<CURL, CurlDeleter>;
using CurlList = std::unique_ptr<curl_slist, CurlListDeleter>;

// curl_global_init, once per process (it must not race other threads' libcurl use).
// False when it failed.
bool curl_ready();

// Appends a header line to `list`; false when out of memory (the list is unchanged).
bool curl_append(CurlList& list, const char* header);

}  // namespace cartorio::http
