#include "pki/csr_validator.h"

#include "crypto/key_pair.h"
#include "crypto/x509.h"

#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/evp.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include <algorithm>
#include <arpa/inet.h>

namespace cartorio::pki {

using core::Errc;

namespace {

constexpr std::size_t kMaxSans = 100;
constexpr std::size_t kMaxCsrBytes = 64 * 1024;

std::string_view san_prefix(SanKind k) {
  switch (k) {
    case SanKind::dns: return "DNS";
    case SanKind::ip: return "IP";
    case SanKind::email: return "email";
    case SanKind::uri: return "URI";
  }
  return "";
}

std::string asn1_string_to_utf8(const ASN1_STRING* s) {
  unsigned char* out = nullptr;
  int n = ASN1_STRING_to_UTF8(&out, s);
  if (n < 0) return {};
  std::string r(reinterpret_cast<char*>(out), static_cast<std::size_t>(n));
  OPENSSL_free(out);
  return r;
}

core::Result<void> check_key(const EVP_PKEY* key, const Profile& p) {
  auto d = crypto::describe_key(key);
  if (d.type == crypto::KeyDescription::Type::rsa) {
    if (d.bits < p.min_rsa_bits)
      return {Errc::weak_key, "RSA key of " + std::to_string(d.bits) + " bits is too weak (minimum " +
                                  std::to_string(p.min_rsa_bits) + ")"};
    if (d.bits > p.max_rsa_bits)
      return {Errc::unsupported_key_type, "RSA key of " + std::to_string(d.bits) + " bits exceeds " +
                                              std::to_string(p.max_rsa_bits)};
    BIGNUM* e = nullptr;
    if (EVP_PKEY_get_bn_param(key, OSSL_PKEY_PARAM_RSA_E, &e) != 1)
      return {Errc::malformed_csr, "RSA key without a public exponent"};
    crypto::Bignum exp(e);
    // e must be odd and > 2^16 (FIPS 186-4 B.3.1); e=3 keys are refused.
    if (!BN_is_odd(exp.get()) || BN_num_bits(exp.get()) < 17)
      return {Errc::weak_key, "RSA public exponent must be odd and at least 65537"};
    return core::ok();
  }
  if (d.type == crypto::KeyDescription::Type::ec) {
    if (std::find(p.ec_curves.begin(), p.ec_curves.end(), d.curve) == p.ec_curves.end())
      return {Errc::unsupported_key_type, "EC curve \"" + d.curve + "\" is not allowed (P-256 or P-384)"};
    return core::ok();
  }
  return {Errc::unsupported_key_type, "key type not allowed: use RSA >= 2048 or EC P-256/P-384"};
}

core::Result<std::vector<SubjectAltName>> read_sans(X509_REQ* req) {
  std::vector<SubjectAltName> out;
  STACK_OF(X509_EXTENSION)* exts = X509_REQ_get_extensions(req);
  if (!exts) {
    crypto::openssl_errors();
    return out;
  }
  struct ExtsFree {
    void operator()(STACK_OF(X509_EXTENSION) * s) const { sk_X509_EXTENSION_pop_free(s, X509_EXTENSION_free); }
  };
  std::unique_ptr<STACK_OF(X509_EXTENSION), ExtsFree> guard(exts);
  int crit = 0;
  // Without an index pointer OpenSSL reports duplicates (crit == -2) instead of taking the first.
  auto* names = static_cast<GENERAL_NAMES*>(X509V3_get_d2i(exts, NID_subject_alt_name, &crit, nullptr));
  if (!names) {
    if (crit == -2) return {Errc::invalid_san, "CSR has more than one subjectAltName extension"};
    if (crit >= 0) return {Errc::invalid_san, "CSR subjectAltName extension cannot be decoded"};
    return out;  // none
  }
  crypto::GeneralNames gens(names);
  const int n = sk_GENERAL_NAME_num(names);
  if (static_cast<std::size_t>(n) > kMaxSans)
    return {Errc::invalid_san, "too many subjectAltNames (" + std::to_string(n) + ", maximum 100)"};
  for (int i = 0; i < n; ++i) {
    const GENERAL_NAME* g = sk_GENERAL_NAME_value(names, i);
    switch (g->type) {
      case GEN_DNS: {
        std::string v(reinterpret_cast<const char*>(ASN1_STRING_get0_data(g->d.dNSName)),
                      static_cast<std::size_t>(ASN1_STRING_length(g->d.dNSName)));
        out.push_back({SanKind::dns, v});
        break;
      }
      case GEN_EMAIL: {
        std::string v(reinterpret_cast<const char*>(ASN1_STRING_get0_data(g->d.rfc822Name)),
                      static_cast<std::size_t>(ASN1_STRING_length(g->d.rfc822Name)));
        out.push_back({SanKind::email, v});
        break;
      }
      case GEN_URI: {
        std::string v(reinterpret_cast<const char*>(ASN1_STRING_get0_data(g->d.uniformResourceIdentifier)),
                      static_cast<std::size_t>(ASN1_STRING_length(g->d.uniformResourceIdentifier)));
        out.push_back({SanKind::uri, v});
        break;
      }
      case GEN_IPADD: {
        const int len = ASN1_STRING_length(g->d.iPAddress);
        const unsigned char* b = ASN1_STRING_get0_data(g->d.iPAddress);
        char buf[INET6_ADDRSTRLEN] = {0};
        if (len == 4) inet_ntop(AF_INET, b, buf, sizeof buf);
        else if (len == 16) inet_ntop(AF_INET6, b, buf, sizeof buf);
        else return {Errc::invalid_san, "IP address SAN of " + std::to_string(len) + " bytes (must be 4 or 16)"};
        out.push_back({SanKind::ip, buf});
        break;
      }
      default:
        return {Errc::invalid_san, "unsupported subjectAltName type (only DNS, IP, email, URI)"};
    }
  }
  return out;
}

core::Result<void> check_san_syntax(const SubjectAltName& s) {
  switch (s.kind) {
    case SanKind::dns:
      if (!is_valid_dns_name(s.value, true))
        return {Errc::invalid_san, "invalid DNS name \"" + s.value + "\" (lowercase LDH labels, wildcard only as the leftmost label)"};
      break;
    case SanKind::email:
      if (!is_valid_email(s.value)) return {Errc::invalid_san, "invalid e-mail address \"" + s.value + "\""};
      break;
    case SanKind::uri: {
      auto colon = s.value.find(':');
      bool ok = colon != std::string::npos && colon > 0 && s.value.size() <= 2048 &&
                std::isalpha(static_cast<unsigned char>(s.value[0]));
      for (std::size_t i = 0; ok && i < s.value.size(); ++i) {
        unsigned char ch = static_cast<unsigned char>(s.value[i]);
        if (ch <= 0x20 || ch >= 0x7f) ok = false;
      }
      if (!ok) return {Errc::invalid_san, "invalid URI \"" + s.value + "\""};
      break;
    }
    case SanKind::ip:
      break;  // decoded from 4/16 bytes above
  }
  return core::ok();
}

core::Result<crypto::X509Name> filter_subject(X509_REQ* req) {
  static constexpr int kAllowed[] = {NID_commonName, NID_organizationName, NID_organizationalUnitName,
                                     NID_localityName, NID_stateOrProvinceName, NID_countryName,
                                     NID_serialNumber};
  const X509_NAME* in = X509_REQ_get_subject_name(req);
  crypto::X509Name out(X509_NAME_new());
  for (int i = 0; i < X509_NAME_entry_count(in); ++i) {
    const X509_NAME_ENTRY* e = X509_NAME_get_entry(in, i);
    const int nid = OBJ_obj2nid(X509_NAME_ENTRY_get_object(e));
    if (std::find(std::begin(kAllowed), std::end(kAllowed), nid) == std::end(kAllowed)) continue;
    std::string value = asn1_string_to_utf8(X509_NAME_ENTRY_get_data(e));
    if (value.empty()) continue;
    // RFC 5280 upper bounds count characters, not UTF-8 bytes.
    const auto chars = std::count_if(value.begin(), value.end(), [](char c) { return (c & 0xC0) != 0x80; });
    if (chars > 64)
      return {Errc::profile_violation, std::string("subject ") + OBJ_nid2sn(nid) + " longer than 64 characters"};
    if (nid == NID_countryName &&
        (value.size() != 2 || !std::isupper(static_cast<unsigned char>(value[0])) ||
         !std::isupper(static_cast<unsigned char>(value[1]))))
      return {Errc::profile_violation, "subject C must be a two-letter ISO 3166 country code"};
    if (X509_NAME_add_entry_by_NID(out.get(), nid, MBSTRING_UTF8, reinterpret_cast<const unsigned char*>(value.data()),
                                   static_cast<int>(value.size()), -1, 0) != 1)
      return {Errc::profile_violation, std::string("subject ") + OBJ_nid2sn(nid) + " cannot be encoded (" +
                                           crypto::openssl_errors() + ")"};
  }
  return out;
}

}  // namespace

std::string SubjectAltName::display() const { return std::string(san_prefix(kind)) + ":" + value; }

bool is_valid_dns_name(std::string_view name, bool allow_wildcard) {
  if (name.empty() || name.size() > 253) return false;
  bool wildcard = false;
  if (allow_wildcard && name.rfind("*.", 0) == 0) {
    name.remove_prefix(2);
    wildcard = true;
  }
  std::size_t start = 0;
  int labels = 0;
  while (start <= name.size()) {
    std::size_t end = name.find('.', start);
    if (end == std::string_view::npos) end = name.size();
    std::string_view label = name.substr(start, end - start);
    if (label.empty() || label.size() > 63 || label.front() == '-' || label.back() == '-') return false;
    for (char c : label)
      if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-')) return false;
    ++labels;
    start = end + 1;
    if (end == name.size()) {
      // An all-digit last label is an IP address in disguise (CA/B BR 7.1.4.2.1), never a host name.
      if (label.find_first_not_of("0123456789") == std::string_view::npos) return false;
      break;
    }
  }
  // "*.com" would match every host under a top-level domain.
  return wildcard ? labels >= 2 : labels >= 1;
}

bool is_valid_email(std::string_view email) {
  auto at = email.find('@');
  if (at == std::string_view::npos || at == 0 || email.size() > 254 || email.find('@', at + 1) != std::string_view::npos)
    return false;
  for (char c : email.substr(0, at))
    if (static_cast<unsigned char>(c) <= 0x20 || static_cast<unsigned char>(c) >= 0x7f || c == '<' || c == '>')
      return false;
  std::string domain(email.substr(at + 1));
  for (auto& c : domain) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return is_valid_dns_name(domain, false);
}

core::Result<ValidatedCsr> validate_csr(crypto::ByteView csr, const Profile& profile) {
  if (csr.size() > kMaxCsrBytes) return {Errc::malformed_csr, "CSR larger than 64 KiB"};
  CARTORIO_TRY(auto parsed, crypto::parse_csr(csr));
  auto& req = parsed.request;
  EVP_PKEY* pub = parsed.public_key.get();
  if (!pub) return {Errc::malformed_csr, "CSR public key cannot be decoded (" + crypto::openssl_errors() + ")"};
  if (X509_REQ_verify(req.get(), pub) != 1) {
    crypto::openssl_errors();
    return {Errc::csr_bad_signature, "CSR signature does not verify with its own public key"};
  }
  CARTORIO_TRY_VOID(check_key(pub, profile));
  CARTORIO_TRY(auto subject, filter_subject(req.get()));
  CARTORIO_TRY(auto sans, read_sans(req.get()));
  for (const auto& s : sans) {
    if (std::find(profile.allowed_sans.begin(), profile.allowed_sans.end(), s.kind) == profile.allowed_sans.end())
      return {Errc::profile_violation, "profile " + profile.name + " does not allow the name " + s.display()};
    CARTORIO_TRY_VOID(check_san_syntax(s));
  }
  if (profile.requires_san && sans.empty())
    return {Errc::profile_violation, "profile " + profile.name + " requires at least one subjectAltName"};
  if (X509_NAME_entry_count(subject.get()) == 0 && sans.empty())
    return {Errc::profile_violation, "CSR has neither a subject nor a subjectAltName"};

  ValidatedCsr out;
  out.public_key = std::move(parsed.public_key);
  out.subject = std::move(subject);
  out.sans = std::move(sans);
  out.request = std::move(req);
  return out;
}

}  // namespace cartorio::pki
