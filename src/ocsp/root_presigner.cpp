#include "ocsp/root_presigner.h"

#include "crypto/key_pair.h"
#include "crypto/x509.h"
#include "core/files.h"
#include "ocsp/detail/ocsp_common.h"

#include <openssl/x509v3.h>

namespace cartorio::ocsp {

using core::Errc;

std::string presigned_file(const std::string& dir, const std::string& serial, CertIdHash hash) {
  return dir + "/" + serial + (hash == CertIdHash::sha1 ? ".der" : ".sha256.der");
}

core::Result<std::vector<PresignedResponse>> presign_root_responses(X509* root_cert, EVP_PKEY* root_key,
                                                                    store::CertificateRepository& certificates,
                                                                    const core::Clock& clock,
                                                                    std::chrono::seconds validity) {
  if (!crypto::same_public_key(X509_get0_pubkey(root_cert), root_key))
    return {Errc::permission_denied, "the key given is not this installation's root key"};
  store::CertificateFilter filter;
  filter.issuer = "root";
  filter.limit = 10000;
  CARTORIO_TRY(auto records, certificates.list_certificates(filter));

  const auto now = clock.now();
  auto this_update = detail::to_asn1_time(now);
  auto next_update = detail::to_asn1_time(now + validity);
  if (!this_update || !next_update) return {Errc::internal, "encoding OCSP times failed"};
  const std::string root_serial = crypto::serial_hex(root_cert);

  std::vector<PresignedResponse> out;
  for (const auto& rec : records) {
    if (rec.serial == root_serial) continue;  // the root is a trust anchor, not a subject of OCSP
    CARTORIO_TRY(auto serial, crypto::serial_from_hex(rec.serial));
    for (CertIdHash hash : {CertIdHash::sha1, CertIdHash::sha256}) {
      const EVP_MD* md = hash == CertIdHash::sha1 ? EVP_sha1() : EVP_sha256();
      crypto::OcspCertId id(OCSP_cert_id_new(md, X509_get_subject_name(root_cert), X509_get0_pubkey_bitstr(root_cert),
                                             serial.get()));
      crypto::OcspBasicResp basic(OCSP_BASICRESP_new());
      if (!id || !basic) return {Errc::crypto_error, "building an OCSP response failed: " + crypto::openssl_errors()};
      int status = V_OCSP_CERTSTATUS_GOOD;
      int reason = OCSP_REVOKED_STATUS_NOSTATUS;
      crypto::Asn1Time revoked_at;
      if (rec.status == store::CertificateStatus::revoked) {
        status = V_OCSP_CERTSTATUS_REVOKED;
        if (rec.revocation_reason != 0) reason = rec.revocation_reason;
        revoked_at = detail::to_asn1_time(core::from_unix(rec.revoked_at));
      }
      if (!OCSP_basic_add1_status(basic.get(), id.get(), status, reason, revoked_at.get(), this_update.get(),
                                  next_update.get()))
        return {Errc::crypto_error, "building an OCSP response failed: " + crypto::openssl_errors()};
      CARTORIO_TRY(auto der, detail::sign_response(basic.get(), root_cert, root_key, nullptr));
      out.push_back({rec.serial, hash, std::move(der)});
    }
  }
  return out;
}

core::Result<void> write_presigned(const std::string& dir, const std::vector<PresignedResponse>& responses) {
  CARTORIO_TRY_VOID(core::make_dirs(dir));
  for (const auto& r : responses)
    CARTORIO_TRY_VOID(core::write_file_atomic(presigned_file(dir, r.serial, r.hash), crypto::to_string(r.der)));
  return core::ok();
}

core::Result<std::size_t> presign_root_to_dir(X509* root_cert, EVP_PKEY* root_key,
                                              store::CertificateRepository& certificates, const core::Clock& clock,
                                              const std::string& dir, std::chrono::seconds validity) {
  CARTORIO_TRY(auto responses, presign_root_responses(root_cert, root_key, certificates, clock, validity));
  CARTORIO_TRY_VOID(write_presigned(dir, responses));
  return responses.size() / 2;  // one per hash algorithm
}

}  // namespace cartorio::ocsp
