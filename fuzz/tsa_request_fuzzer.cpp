// libFuzzer target: untrusted RFC 3161 requests through the real TimeStampAuthority, as
// POST /tsa hands them over (docs/fuzzing.md).
//
// Once per process (LLVMFuzzerInitialize): a temp dir with a SQLite store and a software key
// store, the real key ceremony (EC P-256 keys, fast), and the authority over a ManualClock
// (the default policy and accuracy). Time-stamp requests name no CA, so committed seeds
// replay the same way in every process: no rewriting as in the OCSP harness.
//
// Every input up to the route's 64 KiB limit is answered, and every answer must hold:
//   - respond() returns a value (Errc is only for "no TimeStampResp at all");
//   - it is one complete DER TimeStampResp (d2i_TS_RESP consumes all of it);
//   - its status is granted or rejection; a rejection carries a PKIFailureInfo and no token;
//   - a granted one answers a request that parses (one DER TimeStampReq, nothing after it)
//     with version 1 and a SHA-256/384/512 imprint, and OpenSSL's verifier accepts the token
//     against the root at the clock's time: signature, chain, EKU, version, imprint, nonce,
//     the requested policy when one was named, the TSA name; genTime is the clock's time and
//     the policy the configured one.
// A broken invariant prints what broke and aborts, which libFuzzer reports as a crash.
#include "core/clock.h"
#include "core/config.h"
#include "core/error.h"
#include "core/log.h"
#include "crypto/bytes.h"
#include "crypto/ossl.h"
#include "crypto/x509.h"
#include "keys/software/software_key_store.h"
#include "pki/ceremony.h"
#include "pki/hierarchy.h"
#include "store/sqlite/sqlite_store.h"
#include "tsa/time_stamp_authority.h"

#include <openssl/asn1.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/objects.h>
#include <openssl/ts.h>
#include <openssl/x509.h>

#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <memory>
#include <string>

