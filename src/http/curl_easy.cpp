#include "http/curl_easy.h"

#include <mutex>

namespace cartorio::http {

bool curl_ready() {
  static std::once_flag once;
  static bool ok = false;
  std::call_once(once, [] { ok = curl_global_init(CURL_GLOBAL_DEFAULT) == CURLE_OK; });
  return ok;
}

bool curl_append(CurlList& list, const char* header) {
  curl_slist* next = curl_slist_append(list.get(), header);
  if (!next) return false;
  (void)list.release();  // curl_slist_append returned the same head, or a new one for an empty list
  list.reset(next);
  return true;
}

}  // namespace cartorio::http
