#include "app/managed_certificate.h"

#include "crypto/bytes.h"
#include "crypto/key_pair.h"
#include "crypto/x509.h"
#include "pki/certificate_issuer.h"

#include <arpa/inet.h>
#include <openssl/crypto.h>
#include <openssl/x509.h>

#include <algorithm>

namespace cartorio::app {

using core::Errc;

namespace {

constexpr std::string_view kKeyBegin = "-----BEGIN PRIVATE KEY-----";
constexpr std::string_view kKeyEnd = "-----END PRIVATE KEY-----";
constexpr int kMaxValidityDays = 397;  // CA/Browser Forum limit for TLS server certificates

bool is_ip(const std::string& s) {
  unsigned char buf[16];
  return inet_pton(AF_INET, s.c_str(), buf) == 1 || inet_pton(AF_INET6, s.c_str(), buf) == 1;
}

// The PKCS#8 key block of the value (crypto::private_key_to_pem's form).
core::Result<crypto::PKey> key_from_pem(std::string_view pem) {
  const auto begin = pem.find(kKeyBegin);
  const auto end = pem.find(kKeyEnd);
  if (begin == std::string_view::npos || end == std::string_view::npos || end < begin)
    return core::Error{Errc::malformed_input, "managed certificate: no PRIVATE KEY block"};
  const auto body = pem.substr(begin + kKeyBegin.size(), end - begin - kKeyBegin.size());
  auto der = crypto::from_base64(body);
  if (!der) return core::Error{Errc::malformed_input, "managed certificate: the PRIVATE KEY block is not base64"};
  auto key = crypto::private_key_from_der(*der);
  OPENSSL_cleanse(der->data(), der->size());
  return key;
}

// A new key and a tls-server certificate from the TLS CA, as the secret's value.
core::Result<std::string> issue_value(const Runtime& rt, const std::vector<pki::SubjectAltName>& sans, int days) {
  if (sans.empty()) return core::Error{Errc::invalid_argument, "a TLS certificate needs at least one name"};
  CARTORIO_TRY(auto key, crypto::generate_key(crypto::KeyAlgorithm::ec_p256));
  CARTORIO_TRY(auto subject, crypto::make_name({{"CN", sans.front().value}}));
  CARTORIO_TRY(auto h, rt.hierarchy());
  pki::CertificateIssuer issuer(h, *rt.keys, *rt.store, *rt.clock, rt.urls());
  pki::CertificateIssuer::KeyedRequest req;
  req.profile = "tls-server";
  req.issuer = pki::kTlsCa;
  req.subject = subject.get();
  req.public_key = key.get();
  req.validity_days = std::clamp(days, 1, kMaxValidityDays);
  req.requester = "secrets:" + rt.actor;
  req.sans = sans;
  CARTORIO_TRY(auto issued, issuer.issue_for_key(req));
  CARTORIO_TRY(auto key_pem, crypto::private_key_to_pem(key.get()));
  return key_pem + issued.record.pem + issued.chain_pem;
}

// The names of a certificate this installation issued, from its record ("DNS:x", "IP:y").
core::Result<std::vector<pki::SubjectAltName>> recorded_names(const store::CertificateRecord& rec) {
  std::vector<pki::SubjectAltName> out;
  for (const auto& s : rec.sans) {
    if (s.rfind("DNS:", 0) == 0) out.push_back({pki::SanKind::dns, s.substr(4)});
    else if (s.rfind("IP:", 0) == 0) out.push_back({pki::SanKind::ip, s.substr(3)});
  }
  if (out.empty()) return core::Error{Errc::invalid_argument, "certificate " + rec.serial + " has no DNS or IP name"};
  return out;
}

secrets::Rotator server_certificate_rotator(const Runtime& rt) {
  secrets::Rotator r;
  r.next_value = [&rt](std::string_view, const std::optional<secrets::Secret>&) -> core::Result<std::string> {
    CARTORIO_TRY(auto sans, parse_tls_names(rt.config.server.tls_names));
    return issue_value(rt, sans, rt.config.server.tls_certificate_days);
  };
  return r;
}

// Same names and lifetime as the current certificate, read from its issuance record.
secrets::Rotator tls_certificate_rotator(const Runtime& rt) {
  secrets::Rotator r;
  r.next_value = [&rt](std::string_view name, const std::optional<secrets::Secret>& current)
      -> core::Result<std::string> {
    if (!current)
      return core::Error{Errc::invalid_argument, "tls-certificate " + std::string(name) +
                                                     " is created by `cartorio cert manage NAME --dns ...`"};
    CARTORIO_TRY(auto cert, parse_managed_certificate(current->value));
    CARTORIO_TRY(auto rec, rt.store->get_certificate(cert.serial));
    CARTORIO_TRY(auto sans, recorded_names(rec));
    const auto life = std::chrono::duration_cast<std::chrono::hours>(cert.not_after - cert.not_before);
    return issue_value(rt, sans, static_cast<int>((life.count() + 23) / 24));
  };
  return r;
}

}  // namespace

core::Result<ManagedCertificate> parse_managed_certificate(std::string_view pem) {
  ManagedCertificate out;
  CARTORIO_TRY(out.key, key_from_pem(pem));
  CARTORIO_TRY(auto certs, crypto::parse_certificate_chain(pem));
  if (!crypto::same_public_key(X509_get0_pubkey(certs.front().get()), out.key.get()))
    return core::Error{Errc::malformed_input, "managed certificate: the key does not match the certificate"};
  for (const auto& c : certs) out.chain_pem += crypto::to_pem(c.get());
  out.serial = crypto::serial_hex(certs.front().get());
  out.not_before = core::from_unix(crypto::asn1_time_to_unix(X509_get0_notBefore(certs.front().get())));
  out.not_after = core::from_unix(crypto::asn1_time_to_unix(X509_get0_notAfter(certs.front().get())));
  out.leaf = std::move(certs.front());
  return out;
}

bool is_managed_certificate_kind(secrets::Kind kind) {
  return kind == secrets::Kind::server_certificate || kind == secrets::Kind::tls_certificate ||
         kind == secrets::Kind::service_certificate;
}

core::TimePoint renewal_due_at(core::TimePoint not_before, core::TimePoint not_after, std::chrono::seconds window) {
  const auto life = not_after - not_before;
  return not_after - std::min<core::TimePoint::duration>(window, life / 3);
}

core::Result<std::vector<pki::SubjectAltName>> parse_tls_names(const std::string& list) {
  std::vector<pki::SubjectAltName> out;
  std::size_t start = 0;
  while (start <= list.size()) {
    const auto comma = list.find(',', start);
    const std::string name = list.substr(start, comma == std::string::npos ? std::string::npos : comma - start);
    if (name.empty()) return core::Error{Errc::invalid_argument, "empty name in \"" + list + "\""};
    out.push_back({is_ip(name) ? pki::SanKind::ip : pki::SanKind::dns, name});
    if (comma == std::string::npos) break;
    start = comma + 1;
  }
  return out;
}

void add_managed_certificate_rotators(secrets::SecretManager& manager, const Runtime& rt) {
  manager.set_rotator(secrets::Kind::server_certificate, server_certificate_rotator(rt));
  manager.set_rotator(secrets::Kind::tls_certificate, tls_certificate_rotator(rt));
}

core::Result<secrets::SecretInfo> manage_tls_certificate(const Runtime& rt, const std::string& name,
                                                         const std::vector<pki::SubjectAltName>& sans,
                                                         int validity_days, const secrets::Caller& who) {
  CARTORIO_TRY_VOID(secrets::check_secret_name(name));
  if (secrets::is_reserved_name(name))
    return core::Error{Errc::invalid_argument, "secret " + name + " is the installation's own"};
  if (validity_days < 1 || validity_days > kMaxValidityDays)
    return core::Error{Errc::invalid_argument, "validity must be 1.." + std::to_string(kMaxValidityDays) + " days"};
  for (const auto& s : sans)
    if (s.kind == pki::SanKind::dns && !pki::is_valid_dns_name(s.value, true))
      return core::Error{Errc::invalid_san, "invalid DNS name \"" + s.value + "\""};
  auto existing = rt.secrets->latest(name);
  if (existing) return core::Error{Errc::already_exists, "secret " + name + " exists"};
  if (existing.error().code != Errc::not_found) return std::move(existing).error();
  // A manager of its own whose tls-certificate rotator makes this first version.
  secrets::SecretManager manager(*rt.secrets, *rt.store, *rt.clock, 0);
  secrets::Rotator first;
  first.next_value = [&rt, &sans, validity_days](std::string_view, const std::optional<secrets::Secret>&) {
    return issue_value(rt, sans, validity_days);
  };
  manager.set_rotator(secrets::Kind::tls_certificate, std::move(first));
  return manager.rotate(name, who, "create", secrets::Kind::tls_certificate);
}

}  // namespace cartorio::app