namespace {

using namespace cartorio;
namespace fs = std::filesystem;

[[noreturn]] void die(const std::string& what) {
  std::fprintf(stderr, "tsa_request_fuzzer: %s\n", what.c_str());
  std::fflush(stderr);
  std::abort();
}

template <class T>
T must(core::Result<T> r, const char* what) {
  if (!r) die(std::string(what) + ": " + r.error().to_string());
  return std::move(*r);
}
void must(const core::Result<void>& r, const char* what) {
  if (!r) die(std::string(what) + ": " + r.error().to_string());
}

struct Harness {
  fs::path dir;
  core::TimePoint start = core::from_unix(core::to_unix(std::chrono::system_clock::now()));
  core::ManualClock clock{start};
  std::unique_ptr<keys::KeyStore> keys;
  std::unique_ptr<store::Store> store;
  std::unique_ptr<pki::Hierarchy> hierarchy;
  std::unique_ptr<tsa::TimeStampAuthority> tsa;
  X509* root = nullptr;
  X509* document_ca = nullptr;
  bool verbose = false;  // CARTORIO_FUZZ_VERBOSE=1: one line per answer on stderr
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
  must(ceremony.init("tsa fuzz passphrase", [](X509*, EVP_PKEY*) { return core::ok(); }), "ceremony.init");
  h.hierarchy = std::make_unique<pki::Hierarchy>(must(pki::Hierarchy::load(*h.store, *h.store), "Hierarchy::load"));
  h.tsa = must(tsa::TimeStampAuthority::create(*h.hierarchy, *h.keys, h.clock), "TimeStampAuthority::create");
  h.root = must(h.hierarchy->get(pki::kRoot), "hierarchy.get")->cert.get();
  h.document_ca = must(h.hierarchy->get(pki::kDocumentCa), "hierarchy.get")->cert.get();
  const char* v = std::getenv("CARTORIO_FUZZ_VERBOSE");
  h.verbose = v && *v && std::string(v) != "0";
}

[[noreturn]] void violated(const std::string& what, std::size_t reply_size) {
  die("invariant broken: " + what + " (" + std::to_string(reply_size) + " reply bytes)");
}

// The request as OpenSSL reads it when it is exactly one DER TimeStampReq; null otherwise.
crypto::TsReq parse_request(crypto::ByteView der) {
  const unsigned char* p = der.data();
  crypto::TsReq req(der.empty() ? nullptr : d2i_TS_REQ(nullptr, &p, static_cast<long>(der.size())));
  if (req && p != der.data() + der.size()) req.reset();
  return req;
}

void check_granted(const Harness& h, crypto::ByteView request, TS_RESP* resp, std::size_t size) {
  crypto::TsReq req = parse_request(request);
  if (!req) violated("a token granted to input that is not one DER TimeStampReq", size);
  if (TS_REQ_get_version(req.get()) != 1) violated("a token granted to a request of another version", size);
  const int nid = OBJ_obj2nid(TS_MSG_IMPRINT_get_algo(TS_REQ_get_msg_imprint(req.get()))->algorithm);
  if (nid != NID_sha256 && nid != NID_sha384 && nid != NID_sha512)
    violated("a token granted for message imprint algorithm " + std::to_string(nid), size);
  if (!TS_RESP_get_token(resp)) violated("granted without a token", size);
  TS_TST_INFO* tst = TS_RESP_get_tst_info(resp);
  if (!tst) violated("granted without a TSTInfo", size);

  crypto::TsVerifyCtx ctx(TS_REQ_to_TS_VERIFY_CTX(req.get(), nullptr));
  if (!ctx) die("out of memory");
  TS_VERIFY_CTX_add_flags(ctx.get(), TS_VFY_SIGNATURE | TS_VFY_SIGNER);
  X509_STORE* store = X509_STORE_new();
  STACK_OF(X509)* untrusted = sk_X509_new_null();
  if (!store || !untrusted) die("out of memory");
  X509_STORE_add_cert(store, h.root);
  X509_VERIFY_PARAM_set_time(X509_STORE_get0_param(store), static_cast<time_t>(core::to_unix(h.clock.now())));
  TS_VERIFY_CTX_set_store(ctx.get(), store);  // owned by ctx
  X509_up_ref(h.document_ca);
  sk_X509_push(untrusted, h.document_ca);
  TS_VERIFY_CTX_set_certs(ctx.get(), untrusted);  // owned by ctx
  if (!TS_REQ_get_cert_req(req.get())) {
    // No certificates in the token: the verifier needs the TSA's from us.
    X509* tsa_cert = h.tsa->certificate();
    X509_up_ref(tsa_cert);
    sk_X509_push(untrusted, tsa_cert);
  }
  if (TS_RESP_verify_response(ctx.get(), resp) != 1)
    violated("the granted token does not verify: " + crypto::openssl_errors(), size);

  if (crypto::asn1_time_to_unix(TS_TST_INFO_get_time(tst)) != core::to_unix(h.clock.now()))
    violated("genTime is not the clock's time", size);
  char oid[128];
  OBJ_obj2txt(oid, sizeof oid, TS_TST_INFO_get_policy_id(tst), 1);
  if (h.tsa->policy_oid() != oid) violated(std::string("a token under policy ") + oid, size);
}

void check(Harness& h, crypto::ByteView request) {
  // The clock moves a second per input, so a genTime not taken from it shows; it wraps back
  // after 30 days, well inside the certificates' validity.
  h.clock.advance(std::chrono::seconds(1));
  if (h.clock.now() - h.start > std::chrono::hours(24 * 30)) h.clock.set(h.start);
  auto reply = h.tsa->respond(request);
  if (!reply) violated("respond() returned an error: " + reply.error().to_string(), 0);
  const std::string& der = *reply;
  const auto* p = reinterpret_cast<const unsigned char*>(der.data());
  crypto::TsResp resp(der.empty() ? nullptr : d2i_TS_RESP(nullptr, &p, static_cast<long>(der.size())));
  if (!resp) violated("the reply does not parse (d2i_TS_RESP): " + crypto::openssl_errors(), der.size());
  if (p != reinterpret_cast<const unsigned char*>(der.data()) + der.size())
    violated("trailing bytes after the TimeStampResp", der.size());
  const TS_STATUS_INFO* si = TS_RESP_get_status_info(resp.get());
  const long status = ASN1_INTEGER_get(TS_STATUS_INFO_get0_status(si));
  if (h.verbose) std::fprintf(stderr, "TSA status %ld\n", status);
  if (status == TS_STATUS_GRANTED) {
    check_granted(h, request, resp.get(), der.size());
  } else if (status == TS_STATUS_REJECTION) {
    const ASN1_BIT_STRING* fi = TS_STATUS_INFO_get0_failure_info(si);
    if (!fi || ASN1_STRING_length(fi) == 0) violated("a rejection without PKIFailureInfo", der.size());
    if (ASN1_BIT_STRING_get_bit(fi, TS_INFO_SYSTEM_FAILURE))
      violated("systemFailure with a healthy key store: a request made the TSA fail", der.size());
    if (TS_RESP_get_token(resp.get())) violated("a rejection with a token", der.size());
  } else {
    violated("status " + std::to_string(status), der.size());
  }
}

}  // namespace

extern "C" int LLVMFuzzerInitialize(int*, char***) {
  // Debug logs to stdout; fuzz/run.sh passes -close_fd_mask=1 to keep them off the terminal.
  core::log::init(core::log::Level::debug, core::log::Sink::stdout_sink);
  g_harness = std::make_unique<Harness>();
  std::atexit(cleanup);
  setup(*g_harness);
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  ERR_clear_error();  // a failure report then names this input's OpenSSL errors only
  // POST /tsa: over 64 KiB the route answers 413 before the authority sees the body.
  if (size > tsa::kMaxRequestBytes) return 0;
  check(*g_harness, crypto::ByteView(data, size));
  return 0;
}
