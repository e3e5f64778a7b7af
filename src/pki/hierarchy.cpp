#include "pki/hierarchy.h"

#include "crypto/x509.h"

namespace cartorio::pki {

using core::Errc;

std::string ocsp_identity_for(const std::string& ca) { return "ocsp-" + ca; }

bool is_ca_name(const std::string& name) { return name == kRoot || name == kTlsCa || name == kDocumentCa; }

std::string parent_of(const std::string& name) {
  if (name == kRoot) return "";
  if (name == kTlsCa || name == kDocumentCa) return kRoot;
  if (name == kTsa) return kDocumentCa;
  if (name.rfind("ocsp-", 0) == 0) return name.substr(5);
  return "";
}

PublicUrls make_urls(std::string base) {
  while (!base.empty() && base.back() == '/') base.pop_back();
  return PublicUrls{std::move(base)};
}

core::Result<Hierarchy> Hierarchy::load(store::AuthorityRepository& authorities,
                                        store::KeyRecordRepository& key_records) {
  CARTORIO_TRY(auto list, authorities.list_authorities());
  Hierarchy h;
  for (const auto& a : list) {
    CARTORIO_TRY(auto cert, crypto::parse_certificate(crypto::as_bytes(a.cert_pem)));
    SigningIdentity id{a.name, std::move(cert), a.key_label, std::nullopt};
    auto rec = key_records.get_key_record(a.key_label);
    if (rec && rec->backend != "offline") id.key_ref = keys::KeyRef{rec->uri};
    h.m_entries.emplace(a.name, std::move(id));
  }
  if (!h.m_entries.count(kRoot))
    return {Errc::not_initialized, "no CA hierarchy in the store: run `cartorio init` first"};
  return h;
}

core::Result<const SigningIdentity*> Hierarchy::get(const std::string& name) const {
  auto it = m_entries.find(name);
  if (it == m_entries.end()) return {Errc::ca_not_found, "no CA or signing identity named \"" + name + "\""};
  return &it->second;
}

core::Result<std::string> Hierarchy::chain_pem(const std::string& name) const {
  std::string out;
  std::string cur = name;
  for (int depth = 0; !cur.empty() && depth < 4; ++depth) {
    CARTORIO_TRY(auto id, get(cur));
    out += crypto::to_pem(id->cert.get());
    cur = parent_of(cur);
  }
  return out;
}

std::vector<std::string> Hierarchy::names() const {
  std::vector<std::string> out;
  for (const auto& [n, _] : m_entries) out.push_back(n);
  return out;
}

}  // namespace cartorio::pki
