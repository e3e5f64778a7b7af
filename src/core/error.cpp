#include "core/error.h"

#include <cstdio>
#include <cstdlib>

namespace cartorio::core {

std::string_view errc_name(Errc code) {
  switch (code) {
    case Errc::invalid_argument: return "input.invalid_argument";
    case Errc::malformed_input: return "input.malformed";
    case Errc::malformed_csr: return "csr.malformed";
    case Errc::csr_bad_signature: return "csr.bad_signature";
    case Errc::weak_key: return "csr.weak_key";
    case Errc::unsupported_key_type: return "csr.unsupported_key_type";
    case Errc::invalid_san: return "csr.invalid_san";
    case Errc::profile_violation: return "profile.violation";
    case Errc::unknown_profile: return "profile.unknown";
    case Errc::invalid_serial: return "input.invalid_serial";
    case Errc::invalid_reason: return "input.invalid_reason";
    case Errc::invalid_cpf: return "input.invalid_cpf";
    case Errc::not_a_pdf: return "pdf.not_pdf";
    case Errc::pdf_malformed: return "pdf.malformed";
    case Errc::pdf_encrypted: return "pdf.encrypted";
    case Errc::pdf_too_large: return "pdf.too_large";
    case Errc::pdf_unsupported: return "pdf.unsupported";
    case Errc::link_invalid: return "link.invalid";
    case Errc::link_expired: return "link.expired";
    case Errc::backup_invalid: return "backup.invalid";
    case Errc::backup_wrong_key: return "backup.wrong_key";
    case Errc::unauthenticated: return "auth.unauthenticated";
    case Errc::permission_denied: return "auth.permission_denied";
    case Errc::wrong_passphrase: return "auth.wrong_passphrase";
    case Errc::key_not_found: return "keys.not_found";
    case Errc::key_backend: return "keys.backend";
    case Errc::not_supported: return "keys.not_supported";
    case Errc::key_sealed: return "keys.sealed";
    case Errc::not_found: return "store.not_found";
    case Errc::already_exists: return "store.already_exists";
    case Errc::conflict: return "store.conflict";
    case Errc::store_unavailable: return "store.unavailable";
    case Errc::store_error: return "store.error";
    case Errc::migration_failed: return "store.migration_failed";
    case Errc::ca_offline: return "pki.ca_offline";
    case Errc::ca_not_found: return "pki.ca_not_found";
    case Errc::already_revoked: return "pki.already_revoked";
    case Errc::not_initialized: return "pki.not_initialized";
    case Errc::already_initialized: return "pki.already_initialized";
    case Errc::config_invalid: return "config.invalid";
    case Errc::audit_tampered: return "audit.tampered";
    case Errc::tsa_error: return "tsa.error";
    case Errc::tsa_unavailable: return "tsa.unavailable";
    case Errc::internal: return "internal";
    case Errc::io_error: return "io.error";
    case Errc::crypto_error: return "crypto.error";
    case Errc::timed_out: return "operation.timed_out";
  }
  return "internal";
}

std::string Error::to_string() const {
  std::string s(errc_name(code));
  s += ": ";
  s += message;
  return s;
}

void die_on_bad_access(const Error& e) {
  std::fprintf(stderr, "fatal: value() on an error result: %s\n", e.to_string().c_str());
  std::abort();
}

}  // namespace cartorio::core
