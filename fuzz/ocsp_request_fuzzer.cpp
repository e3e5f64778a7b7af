// libFuzzer target: untrusted OCSP requests through the real sources, as the server runs
// them (docs/fuzzing.md).
//
// Once per process (LLVMFuzzerInitialize): a temp dir with a SQLite store and a software key
// store, the real key ceremony (EC P-256 keys, fast), the root's pre-signed responses, and a
// few certificates recorded good or revoked under fixed serials (kSeedRecords) so that the
// seed requests reach the store lookup and the pre-signed files. The sources are those the
// server stacks: ocsp::make_default_sources (live OcspResponder for "tls" and "document",
// PresignedSource for "root"), and the live ones again behind a CachedSource over an
// in-process cache (ocsp::make_cached_sources), as `serve` runs them.
//
// Each input is used twice, as the two HTTP routes receive it:
//   POST: the bytes are the DER OCSPRequest;
//   GET:  the bytes are the URL text; decoded like the GET route does (see get_form_der)
//         then answered if they decode.
// and every form goes to all five sources. Every answer must be a DER OCSPResponse that
// parses back completely, with the status the source reported; a successful one must verify
// against the root and answer each CertID of the request. Anything else aborts (a crash for
// libFuzzer).
//
// CA keys are generated anew in each process, so committed inputs cannot carry this
// process's issuerKeyHash. The seeds are made against fixed "seed CA" certificates
// (fuzz/seed-ca/, by fuzz/make-seeds.sh); before answering, the harness rewrites every
// occurrence of a seed CA's name or key hash (any digest of kCertIdDigests) with the live CA's
// (same length, so the DER structure the fuzzer built is untouched). Inputs stay
// reproducible across processes.
#include "api/ocsp_routes.h"  // kMaxOcspRequestBytes (header only: cartorio_api is not linked)
#include "cache/memory/memory_cache.h"
#include "core/clock.h"
#include "core/error.h"
#include "core/log.h"
#include "crypto/bytes.h"
#include "crypto/key_pair.h"
#include "crypto/ossl.h"
#include "crypto/x509.h"
#include "keys/software/software_key_store.h"
#include "ocsp/ocsp_sources.h"
#include "ocsp/response_source.h"
#include "ocsp/root_presigner.h"
#include "pki/ceremony.h"
#include "pki/certificate_issuer.h"
#include "pki/hierarchy.h"
#include "store/sqlite/sqlite_store.h"

#include <openssl/evp.h>
#include <openssl/err.h>
#include <openssl/ocsp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#ifndef CARTORIO_FUZZ_SEED_CA_DIR
#error "CARTORIO_FUZZ_SEED_CA_DIR must name fuzz/seed-ca (set by fuzz/CMakeLists.txt)"
#endif

