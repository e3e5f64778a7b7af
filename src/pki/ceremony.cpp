#include "pki/ceremony.h"

#include "crl/crl_generator.h"
#include "crypto/primitives.h"
#include "crypto/x509.h"
#include "keys/sealed_key.h"
#include "pki/certificate_builder.h"
#include "pki/certificate_issuer.h"

#include <openssl/x509.h>
#include <openssl/x509v3.h>

namespace cartorio::pki {

using core::Errc;

namespace {

std::string ca_common_name(const std::string& ca) {
  if (ca == kRoot) return "Cartorio Digital Root CA";
  if (ca == kTlsCa) return "Cartorio Digital TLS CA";
  return "Cartorio Digital Document Signing CA";
}

// EKU constraints on the intermediates (RFC 5280 does not define EKU chaining, but
// OpenSSL, NSS and Windows apply it): each CA may only vouch for what it issues.
std::string ca_eku(const std::string& ca) {
  if (ca == kTlsCa) return "serverAuth,clientAuth,OCSPSigning";
  return "emailProtection,1.3.6.1.5.5.7.3.36,timeStamping,OCSPSigning";
}

std::string spki_fingerprint(const EVP_PKEY* key) {
  auto der = crypto::public_key_to_der(key);
  if (!der) return "";
  auto h = crypto::sha256(*der);
  return crypto::to_hex(h);
}

}  // namespace

crypto::X509Name Ceremony::make_name(const std::string& cn) const {
  crypto::X509Name name(X509_NAME_new());
  auto add = [&](const char* field, const std::string& v) {
    X509_NAME_add_entry_by_txt(name.get(), field, MBSTRING_UTF8, reinterpret_cast<const unsigned char*>(v.data()),
                               static_cast<int>(v.size()), -1, 0);
  };
  add("C", m_options.country);
  add("O", m_options.organization);
  add("CN", cn);
  return name;
}

core::Result<void> Ceremony::audit_root_use(const std::string& purpose, const std::string& target) {
  store::AuditEvent e;
  e.time = core::to_unix(m_clock.now());
  e.actor = m_options.actor;
  e.action = "key.use";
  e.target = "offline:root";
  e.result = "success";
  e.source = "local";
  e.details = R"({"purpose":")" + purpose + R"(","target":")" + target + R"("})";
  CARTORIO_TRY_VOID(m_store.append_audit_event(e));
  return core::ok();
}

core::Result<keys::KeyInfo> Ceremony::create_key(const std::string& purpose, crypto::KeyAlgorithm alg) {
  const std::string label = purpose + "-" + std::to_string(core::to_unix(m_clock.now())) + "-" +
                            crypto::to_hex(crypto::random_bytes(3));
  CARTORIO_TRY(auto info, m_keys.create_key(keys::CreateKeyRequest{label, alg}));
  store::KeyRecord rec;
  rec.label = info.label;
  rec.uri = info.ref.uri;
  rec.backend = info.backend;
  rec.algorithm = std::string(crypto::key_algorithm_name(alg));
  rec.purpose = purpose;
  rec.created_at = core::to_unix(m_clock.now());
  CARTORIO_TRY_VOID(m_store.put_key_record(rec));
  return info;
}

core::Result<crypto::X509Ptr> Ceremony::issue_intermediate(const std::string& ca_name, const EVP_PKEY* public_key,
                                                           const X509* root_cert, EVP_PKEY* root_key) {
  const auto now = m_clock.now();
  auto subject = make_name(ca_common_name(ca_name));
  CertificateSpec spec;
  spec.subject = subject.get();
  spec.public_key = public_key;
  spec.issuer = root_cert;
  spec.not_before = now - std::chrono::seconds(60);
  const auto root_end = core::from_unix(crypto::asn1_time_to_unix(X509_get0_notAfter(root_cert)));
  spec.not_after = std::min(now + std::chrono::hours(24) * m_options.intermediate_validity_days, root_end);
  spec.extensions = {
      {NID_basic_constraints, "critical,CA:TRUE,pathlen:0"},
      {NID_key_usage, "critical,keyCertSign,cRLSign"},
      {NID_ext_key_usage, ca_eku(ca_name)},
      {NID_crl_distribution_points, "URI:" + m_options.urls.crl(kRoot)},
      {NID_info_access, "OCSP;URI:" + m_options.urls.ocsp(kRoot) + ",caIssuers;URI:" + m_options.urls.ca_issuers(kRoot)},
  };
  auto serial = random_serial();
  CARTORIO_TRY_VOID(audit_root_use("issue-intermediate", ca_name));
  CARTORIO_TRY(auto cert, build_certificate(spec, serial.get(), root_key));
  CARTORIO_TRY_VOID(m_store.insert_certificate(record_for(cert.get(), kRoot, "sub-ca", m_options.actor, core::to_unix(now))));
  return cert;
}

core::Result<void> Ceremony::issue_leaf_identity(const std::string& identity, const std::string& profile,
                                                 const std::string& ca_name, crypto::KeyAlgorithm alg,
                                                 const std::string& common_name) {
  CARTORIO_TRY(auto key, create_key(identity, alg));
  CARTORIO_TRY(auto pub, m_keys.public_key(key.ref));
  CARTORIO_TRY(auto hierarchy, Hierarchy::load(m_store, m_store));
  CertificateIssuer issuer(hierarchy, m_keys, m_store, m_clock, m_options.urls);
  auto subject = make_name(common_name);
  CertificateIssuer::KeyedRequest req;
  req.profile = profile;
  req.issuer = ca_name;
  req.subject = subject.get();
  req.public_key = pub.get();
  req.requester = m_options.actor;
  CARTORIO_TRY(auto issued, issuer.issue_for_key(req));
  return m_store.put_authority({identity, issued.record.pem, key.label, core::to_unix(m_clock.now())});
}

core::Result<InitResult> Ceremony::init(std::string_view root_passphrase, const RootKeyHook& with_root_key) {
  if (m_store.get_authority(kRoot))
    return {Errc::already_initialized, "this installation already has a CA hierarchy"};
  const auto now = m_clock.now();
  InitResult out;

  // 1. Root: generated here, self-signed, sealed for the operator, never stored in clear.
  CARTORIO_TRY(auto root_key, crypto::generate_key(m_options.root_algorithm));
  CARTORIO_TRY(out.sealed_root_key, keys::seal_private_key(root_key.get(), root_passphrase, "root"));
  auto root_name = make_name(ca_common_name(kRoot));
  CertificateSpec spec;
  spec.subject = root_name.get();
  spec.public_key = root_key.get();
  spec.not_before = now - std::chrono::seconds(60);
  spec.not_after = now + std::chrono::hours(24) * m_options.root_validity_days;
  spec.extensions = {{NID_basic_constraints, "critical,CA:TRUE"}, {NID_key_usage, "critical,keyCertSign,cRLSign"}};
  auto serial = random_serial();
  CARTORIO_TRY_VOID(audit_root_use("self-sign-root", "root"));
  CARTORIO_TRY(auto root_cert, build_certificate(spec, serial.get(), root_key.get()));
  out.root_pem = crypto::to_pem(root_cert.get());
  CARTORIO_TRY_VOID(m_store.insert_certificate(record_for(root_cert.get(), kRoot, "root-ca", m_options.actor, core::to_unix(now))));
  store::KeyRecord root_rec;
  root_rec.label = "root-" + std::to_string(core::to_unix(now));
  root_rec.uri = "offline:sha256:" + spki_fingerprint(root_key.get());
  root_rec.backend = "offline";
  root_rec.algorithm = std::string(crypto::key_algorithm_name(m_options.root_algorithm));
  root_rec.purpose = "root";
  root_rec.state = "offline";
  root_rec.created_at = core::to_unix(now);
  CARTORIO_TRY_VOID(m_store.put_key_record(root_rec));

  // 2. The two online intermediates, keys in the KeyStore.
  for (const std::string ca : {kTlsCa, kDocumentCa}) {
    CARTORIO_TRY(auto key, create_key("ca-" + ca, m_options.intermediate_algorithm));
    CARTORIO_TRY(auto pub, m_keys.public_key(key.ref));
    CARTORIO_TRY(auto cert, issue_intermediate(ca, pub.get(), root_cert.get(), root_key.get()));
    CARTORIO_TRY_VOID(m_store.put_authority({ca, crypto::to_pem(cert.get()), key.label, core::to_unix(now)}));
  }

  // 3. The root CRL, while the root key is here. The root goes in last: its presence is what
  // marks the installation as initialised.
  crl::CrlGenerator crls(m_store, m_clock, m_options.crl_validity);
  CARTORIO_TRY_VOID(audit_root_use("sign-crl", "root"));
  CARTORIO_TRY(out.crls[kRoot], crls.generate(kRoot, root_cert.get(), root_key.get()));
  if (with_root_key) CARTORIO_TRY_VOID(with_root_key(root_cert.get(), root_key.get()));
  root_key.reset();
  CARTORIO_TRY_VOID(m_store.put_authority({kRoot, out.root_pem, root_rec.label, core::to_unix(now)}));

  // 4. Delegated OCSP responders and the TSA, under the intermediates.
  CARTORIO_TRY_VOID(issue_leaf_identity(ocsp_identity_for(kTlsCa), "ocsp", kTlsCa, m_options.ocsp_algorithm,
                                        "Cartorio Digital TLS CA OCSP Responder"));
  CARTORIO_TRY_VOID(issue_leaf_identity(ocsp_identity_for(kDocumentCa), "ocsp", kDocumentCa, m_options.ocsp_algorithm,
                                        "Cartorio Digital Document Signing CA OCSP Responder"));
  CARTORIO_TRY_VOID(issue_leaf_identity(kTsa, "tsa", kDocumentCa, m_options.tsa_algorithm,
                                        "Cartorio Digital Time Stamping Authority"));

  // 5. First CRLs of the intermediates.
  CARTORIO_TRY(auto hierarchy, Hierarchy::load(m_store, m_store));
  for (const std::string ca : {kTlsCa, kDocumentCa}) {
    CARTORIO_TRY(auto id, hierarchy.get(ca));
    CARTORIO_TRY(auto signer, m_keys.signer(*id->key_ref, keys::KeyUse{"sign-crl", m_options.actor, ca}));
    CARTORIO_TRY(out.crls[ca], crls.generate(ca, id->cert.get(), signer->pkey()));
  }
  return out;
}

core::Result<void> Ceremony::check_root_key(const X509* root_cert, const EVP_PKEY* root_key) {
  if (!crypto::same_public_key(X509_get0_pubkey(root_cert), root_key))
    return {Errc::permission_denied, "the key given is not this installation's root key"};
  return core::ok();
}

core::Result<crypto::X509Ptr> Ceremony::sign_intermediate(const std::string& ca_name, EVP_PKEY* root_key,
                                                          bool new_key) {
  if (ca_name != kTlsCa && ca_name != kDocumentCa)
    return {Errc::invalid_argument, "only the \"tls\" and \"document\" CAs are signed by the root"};
  CARTORIO_TRY(auto hierarchy, Hierarchy::load(m_store, m_store));
  CARTORIO_TRY(const SigningIdentity* root, hierarchy.get(kRoot));
  CARTORIO_TRY_VOID(check_root_key(root->cert.get(), root_key));
  CARTORIO_TRY(const SigningIdentity* current, hierarchy.get(ca_name));

  std::string key_label = current->key_label;
  keys::KeyRef ref = current->key_ref.value_or(keys::KeyRef{});
  if (new_key) {
    CARTORIO_TRY(auto key, create_key("ca-" + ca_name, m_options.intermediate_algorithm));
    key_label = key.label;
    ref = key.ref;
  }
  CARTORIO_TRY(auto pub, m_keys.public_key(ref));
  CARTORIO_TRY(auto cert, issue_intermediate(ca_name, pub.get(), root->cert.get(), root_key));
  CARTORIO_TRY_VOID(m_store.put_authority({ca_name, crypto::to_pem(cert.get()), key_label, core::to_unix(m_clock.now())}));
  if (new_key) {
    // Certificates under the old key stay valid (the old CA certificate still chains); the
    // system's own identities move to the new key at once.
    if (ca_name == kTlsCa) {
      CARTORIO_TRY_VOID(issue_leaf_identity(ocsp_identity_for(kTlsCa), "ocsp", kTlsCa, m_options.ocsp_algorithm,
                                            "Cartorio Digital TLS CA OCSP Responder"));
    } else {
      CARTORIO_TRY_VOID(issue_leaf_identity(ocsp_identity_for(kDocumentCa), "ocsp", kDocumentCa,
                                            m_options.ocsp_algorithm, "Cartorio Digital Document Signing CA OCSP Responder"));
      CARTORIO_TRY_VOID(issue_leaf_identity(kTsa, "tsa", kDocumentCa, m_options.tsa_algorithm,
                                            "Cartorio Digital Time Stamping Authority"));
    }
  }
  return cert;
}

core::Result<crypto::X509Crl> Ceremony::sign_root_crl(EVP_PKEY* root_key) {
  CARTORIO_TRY(auto hierarchy, Hierarchy::load(m_store, m_store));
  CARTORIO_TRY(const SigningIdentity* root, hierarchy.get(kRoot));
  CARTORIO_TRY_VOID(check_root_key(root->cert.get(), root_key));
  CARTORIO_TRY_VOID(audit_root_use("sign-crl", "root"));
  crl::CrlGenerator crls(m_store, m_clock, m_options.crl_validity);
  return crls.generate(kRoot, root->cert.get(), root_key);
}

}  // namespace cartorio::pki
