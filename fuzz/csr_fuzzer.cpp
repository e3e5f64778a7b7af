// libFuzzer target: untrusted PKCS#10 requests (PEM or DER) through pki::validate_csr, as
// POST /api/v1/certificates (CertificateIssuer::issue) and ACME finalize run it, against every
// profile's policy, then into a certificate the way the issuer builds one (docs/fuzzing.md).
//
// Once per process (LLVMFuzzerInitialize): a self-signed EC P-256 CA made with
// pki::build_certificate. No store, no key store: validation needs neither, and the issuer's
// remaining steps (serial, store insert) never read the CSR.
//
// Every input up to the route's 64 KiB is validated under each profile, and must give:
//   - an error with one of the documented codes (malformed_csr, csr_bad_signature, weak_key,
//     unsupported_key_type, invalid_san, profile_violation); or
//   - a ValidatedCsr whose request verifies with its own key, whose key is RSA within the
//     profile's bounds with an odd exponent >= 65537 or EC on one of its curves, whose subject
//     holds only the accepted attributes (at most 64 characters each, C two capital letters),
//     whose SANs are of the profile's kinds and pass the syntax checks, at most 100 of them,
//     at least one when the profile requires it, and not both subject and SANs empty;
//   - and from it build_certificate (the issuer's extensions for the profile) makes a
//     certificate that parses back as one DER X.509, verifies with the CA key, carries the CSR's
//     public key, the validated subject and exactly the validated SANs in order (read back by
//     pki::record_for, as the store records them), critical when the subject is empty.
// The request and key in a ValidatedCsr must be what OpenSSL's own reader (PEM_read_bio_X509_REQ
// or d2i_X509_REQ) makes of the same input: the same DER and the same key, whichever of
// parse_csr's two paths read it (crypto/csr.cpp).
// Inputs that are not PEM are also tried once as the PEM a client would paste (base64 under a
// CERTIFICATE REQUEST header): a DER request that validates must validate the same way there.
// A DER request whose signature does not verify is also signed again by the harness (see
// resigned()), so that mutations reach the checks after the signature.
// A broken invariant prints what broke and aborts, which libFuzzer reports as a crash.
#include "core/clock.h"
#include "core/error.h"
#include "crypto/bytes.h"
#include "crypto/key_pair.h"
#include "crypto/ossl.h"
#include "crypto/x509.h"
#include "pki/certificate_builder.h"
#include "pki/certificate_issuer.h"
#include "pki/csr_validator.h"
#include "pki/profile.h"

#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/objects.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include <arpa/inet.h>

#include <algorithm>
#include <cctype>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace {

using namespace cartorio;
using core::Errc;

constexpr std::size_t kMaxCsrBytes = 64 * 1024;  // certificate_routes.cpp answers 400 above this

[[noreturn]] void die(const std::string& what) {
  std::fprintf(stderr, "csr_fuzzer: %s\n", what.c_str());
  std::fflush(stderr);
  std::abort();
}

