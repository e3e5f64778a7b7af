#include "store/store.h"

namespace cartorio::store {

std::string_view to_string(CertificateStatus s) {
  switch (s) {
    case CertificateStatus::good: return "good";
    case CertificateStatus::revoked: return "revoked";
  }
  return "good";
}

}  // namespace cartorio::store