namespace {

using namespace cartorio;
namespace fs = std::filesystem;

// Certificates recorded in the store under fixed serials; the seeds ask about them.
// fuzz/make-seeds.sh uses the same serials: keep both in step.
struct SeedRecord {
  const char* issuer;
  const char* serial;  // lowercase hex, as the store spells it
  int reason;          // -1: good; otherwise revoked with this CRLReason
};
constexpr SeedRecord kSeedRecords[] = {
    {pki::kTlsCa, "1001", -1},
    {pki::kTlsCa, "1002", 1},  // keyCompromise
    {pki::kTlsCa, "1003", 0},  // unspecified: reason omitted in the response
    {pki::kTlsCa, "1004", 4},  // superseded
    {pki::kTlsCa, "40a1b2c3d4e5f60718293a4b5c6d7e8f", -1},  // the length the issuer's serials have
    {pki::kDocumentCa, "2001", -1},
    {pki::kDocumentCa, "2002", 9},  // privilegeWithdrawn
    {pki::kRoot, "3001", -1},       // "intermediates": pre-signed by the root
    {pki::kRoot, "3002", 2},        // cACompromise
};
// Serials the seeds also use and the store does not hold: 1fff (unknown everywhere).

[[noreturn]] void die(const std::string& what) {
  std::fprintf(stderr, "ocsp_request_fuzzer: %s\n", what.c_str());
  std::fflush(stderr);
  std::abort();
}

template <class T>
T must(core::Result<T> r, const char* what) {
  if (!r) die(std::string(what) + ": " + r.error().to_string());
  return std::move(*r);
}
void must(core::Result<void> r, const char* what) {
  if (!r) die(std::string(what) + ": " + r.error().to_string());
}

crypto::X509Ptr read_pem_cert(const fs::path& path) {
  std::unique_ptr<FILE, int (*)(FILE*)> f(std::fopen(path.c_str(), "r"), &std::fclose);
  if (!f) die("cannot open " + path.string() + " (set CARTORIO_FUZZ_SEED_CA_DIR to fuzz/seed-ca)");
  crypto::X509Ptr cert(PEM_read_X509(f.get(), nullptr, nullptr, nullptr));
  if (!cert) die("not a PEM certificate: " + path.string());
  return cert;
}

// One byte-for-byte rewrite: a seed CA's hash -> the live CA's hash (same digest, same length).
struct Rewrite {
  crypto::Bytes from, to;
};

// The hashes a CertID names its issuer by (RFC 6960 4.1.1), computed as OCSP_cert_id_new
// does; empty when OpenSSL cannot compute them with `md`.
crypto::Bytes name_hash(const X509* cert, const EVP_MD* md) {
  unsigned char buf[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  if (X509_NAME_digest(X509_get_subject_name(cert), md, buf, &len) != 1) return {};
  return {buf, buf + len};
}

crypto::Bytes key_hash(const X509* cert, const EVP_MD* md) {
  const ASN1_BIT_STRING* key = X509_get0_pubkey_bitstr(cert);
  unsigned char buf[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  if (!key || EVP_Digest(key->data, static_cast<std::size_t>(key->length), buf, &len, md, nullptr) != 1) return {};
  return {buf, buf + len};
}

// Every digest a CertID may use that OpenSSL's default provider knows: the responders accept
// any of them (issued_by recomputes with the CertID's own algorithm).
constexpr const char* kCertIdDigests[] = {"MD5",      "SHA1",       "SHA224",   "SHA256",   "SHA384",
                                          "SHA512",   "SHA512-224", "SHA512-256", "SHA3-224", "SHA3-256",
                                          "SHA3-384", "SHA3-512",   "SHAKE128", "SHAKE256", "RIPEMD160",
                                          "SM3"};

struct Harness {
  fs::path dir;
  core::ManualClock clock{core::from_unix(core::to_unix(std::chrono::system_clock::now()))};
  std::unique_ptr<keys::KeyStore> keys;
  std::unique_ptr<store::Store> store;
  std::unique_ptr<pki::Hierarchy> hierarchy;
  crypto::PKey root_key;
  std::unique_ptr<cache::Cache> cache;
  // (label, source): "root", "tls", "document", "tls+cache", "document+cache".
  std::vector<std::pair<std::string, std::shared_ptr<ocsp::ResponseSource>>> sources;
  std::vector<Rewrite> rewrites;
  bool verbose = false;  // CARTORIO_FUZZ_VERBOSE=1: one line per answer on stderr
  // CARTORIO_FUZZ_STRICT=1: internalError and tryLater are failures too. The store and the
  // key store here are healthy, so either one means a request made the server fail.
  bool strict = false;
  // For verifying successful responses: the root trusted, every CA certificate available.
  crypto::X509Store trust;
  crypto::X509Stack untrusted;
};

// Registered with atexit after it is set, so cleanup() runs before its destructor would.
std::unique_ptr<Harness> g_harness;

void cleanup() {
  if (!g_harness) return;
  const fs::path dir = g_harness->dir;
  g_harness.reset();  // closes the store and the key store before their files go
  std::error_code ec;
  if (!dir.empty()) fs::remove_all(dir, ec);
}

X509* ca_cert(const Harness& h, const std::string& name) {
  return must(h.hierarchy->get(name), "hierarchy.get")->cert.get();
}

void record_seed_certificates(Harness& h) {
  // Real issuance for some (random serials, as in production), then records under the fixed
  // serials the seeds ask about; their PEM is an issued certificate's (OCSP reads status only).
  pki::CertificateIssuer issuer(*h.hierarchy, *h.keys, *h.store, h.clock, pki::make_urls("http://pki.fuzz.example"));
  auto key = must(crypto::generate_key(crypto::KeyAlgorithm::ec_p256), "generate_key");
  crypto::X509Name subject(X509_NAME_new());
  X509_NAME_add_entry_by_txt(subject.get(), "CN", MBSTRING_UTF8, reinterpret_cast<const unsigned char*>("fuzz"), -1,
                             -1, 0);
  std::string pem;
  for (const auto& [profile, ca] : {std::pair{"tls-client", pki::kTlsCa}, std::pair{"tls-client", pki::kTlsCa},
                                    std::pair{"document-signing", pki::kDocumentCa}}) {
    pki::CertificateIssuer::KeyedRequest req;
    req.profile = profile;
    req.issuer = ca;
    req.subject = subject.get();
    req.public_key = key.get();
    req.requester = "fuzz";
    auto issued = must(issuer.issue_for_key(req), "issue_for_key");
    pem = issued.record.pem;
  }
  auto listed = must(h.store->list_certificates({.issuer = std::string(pki::kTlsCa)}), "list_certificates");
  for (const auto& rec : listed)
    if (rec.profile == "tls-client") {
      must(issuer.revoke(rec.serial, 1), "revoke");
      break;
    }

  const auto now = core::to_unix(h.clock.now());
  for (const auto& s : kSeedRecords) {
    store::CertificateRecord rec;
    rec.serial = s.serial;
    rec.issuer = s.issuer;
    rec.profile = std::string(s.issuer) == pki::kRoot ? "sub-ca" : "tls-client";
    rec.subject = "CN=seed " + std::string(s.serial);
    rec.not_before = now - 60;
    rec.not_after = now + 90 * 86400;
    rec.requester = "fuzz";
    rec.pem = pem;
    rec.created_at = now;
    must(h.store->insert_certificate(rec), "insert_certificate");
    if (s.reason >= 0) must(h.store->revoke_certificate(s.serial, s.reason, now - 3600), "revoke_certificate");
  }
}

void build_rewrites(Harness& h) {
  const char* seed_dir = std::getenv("CARTORIO_FUZZ_SEED_CA_DIR");
  const fs::path dir = seed_dir && *seed_dir ? seed_dir : CARTORIO_FUZZ_SEED_CA_DIR;
  for (const std::string ca : {pki::kRoot, pki::kTlsCa, pki::kDocumentCa}) {
    auto seed = read_pem_cert(dir / (ca + ".pem"));
    const X509* live = ca_cert(h, ca);
    for (const char* name : kCertIdDigests) {
      const EVP_MD* md = EVP_get_digestbyname(name);
      if (!md) continue;
      h.rewrites.push_back({name_hash(seed.get(), md), name_hash(live, md)});
      h.rewrites.push_back({key_hash(seed.get(), md), key_hash(live, md)});
    }
  }
  // Hashes OpenSSL cannot compute, and identical ones (the seed CAs copy the live subjects),
  // need no rewrite.
  std::erase_if(h.rewrites, [](const Rewrite& r) { return r.from.empty() || r.from == r.to; });
  ERR_clear_error();
}

void rebase(const Harness& h, crypto::Bytes& der) {
  for (const auto& r : h.rewrites) {
    auto it = der.begin();
    while ((it = std::search(it, der.end(), r.from.begin(), r.from.end())) != der.end()) {
      std::copy(r.to.begin(), r.to.end(), it);
      it += static_cast<std::ptrdiff_t>(r.to.size());
    }
  }
}

void setup(Harness& h) {
  std::string tmpl = (fs::temp_directory_path() / "cartorio-fuzz-XXXXXX").string();
  if (!mkdtemp(tmpl.data())) die("mkdtemp failed in " + fs::temp_directory_path().string());
  h.dir = tmpl;

  must(keys::create_master_key_file(h.dir / "master.key"), "create_master_key_file");
  keys::SoftwareKeyStoreOptions ko;
  ko.directory = h.dir / "keys";
  ko.master_key_file = h.dir / "master.key";
  h.keys = must(keys::SoftwareKeyStore::open(std::move(ko)), "SoftwareKeyStore::open");
  h.store = must(store::open_sqlite_store((h.dir / "cartorio.db").string()), "open_sqlite_store");

  pki::HierarchyOptions o;
  o.root_algorithm = crypto::KeyAlgorithm::ec_p256;
  o.intermediate_algorithm = crypto::KeyAlgorithm::ec_p256;
  o.tsa_algorithm = crypto::KeyAlgorithm::ec_p256;
  o.urls = pki::make_urls("http://pki.fuzz.example");
  pki::Ceremony ceremony(*h.keys, *h.store, h.clock, o);
  must(ceremony.init("ocsp fuzz passphrase",
                     [&h](X509*, EVP_PKEY* root_key) -> core::Result<void> {
                       EVP_PKEY_up_ref(root_key);
                       h.root_key.reset(root_key);
                       return core::ok();
                     }),
       "ceremony.init");
  h.hierarchy = std::make_unique<pki::Hierarchy>(must(pki::Hierarchy::load(*h.store, *h.store), "Hierarchy::load"));

  record_seed_certificates(h);
  const std::string presigned = (h.dir / "ocsp" / "root").string();
  must(ocsp::presign_root_to_dir(ca_cert(h, pki::kRoot), h.root_key.get(), *h.store, h.clock, presigned),
       "presign_root_to_dir");
  h.root_key.reset();  // offline again: nothing below may sign with it
  auto plain = must(ocsp::make_default_sources(*h.hierarchy, *h.store, *h.keys, h.clock, presigned),
                    "make_default_sources");
  h.cache = std::make_unique<cache::MemoryCache>(cache::MemoryCacheOptions{}, h.clock);
  auto cached = must(ocsp::make_cached_sources(*h.hierarchy, *h.store, *h.keys, h.clock, presigned, {}, *h.cache, {}),
                     "make_cached_sources");
  for (const std::string ca : {pki::kRoot, pki::kTlsCa, pki::kDocumentCa}) {
    if (!plain.count(ca)) die("no OCSP source for " + ca);
    h.sources.emplace_back(ca, plain.at(ca));
  }
  for (const std::string ca : {pki::kTlsCa, pki::kDocumentCa}) {
    if (!cached.cached.count(ca)) die("no cached OCSP source for " + ca);
    h.sources.emplace_back(ca + "+cache", cached.cached.at(ca));
  }

  h.trust.reset(X509_STORE_new());
  h.untrusted.reset(sk_X509_new_null());
  if (!h.trust || !h.untrusted) die("out of memory");
  X509_STORE_add_cert(h.trust.get(), ca_cert(h, pki::kRoot));
  for (const std::string ca : {pki::kRoot, pki::kTlsCa, pki::kDocumentCa}) {
    X509* c = ca_cert(h, ca);
    X509_up_ref(c);
    sk_X509_push(h.untrusted.get(), c);
  }
  build_rewrites(h);
  auto flag = [](const char* name) {
    const char* v = std::getenv(name);
    return v && *v && std::string(v) != "0";
  };
  h.verbose = flag("CARTORIO_FUZZ_VERBOSE");
  h.strict = flag("CARTORIO_FUZZ_STRICT");
  if (h.verbose) std::fprintf(stderr, "ocsp_request_fuzzer: %zu hash rewrites\n", h.rewrites.size());
}

// What the GET route does with the URL text before answering (src/api/ocsp_routes.cpp,
// decode_get_request: in an anonymous namespace there, so mirrored here line for line; keep
// in step). The router has already percent-decoded the text.
std::optional<crypto::Bytes> get_form_der(std::string text) {
  if (text.size() > api::kMaxOcspRequestBytes * 4 / 3 + 4) return std::nullopt;  // the route answers 413
  std::replace(text.begin(), text.end(), ' ', '+');
  text.erase(std::remove_if(text.begin(), text.end(), [](unsigned char c) { return c == '\r' || c == '\n'; }),
             text.end());
  while (text.size() % 4 != 0) text.push_back('=');
  return crypto::from_base64(text);
}

[[noreturn]] void violated(const std::string& ca, const std::string& what, const ocsp::OcspResult& r) {
  die("invariant broken by the \"" + ca + "\" source: " + what + " (status " +
      std::to_string(static_cast<int>(r.status)) + ", " + std::to_string(r.der.size()) + " response bytes)");
}

// The checks every answer must pass, whatever the request.
void check_response(const Harness& h, const std::string& ca, crypto::ByteView request, const ocsp::OcspResult& r) {
  if (r.der.empty()) violated(ca, "empty response", r);
  const unsigned char* p = r.der.data();
  crypto::OcspResponse resp(d2i_OCSP_RESPONSE(nullptr, &p, static_cast<long>(r.der.size())));
  if (!resp) violated(ca, "the response does not parse (d2i_OCSP_RESPONSE)", r);
  if (p != r.der.data() + r.der.size()) violated(ca, "trailing bytes after the OCSPResponse", r);
  if (OCSP_response_status(resp.get()) != static_cast<int>(r.status))
    violated(ca, "wire status " + std::to_string(OCSP_response_status(resp.get())) + " differs from the result's", r);
  if (h.strict && (r.status == ocsp::ResponseStatus::internal_error || r.status == ocsp::ResponseStatus::try_later))
    violated(ca, "internalError/tryLater with a healthy store and key store (CARTORIO_FUZZ_STRICT)", r);
  crypto::OcspBasicResp basic(OCSP_response_get1_basic(resp.get()));
  if (r.status != ocsp::ResponseStatus::successful) {
    if (basic) violated(ca, "an error response carries a basic response", r);
    return;
  }
  if (!basic) violated(ca, "a successful response without a basic response", r);
  if (!r.this_update || !r.next_update || *r.next_update <= *r.this_update)
    violated(ca, "a successful result without a sane thisUpdate/nextUpdate", r);
  if (OCSP_basic_verify(basic.get(), h.untrusted.get(), h.trust.get(), 0) != 1)
    violated(ca, "the signature does not verify against the root: " + crypto::openssl_errors(), r);

  // A successful answer came from a request that parses: every CertID is answered.
  const unsigned char* q = request.data();
  crypto::OcspRequest req(d2i_OCSP_REQUEST(nullptr, &q, static_cast<long>(request.size())));
  if (!req) violated(ca, "a successful answer to a request that does not parse", r);
  const int n = OCSP_request_onereq_count(req.get());
  if (OCSP_resp_count(basic.get()) != n) violated(ca, "not one SingleResponse per CertID", r);
  for (int i = 0; i < n; ++i) {
    OCSP_CERTID* id = OCSP_onereq_get0_id(OCSP_request_onereq_get0(req.get(), i));
    if (OCSP_resp_find(basic.get(), id, -1) < 0) violated(ca, "a CertID of the request is not answered", r);
  }
  if (ca != pki::kRoot) {  // live answers echo a nonce; pre-signed ones cannot (RFC 5019)
    const int nonce = OCSP_check_nonce(req.get(), basic.get());
    if (nonce != 1 && nonce != 2) violated(ca, "the request's nonce is not echoed", r);
    if (r.cacheable != (nonce == 2)) violated(ca, "cacheable does not match the absence of a nonce", r);
  }
}

void answer_everywhere(Harness& h, crypto::Bytes der) {
  rebase(h, der);
  for (const auto& [ca, source] : h.sources) {
    const auto result = source->respond(der);
    if (h.verbose) std::fprintf(stderr, "%s: OCSP status %d\n", ca.c_str(), static_cast<int>(result.status));
    check_response(h, ca, der, result);
  }
}

}  // namespace

extern "C" int LLVMFuzzerInitialize(int*, char***) {
  // Debug logs to stdout: the log formatting sees the hostile fields too; run with
  // -close_fd_mask=1 (fuzz/run.sh does) to keep them off the terminal.
  core::log::init(core::log::Level::debug, core::log::Sink::stdout_sink);
  g_harness = std::make_unique<Harness>();
  std::atexit(cleanup);
  setup(*g_harness);
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  Harness& h = *g_harness;
  ERR_clear_error();  // a failure report then names this input's OpenSSL errors only
  // POST /ocsp/{ca}: the body is the request (over 64 KiB the route answers 413).
  if (size <= api::kMaxOcspRequestBytes) answer_everywhere(h, crypto::Bytes(data, data + size));
  // GET /ocsp/{ca}/{base64}: undecodable text is answered like an empty request, which the
  // POST form above already covers (size 0).
  if (auto der = get_form_der(std::string(reinterpret_cast<const char*>(data), size)))
    answer_everywhere(h, std::move(*der));
  return 0;
}