struct Harness {
  crypto::PKey ca_key;
  crypto::PKey requester_key;  // EC P-256: signs requests again (resigned())
  crypto::X509Ptr ca_cert;
  core::TimePoint now = core::from_unix(1'750'000'000);
  bool verbose = false;  // CARTORIO_FUZZ_VERBOSE=1: one line per profile and input on stderr
};

Harness* g_harness = nullptr;

void setup(Harness& h) {
  const char* v = std::getenv("CARTORIO_FUZZ_VERBOSE");
  h.verbose = v && *v && std::string(v) != "0";
  auto key = crypto::generate_key(crypto::KeyAlgorithm::ec_p256);
  if (!key) die("generate_key: " + key.error().to_string());
  h.ca_key = std::move(*key);
  auto requester = crypto::generate_key(crypto::KeyAlgorithm::ec_p256);
  if (!requester) die("generate_key: " + requester.error().to_string());
  h.requester_key = std::move(*requester);
  auto name = crypto::make_name({{"C", "BR"}, {"O", "Cartorio Digital"}, {"CN", "CSR Fuzz CA"}});
  if (!name) die("make_name: " + name.error().to_string());
  pki::CertificateSpec spec;
  spec.subject = name->get();
  spec.public_key = h.ca_key.get();
  spec.not_before = h.now - std::chrono::hours(24);
  spec.not_after = h.now + std::chrono::hours(24 * 3650);
  spec.extensions = {{NID_basic_constraints, "critical,CA:TRUE"}, {NID_key_usage, "critical,keyCertSign,cRLSign"}};
  auto cert = pki::build_certificate(spec, pki::random_serial().get(), h.ca_key.get());
  if (!cert) die("CA certificate: " + cert.error().to_string());
  h.ca_cert = std::move(*cert);
}

[[noreturn]] void violated(const pki::Profile& p, const std::string& what) {
  die("invariant broken under profile " + p.name + ": " + what);
}

bool documented(Errc code) {
  return code == Errc::malformed_csr || code == Errc::csr_bad_signature || code == Errc::weak_key ||
         code == Errc::unsupported_key_type || code == Errc::invalid_san || code == Errc::profile_violation;
}

void check_key(const pki::Profile& p, EVP_PKEY* key) {
  const auto d = crypto::describe_key(key);
  if (d.type == crypto::KeyDescription::Type::rsa) {
    if (d.bits < p.min_rsa_bits || d.bits > p.max_rsa_bits) violated(p, "RSA key of " + std::to_string(d.bits) + " bits");
    BIGNUM* raw = nullptr;
    if (EVP_PKEY_get_bn_param(key, OSSL_PKEY_PARAM_RSA_E, &raw) != 1) violated(p, "RSA key without e accepted");
    crypto::Bignum e(raw);
    if (!BN_is_odd(e.get()) || BN_num_bits(e.get()) < 17) violated(p, "RSA exponent below 65537 or even");
  } else if (d.type == crypto::KeyDescription::Type::ec) {
    if (std::find(p.ec_curves.begin(), p.ec_curves.end(), d.curve) == p.ec_curves.end())
      violated(p, "EC curve " + d.curve);
  } else {
    violated(p, "a key that is neither RSA nor EC");
  }
}

void check_subject(const pki::Profile& p, const X509_NAME* subject) {
  static constexpr int kAllowed[] = {NID_commonName,        NID_organizationName, NID_organizationalUnitName,
                                     NID_localityName,      NID_stateOrProvinceName, NID_countryName,
                                     NID_serialNumber};
  for (int i = 0; i < X509_NAME_entry_count(subject); ++i) {
    const X509_NAME_ENTRY* e = X509_NAME_get_entry(subject, i);
    const int nid = OBJ_obj2nid(X509_NAME_ENTRY_get_object(e));
    if (std::find(std::begin(kAllowed), std::end(kAllowed), nid) == std::end(kAllowed))
      violated(p, std::string("subject attribute ") + OBJ_nid2sn(nid) + " kept");
    unsigned char* utf8 = nullptr;
    const int n = ASN1_STRING_to_UTF8(&utf8, X509_NAME_ENTRY_get_data(e));
    if (n <= 0) violated(p, "an empty or unreadable subject attribute kept");
    const std::string value(reinterpret_cast<char*>(utf8), static_cast<std::size_t>(n));
    OPENSSL_free(utf8);
    if (std::count_if(value.begin(), value.end(), [](char c) { return (c & 0xC0) != 0x80; }) > 64)
      violated(p, "a subject attribute longer than 64 characters");
    if (nid == NID_countryName && (value.size() != 2 || value[0] < 'A' || value[0] > 'Z' || value[1] < 'A' || value[1] > 'Z'))
      violated(p, "subject C \"" + value + "\"");
  }
}

void check_san(const pki::Profile& p, const pki::SubjectAltName& s) {
  if (std::find(p.allowed_sans.begin(), p.allowed_sans.end(), s.kind) == p.allowed_sans.end())
    violated(p, "a SAN of a kind the profile does not allow: " + s.display());
  switch (s.kind) {
    case pki::SanKind::dns:
      if (!pki::is_valid_dns_name(s.value, true)) violated(p, "invalid DNS SAN accepted: " + s.display());
      break;
    case pki::SanKind::email:
      if (!pki::is_valid_email(s.value)) violated(p, "invalid e-mail SAN accepted: " + s.display());
      break;
    case pki::SanKind::uri:
      // A scheme (a letter first, then a colon), at most 2048 printable ASCII characters.
      if (s.value.find(':') == std::string::npos || s.value.size() > 2048 ||
          !std::isalpha(static_cast<unsigned char>(s.value[0])) ||
          std::any_of(s.value.begin(), s.value.end(), [](char c) {
            return static_cast<unsigned char>(c) <= 0x20 || static_cast<unsigned char>(c) >= 0x7f;
          }))
        violated(p, "invalid URI SAN accepted: " + s.display());
      break;
    case pki::SanKind::ip: {
      unsigned char buf[16];
      if (inet_pton(AF_INET, s.value.c_str(), buf) != 1 && inet_pton(AF_INET6, s.value.c_str(), buf) != 1)
        violated(p, "an IP SAN that does not parse back: " + s.display());
      break;
    }
  }
}

// The certificate the issuer would sign for it (certificate_issuer.cpp sign_and_store), checked
// against what was validated.
void check_issued(const Harness& h, const pki::Profile& p, const pki::ValidatedCsr& csr) {
  pki::CertificateSpec spec;
  spec.subject = csr.subject.get();
  spec.public_key = csr.public_key.get();
  spec.public_key_info = X509_REQ_get_X509_PUBKEY(csr.request.get());
  spec.issuer = h.ca_cert.get();
  spec.not_before = h.now - std::chrono::seconds(60);
  spec.not_after = h.now + std::chrono::hours(24) * p.default_validity_days;
  spec.sans = csr.sans;
  const bool rsa = crypto::describe_key(csr.public_key.get()).type == crypto::KeyDescription::Type::rsa;
  spec.extensions = {{NID_basic_constraints, "critical,CA:FALSE"},
                     {NID_key_usage, rsa ? p.key_usage_rsa : p.key_usage_ec},
                     {NID_crl_distribution_points, "URI:http://pki.fuzz.example/crl/fuzz.crl"}};
  if (!p.extended_key_usage.empty()) spec.extensions.emplace_back(NID_ext_key_usage, p.extended_key_usage);
  std::string aia = "caIssuers;URI:http://pki.fuzz.example/ca/fuzz.crt";
  if (p.include_ocsp_url) aia = "OCSP;URI:http://pki.fuzz.example/ocsp/fuzz," + aia;
  spec.extensions.emplace_back(NID_info_access, aia);
  if (p.ocsp_no_check) spec.extensions.emplace_back(NID_id_pkix_OCSP_noCheck, "ignored");
  auto built = pki::build_certificate(spec, pki::random_serial().get(), h.ca_key.get());
  if (!built) violated(p, "a validated CSR cannot be issued: " + built.error().to_string());

  const crypto::Bytes der = crypto::to_der(built->get());
  const unsigned char* q = der.data();
  crypto::X509Ptr cert(d2i_X509(nullptr, &q, static_cast<long>(der.size())));
  if (!cert || q != der.data() + der.size()) violated(p, "the issued certificate does not parse back");
  if (X509_verify(cert.get(), h.ca_key.get()) != 1) violated(p, "the issued certificate does not verify");
  EVP_PKEY* pub = X509_get0_pubkey(cert.get());
  if (!pub || !crypto::same_public_key(pub, csr.public_key.get()))
    violated(p, "the issued certificate carries another public key");
  if (X509_NAME_cmp(X509_get_subject_name(cert.get()), csr.subject.get()) != 0)
    violated(p, "the issued subject is not the validated one");

  const auto record = pki::record_for(cert.get(), "fuzz", p.name, "fuzz", core::to_unix(h.now));
  std::vector<std::string> expected;
  for (const auto& s : csr.sans) expected.push_back(s.display());
  if (record.sans != expected) {
    std::string got, want;
    for (const auto& s : record.sans) got += " " + s;
    for (const auto& s : expected) want += " " + s;
    violated(p, "issued SANs [" + got + " ] differ from the validated [" + want + " ]");
  }
  int critical = -1;
  auto* names = static_cast<GENERAL_NAMES*>(X509_get_ext_d2i(cert.get(), NID_subject_alt_name, &critical, nullptr));
  crypto::GeneralNames guard(names);
  if (!csr.sans.empty() && critical != (X509_NAME_entry_count(csr.subject.get()) == 0 ? 1 : 0))
    violated(p, "subjectAltName criticality does not follow the empty subject");
}

crypto::X509Req openssl_reads(crypto::ByteView input) {
  const std::string_view text(reinterpret_cast<const char*>(input.data()), input.size());
  if (text.find("-----BEGIN") != std::string_view::npos) {
    crypto::Bio bio(BIO_new_mem_buf(input.data(), static_cast<int>(input.size())));
    return crypto::X509Req(PEM_read_bio_X509_REQ(bio.get(), nullptr, nullptr, nullptr));
  }
  const unsigned char* p = input.data();
  return crypto::X509Req(d2i_X509_REQ(nullptr, &p, static_cast<long>(input.size())));
}

crypto::Bytes request_der(const X509_REQ* req) {
  unsigned char* buf = nullptr;
  const int len = i2d_X509_REQ(req, &buf);
  if (len <= 0) return {};
  crypto::Bytes out(buf, buf + len);
  OPENSSL_free(buf);
  return out;
}

// Valid (and checked), refused under this profile, or refused before any profile rule applies:
// malformed_csr and csr_bad_signature come from parsing and the signature check, which precede
// the profile's rules (the one later malformed_csr, an RSA key without exponent, follows only
// the RSA size bounds, which every profile shares), so the other profiles need not be asked.
enum class Verdict { valid, refused, refused_by_all };

Verdict validate_and_check(const Harness& h, const pki::Profile& p, crypto::ByteView input,
                           std::vector<std::string>* sans_out = nullptr) {
  auto r = pki::validate_csr(input, p);
  if (h.verbose)
    std::fprintf(stderr, "%s: %s\n", p.name.c_str(),
                 r ? ("valid, " + std::to_string(r->sans.size()) + " SANs").c_str() : r.error().to_string().c_str());
  if (!r) {
    if (!documented(r.error().code)) violated(p, "an undocumented error: " + r.error().to_string());
    const bool before_profile = r.error().code == Errc::malformed_csr || r.error().code == Errc::csr_bad_signature;
    return before_profile ? Verdict::refused_by_all : Verdict::refused;
  }
  const auto& csr = *r;
  if (!csr.request || !csr.public_key || !csr.subject) violated(p, "a ValidatedCsr with a null member");
  if (X509_REQ_verify(csr.request.get(), csr.public_key.get()) != 1) violated(p, "the request does not verify");
  crypto::X509Req theirs = openssl_reads(input);
  EVP_PKEY* their_key = theirs ? X509_REQ_get0_pubkey(theirs.get()) : nullptr;
  ERR_clear_error();
  if (!their_key) violated(p, "a request OpenSSL cannot read (or whose key it cannot decode) was accepted");
  if (request_der(csr.request.get()) != request_der(theirs.get()))
    violated(p, "the request is not the one OpenSSL reads from the same input");
  if (!crypto::same_public_key(their_key, csr.public_key.get())) violated(p, "public_key is not the request's");
  check_key(p, csr.public_key.get());
  check_subject(p, csr.subject.get());
  if (csr.sans.size() > 100) violated(p, std::to_string(csr.sans.size()) + " SANs accepted");
  for (const auto& s : csr.sans) check_san(p, s);
  if (p.requires_san && csr.sans.empty()) violated(p, "no SAN under a profile that requires one");
  if (csr.sans.empty() && X509_NAME_entry_count(csr.subject.get()) == 0) violated(p, "neither subject nor SAN");
  check_issued(h, p, csr);
  if (sans_out)
    for (const auto& s : csr.sans) sans_out->push_back(s.display());
  return Verdict::valid;
}

// Mutations nearly always break a request's signature, and validation stops there. A DER
// request that parses but does not verify with its own key is given the harness's key and
// signed again, so the subject, attribute and SAN checks see the mutated content too (the
// key checks are reached by the seeds' keys). nullopt when there is nothing to sign again.
std::optional<crypto::Bytes> resigned(const Harness& h, crypto::ByteView input) {
  const unsigned char* p = input.data();
  crypto::X509Req req(d2i_X509_REQ(nullptr, &p, static_cast<long>(input.size())));
  EVP_PKEY* own = req ? X509_REQ_get0_pubkey(req.get()) : nullptr;
  const bool verifies = own && X509_REQ_verify(req.get(), own) == 1;
  ERR_clear_error();
  if (!req || verifies) return std::nullopt;
  if (X509_REQ_set_pubkey(req.get(), h.requester_key.get()) != 1 ||
      X509_REQ_sign(req.get(), h.requester_key.get(), EVP_sha256()) <= 0) {
    ERR_clear_error();  // e.g. a subject OpenSSL parsed but cannot encode again
    return std::nullopt;
  }
  const int len = i2d_X509_REQ(req.get(), nullptr);
  if (len <= 0) return std::nullopt;
  crypto::Bytes der(static_cast<std::size_t>(len));
  unsigned char* out = der.data();
  i2d_X509_REQ(req.get(), &out);
  return der;
}

std::string as_pem(crypto::ByteView der) {
  const std::string b64 = crypto::to_base64(der);
  std::string out = "-----BEGIN CERTIFICATE REQUEST-----\n";
  for (std::size_t i = 0; i < b64.size(); i += 64) out += b64.substr(i, 64) + "\n";
  return out + "-----END CERTIFICATE REQUEST-----\n";
}

}  // namespace

