#include "pki/certificate_issuer.h"

#include "metrics/metrics.h"

#include "crypto/x509.h"
#include "keys/audited_key_store.h"
#include "pki/certificate_builder.h"
#include "pki/csr_validator.h"
#include "pki/profile.h"

#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include <algorithm>
#include <array>

#include <arpa/inet.h>

namespace cartorio::pki {

using core::Errc;

namespace {

constexpr auto kBackdate = std::chrono::seconds(60);  // tolerate relying parties' clock skew
constexpr int kMaxSerialAttempts = 3;

constexpr std::array<std::pair<std::string_view, int>, 7> kReasons = {{
    {"unspecified", 0},
    {"keyCompromise", 1},
    {"cACompromise", 2},
    {"affiliationChanged", 3},
    {"superseded", 4},
    {"cessationOfOperation", 5},
    {"privilegeWithdrawn", 9},
}};

std::vector<std::string> sans_of(const X509* cert) {
  std::vector<std::string> out;
  auto* names = static_cast<GENERAL_NAMES*>(X509_get_ext_d2i(cert, NID_subject_alt_name, nullptr, nullptr));
  if (!names) return out;
  crypto::GeneralNames guard(names);
  for (int i = 0; i < sk_GENERAL_NAME_num(names); ++i) {
    const GENERAL_NAME* g = sk_GENERAL_NAME_value(names, i);
    auto str = [](const ASN1_STRING* s) {
      return std::string(reinterpret_cast<const char*>(ASN1_STRING_get0_data(s)),
                         static_cast<std::size_t>(ASN1_STRING_length(s)));
    };
    if (g->type == GEN_DNS) out.push_back("DNS:" + str(g->d.dNSName));
    else if (g->type == GEN_EMAIL) out.push_back("email:" + str(g->d.rfc822Name));
    else if (g->type == GEN_URI) out.push_back("URI:" + str(g->d.uniformResourceIdentifier));
    else if (g->type == GEN_IPADD) {
      char buf[INET6_ADDRSTRLEN] = {0};
      const int len = ASN1_STRING_length(g->d.iPAddress);
      if (len == 4 || len == 16)
        inet_ntop(len == 4 ? AF_INET : AF_INET6, ASN1_STRING_get0_data(g->d.iPAddress), buf, sizeof buf);
      out.push_back(std::string("IP:") + buf);
    }
  }
  return out;
}

}  // namespace

store::CertificateRecord record_for(const X509* cert, const std::string& issuer, const std::string& profile,
                                    const std::string& requester, std::int64_t now) {
  store::CertificateRecord r;
  r.serial = crypto::serial_hex(cert);
  r.issuer = issuer;
  r.profile = profile;
  r.subject = crypto::name_to_string(X509_get_subject_name(cert));
  r.sans = sans_of(cert);
  r.not_before = crypto::asn1_time_to_unix(X509_get0_notBefore(cert));
  r.not_after = crypto::asn1_time_to_unix(X509_get0_notAfter(cert));
  r.requester = requester;
  r.pem = crypto::to_pem(cert);
  r.created_at = now;
  return r;
}

core::Result<int> parse_revocation_reason(std::string_view name) {
  std::string known;
  for (const auto& [n, code] : kReasons) {
    if (n == name) return code;
    known += (known.empty() ? "" : ", ") + std::string(n);
  }
  return core::Error{Errc::invalid_reason, "unknown revocation reason \"" + std::string(name) + "\" (one of: " + known + ")"};
}

std::string revocation_reason_name(int code) {
  for (const auto& [n, c] : kReasons)
    if (c == code) return std::string(n);
  return "unspecified";
}

namespace {

core::Result<std::pair<std::string, int>> check_request(const Profile& profile, const std::optional<std::string>& issuer,
                                                        std::optional<int> validity_days) {
  std::string ca_name = issuer.value_or(profile.issuers.front());
  if (std::find(profile.issuers.begin(), profile.issuers.end(), ca_name) == profile.issuers.end())
    return core::Error{Errc::profile_violation, "CA \"" + ca_name + "\" does not issue profile " + profile.name};
  const int days = validity_days.value_or(profile.default_validity_days);
  if (days <= 0 || days > profile.max_validity_days)
    return core::Error{Errc::profile_violation, "validity of " + std::to_string(days) + " days outside 1.." +
                                                    std::to_string(profile.max_validity_days) + " for profile " +
                                                    profile.name};
  return std::make_pair(std::move(ca_name), days);
}

}  // namespace

core::Result<IssuedCertificate> CertificateIssuer::issue(const IssueRequest& req) {
  CARTORIO_TRY(const Profile* profile, find_profile(req.profile));
  CARTORIO_TRY(auto checked, check_request(*profile, req.issuer, req.validity_days));
  CARTORIO_TRY(auto csr, validate_csr(req.csr, *profile));
  return sign_and_store(*profile, checked.first, checked.second, csr.subject.get(), csr.public_key.get(),
                        X509_REQ_get_X509_PUBKEY(csr.request.get()), csr.sans, req.requester);
}

core::Result<IssuedCertificate> CertificateIssuer::issue_for_key(const KeyedRequest& req) {
  CARTORIO_TRY(const Profile* profile, find_profile(req.profile));
  CARTORIO_TRY(auto checked, check_request(*profile, req.issuer, req.validity_days));
  return sign_and_store(*profile, checked.first, checked.second, req.subject, req.public_key, nullptr, req.sans,
                        req.requester);
}

core::Result<IssuedCertificate> CertificateIssuer::sign_and_store(const Profile& profile, const std::string& ca_name,
                                                                  int days, const X509_NAME* subject,
                                                                  const EVP_PKEY* public_key,
                                                                  const X509_PUBKEY* public_key_info,
                                                                  const std::vector<SubjectAltName>& sans,
                                                                  const std::string& requester) {
  CARTORIO_TRY(const SigningIdentity* ca, m_hierarchy.get(ca_name));
  if (!ca->key_ref) return {Errc::ca_offline, "CA \"" + ca_name + "\" has no online key"};

  const auto now = m_clock.now();
  // A certificate never outlives its issuer (RFC 5280 6.1.3 would reject the tail anyway).
  const auto issuer_end = core::from_unix(crypto::asn1_time_to_unix(X509_get0_notAfter(ca->cert.get())));
  const auto not_after = std::min(now + std::chrono::hours(24) * days, issuer_end);
  if (not_after <= now) return {Errc::ca_offline, "CA \"" + ca_name + "\" has expired"};

  CertificateSpec spec;
  spec.subject = subject;
  spec.public_key = public_key;
  spec.public_key_info = public_key_info;
  spec.issuer = ca->cert.get();
  spec.not_before = now - kBackdate;
  spec.not_after = not_after;
  spec.sans = sans;
  const bool rsa = crypto::describe_key(public_key).type == crypto::KeyDescription::Type::rsa;
  spec.extensions = {
      {NID_basic_constraints, "critical,CA:FALSE"},
      {NID_key_usage, rsa ? profile.key_usage_rsa : profile.key_usage_ec},
      {NID_crl_distribution_points, "URI:" + m_urls.crl(ca_name)},
  };
  if (!profile.extended_key_usage.empty()) spec.extensions.emplace_back(NID_ext_key_usage, profile.extended_key_usage);
  std::string aia = "caIssuers;URI:" + m_urls.ca_issuers(ca_name);
  if (profile.include_ocsp_url) aia = "OCSP;URI:" + m_urls.ocsp(ca_name) + "," + aia;
  spec.extensions.emplace_back(NID_info_access, aia);
  if (profile.ocsp_no_check) spec.extensions.emplace_back(NID_id_pkix_OCSP_noCheck, "ignored");

  // The key use is recorded with the certificate, in one transaction (one commit per issuance).
  keys::KeyUse use{"issue-certificate", requester, profile.name, /*recorded_by_caller=*/true};
  CARTORIO_TRY(auto signer, m_keys.signer(*ca->key_ref, use));
  for (int attempt = 1;; ++attempt) {
    auto serial = random_serial();
    CARTORIO_TRY(auto cert, build_certificate(spec, serial.get(), signer->pkey()));
    auto rec = record_for(cert.get(), ca_name, profile.name, requester, core::to_unix(now));
    use.target = rec.serial;
    auto stored = m_certs.insert_certificate(rec, {keys::key_use_event(*ca->key_ref, use, core::to_unix(now))});
    if (stored) {
      metrics::count_certificate_issued(ca_name, profile.name);
      CARTORIO_TRY(auto chain, m_hierarchy.chain_pem(ca_name));
      return IssuedCertificate{std::move(rec), std::move(chain)};
    }
    // A 127-bit collision means a broken RNG or a forged row; retry a little, then give up.
    if (stored.error().code != Errc::already_exists || attempt >= kMaxSerialAttempts) return stored.error();
  }
}

core::Result<store::CertificateRecord> CertificateIssuer::revoke(const std::string& serial, int reason) {
  CARTORIO_TRY(auto parsed, crypto::serial_from_hex(serial));
  const std::string normalized = crypto::serial_hex(parsed.get());
  if (revocation_reason_name(reason) == "unspecified" && reason != 0)
    return {Errc::invalid_reason, "reason code " + std::to_string(reason) + " is not allowed"};
  CARTORIO_TRY_VOID(m_certs.revoke_certificate(normalized, reason, core::to_unix(m_clock.now())));
  return m_certs.get_certificate(normalized);
}

}  // namespace cartorio::pki