extern "C" int LLVMFuzzerInitialize(int*, char***) {
  g_harness = new Harness();  // lives for the process; LeakSanitizer ignores reachable globals
  setup(*g_harness);
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  ERR_clear_error();
  if (size > kMaxCsrBytes) return 0;  // the route answers 400 csr.too_large first
  const crypto::ByteView input(data, size);
  const Harness& h = *g_harness;
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  for (const auto& profile : pki::profiles()) {
    std::vector<std::string> der_sans;
    const Verdict verdict = validate_and_check(h, profile, input, &der_sans);
    if (verdict == Verdict::refused_by_all) break;
    // The same bytes pasted as PEM: the PEM path must accept whatever the DER path does.
    if (verdict != Verdict::valid || text.find("-----BEGIN") != std::string_view::npos) continue;
    const std::string pem = as_pem(input);
    std::vector<std::string> pem_sans;
    if (validate_and_check(h, profile, crypto::as_bytes(pem), &pem_sans) != Verdict::valid)
      violated(profile, "a DER request that validates is refused as PEM");
    if (pem_sans != der_sans) violated(profile, "PEM and DER of one request give different SANs");
  }
  if (const auto again = resigned(h, input))
    for (const auto& profile : pki::profiles())
      if (validate_and_check(h, profile, *again) == Verdict::refused_by_all) break;
  return 0;
}
