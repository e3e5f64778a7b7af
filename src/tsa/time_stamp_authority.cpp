#include "tsa/time_stamp_authority.h"

#include "core/log.h"
#include "crypto/key_pair.h"
#include "crypto/primitives.h"
#include "crypto/x509.h"
#include "metrics/metrics.h"

#include <openssl/asn1.h>
#include <openssl/bio.h>
#include <openssl/bn.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/objects.h>
#include <openssl/ts.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include <chrono>
#include <climits>
#include <optional>

namespace cartorio::tsa {

using core::Errc;

// What one call needs inside OpenSSL's callbacks (they get a void*).
struct TimeStampAuthority::Request {
  const TimeStampAuthority* tsa = nullptr;
  const std::string* actor = nullptr;
  // Lives until the response is encoded: the TS_RESP_CTX holds a reference to its EVP_PKEY.
  std::unique_ptr<keys::Signer> signer;
  // Answer systemFailure as soon as the request has passed its checks (second pass after a
  // signing failure: OpenSSL then says "rejection" without a failure code).
  bool system_failure = false;
};

namespace {

// The digests accepted for message imprints: SHA-1 is broken for collisions (RFC 5816 moved
// TSAs off it), and anything weaker or exotic buys nothing.
const EVP_MD* const* accepted_digests() {
  static const EVP_MD* const mds[] = {EVP_sha256(), EVP_sha384(), EVP_sha512(), nullptr};
  return mds;
}

// A DER TimeStampReq and nothing after it. OpenSSL's own reader stops after the first
// object, so trailing bytes would otherwise pass unnoticed.
bool is_single_request(crypto::ByteView der) {
  if (der.empty() || der.size() > kMaxRequestBytes) return false;
  const unsigned char* p = der.data();
  crypto::TsReq req(d2i_TS_REQ(nullptr, &p, static_cast<long>(der.size())));
  return req && p == der.data() + der.size();
}

void set_system_failure(TS_RESP_CTX* ctx, const char* text) {
  TS_RESP_CTX_set_status_info(ctx, TS_STATUS_REJECTION, text);
  TS_RESP_CTX_add_failure_info(ctx, TS_INFO_SYSTEM_FAILURE);
}

// The hex of an ASN1_INTEGER serial as the store and logs write serials.
std::string lower_hex(const crypto::Bytes& b) {
  std::string hex = crypto::to_hex(b);
  const auto first = hex.find_first_not_of('0');
  return first == std::string::npos ? "0" : hex.substr(first);
}

long status_of(const TS_RESP* resp) {
  const TS_STATUS_INFO* si = TS_RESP_get_status_info(const_cast<TS_RESP*>(resp));
  return si ? ASN1_INTEGER_get(TS_STATUS_INFO_get0_status(si)) : -1;
}

bool has_failure_info(const TS_RESP* resp) {
  const TS_STATUS_INFO* si = TS_RESP_get_status_info(const_cast<TS_RESP*>(resp));
  const ASN1_BIT_STRING* fi = si ? TS_STATUS_INFO_get0_failure_info(si) : nullptr;
  return fi && ASN1_STRING_length(fi) > 0;
}

}  // namespace

TsaOptions tsa_options(const core::Config& config, std::string actor) {
  TsaOptions o;
  o.policy_oid = config.tsa.policy_oid;
  o.accuracy_seconds = config.tsa.accuracy_seconds;
  o.actor = std::move(actor);
  return o;
}

core::Result<std::unique_ptr<TimeStampAuthority>> TimeStampAuthority::create(const pki::Hierarchy& hierarchy,
                                                                             keys::KeyStore& keys,
                                                                             const core::Clock& clock,
                                                                             TsaOptions options) {
  // no_name = 1: only the dotted form, so a short name like "sha256" cannot become a policy.
  crypto::Asn1Object policy(OBJ_txt2obj(options.policy_oid.c_str(), 1));
  ERR_clear_error();
  if (!policy || OBJ_length(policy.get()) == 0)
    return {Errc::config_invalid, "tsa.policy_oid: \"" + options.policy_oid + "\" is not a dotted OID"};
  if (options.accuracy_seconds < 1 || options.accuracy_seconds > 3600)
    return {Errc::config_invalid, "tsa.accuracy_seconds: must be between 1 and 3600"};

  CARTORIO_TRY(const pki::SigningIdentity* tsa, hierarchy.get(pki::kTsa));
  if (!tsa->key_ref) return {Errc::ca_not_found, "the TSA identity has no key"};
  crypto::X509Ptr cert(X509_dup(tsa->cert.get()));
  if (!cert) return {Errc::internal, "copying the TSA certificate failed"};
  // RFC 3161 2.3: the only EKU is timeStamping, critical. OpenSSL enforces the same when the
  // certificate is handed to TS_RESP_CTX; checking here makes a bad hierarchy fail at start.
  if (X509_check_purpose(cert.get(), X509_PURPOSE_TIMESTAMP_SIGN, 0) != 1) {
    ERR_clear_error();
    return {Errc::profile_violation, "the TSA certificate is not a time-stamping certificate (EKU timeStamping, critical)"};
  }

  crypto::X509Stack chain(sk_X509_new_null());
  if (!chain) return {Errc::internal, "out of memory"};
  for (std::string name = pki::parent_of(pki::kTsa); !name.empty(); name = pki::parent_of(name)) {
    CARTORIO_TRY(const pki::SigningIdentity* ca, hierarchy.get(name));
    crypto::X509Ptr copy(X509_dup(ca->cert.get()));
    if (!copy || !sk_X509_push(chain.get(), copy.get())) return {Errc::internal, "copying the CA chain failed"};
    (void)copy.release();  // owned by the stack now (a failed push leaves it to us)
  }
  return std::make_unique<TimeStampAuthority>(std::move(cert), std::move(chain), std::move(policy), *tsa->key_ref,
                                              keys, clock, std::move(options));
}

TimeStampAuthority::TimeStampAuthority(crypto::X509Ptr cert, crypto::X509Stack chain, crypto::Asn1Object policy,
                                       keys::KeyRef key, keys::KeyStore& keys, const core::Clock& clock,
                                       TsaOptions options)
    : m_cert(std::move(cert)),
      m_chain(std::move(chain)),
      m_policy(std::move(policy)),
      m_key(std::move(key)),
      m_keys(keys),
      m_clock(clock),
      m_options(std::move(options)),
      m_signer_md(crypto::signing_digest_for(X509_get0_pubkey(m_cert.get()))) {}

TimeStampAuthority::~TimeStampAuthority() = default;

// Called by OpenSSL once the request has passed the version, digest and policy checks, i.e.
// when the answer is going to be signed: the key is fetched here, not before, so rejected
// requests cost no key use. Must not throw (it is called from C).
ASN1_INTEGER* TimeStampAuthority::serial_callback(::TS_resp_ctx* ctx, void* data) {
  auto& st = *static_cast<Request*>(data);
  if (st.system_failure) {
    set_system_failure(ctx, "The time-stamp service cannot sign right now.");
    return nullptr;
  }
  try {
    // 128 random bits: unique without a counter shared between threads or instances.
    const crypto::Bytes random = crypto::random_bytes(16);
    crypto::Bignum bn(BN_bin2bn(random.data(), static_cast<int>(random.size()), nullptr));
    crypto::Asn1Integer serial(bn ? BN_to_ASN1_INTEGER(bn.get(), nullptr) : nullptr);
    if (!serial) {
      set_system_failure(ctx, "Error during serial number generation.");
      return nullptr;
    }
    // Request extensions are refused right after this callback, before any signature.
    if (sk_X509_EXTENSION_num(TS_REQ_get_exts(TS_RESP_CTX_get_request(ctx))) > 0) return serial.release();

    auto signer = st.tsa->m_keys.signer(st.tsa->m_key, keys::KeyUse{"sign-timestamp", *st.actor, lower_hex(random)});
    if (!signer) {
      core::log::error("tsa.signer_failed", {{"error", signer.error().to_string()}});
      set_system_failure(ctx, "The time-stamp service cannot sign right now.");
      return nullptr;
    }
    st.signer = std::move(*signer);
    if (!TS_RESP_CTX_set_signer_key(ctx, st.signer->pkey())) {
      set_system_failure(ctx, "The time-stamp service cannot sign right now.");
      return nullptr;
    }
    return serial.release();
  } catch (...) {
    set_system_failure(ctx, "Error during serial number generation.");
    return nullptr;
  }
}

// genTime from the injected clock, never the system's.
int TimeStampAuthority::time_callback(::TS_resp_ctx*, void* data, long* sec, long* usec) {
  const auto& st = *static_cast<const Request*>(data);
  const auto since_epoch = st.tsa->m_clock.now().time_since_epoch();
  const auto whole = std::chrono::floor<std::chrono::seconds>(since_epoch);
  *sec = static_cast<long>(whole.count());
  *usec = static_cast<long>(std::chrono::duration_cast<std::chrono::microseconds>(since_epoch - whole).count());
  return 1;
}

core::Result<std::string> TimeStampAuthority::respond(crypto::ByteView request_der) const {
  return respond(request_der, m_options.actor);
}

core::Result<std::string> TimeStampAuthority::respond(crypto::ByteView request_der, const std::string& actor) const {
  Request state;
  state.tsa = this;
  state.actor = &actor;
  auto der = run(request_der, state);
  ERR_clear_error();  // rejections leave OpenSSL errors behind: not this thread's next caller's
  return der;
}

core::Result<std::string> TimeStampAuthority::run(crypto::ByteView request_der, Request& state) const {
  crypto::TsRespCtx ctx(TS_RESP_CTX_new());
  if (!ctx) return {Errc::internal, "out of memory"};
  if (TS_RESP_CTX_set_signer_cert(ctx.get(), m_cert.get()) != 1 ||
      TS_RESP_CTX_set_signer_digest(ctx.get(), m_signer_md) != 1 ||
      TS_RESP_CTX_set_certs(ctx.get(), m_chain.get()) != 1 ||
      TS_RESP_CTX_set_def_policy(ctx.get(), m_policy.get()) != 1 ||
      TS_RESP_CTX_set_accuracy(ctx.get(), m_options.accuracy_seconds, 0, 0) != 1 ||
      TS_RESP_CTX_set_ess_cert_id_digest(ctx.get(), EVP_sha256()) != 1)
    return {Errc::internal, "setting up the time-stamp response failed: " + crypto::openssl_errors()};
  for (const EVP_MD* const* md = accepted_digests(); *md; ++md)
    if (TS_RESP_CTX_add_md(ctx.get(), *md) != 1) return {Errc::internal, "out of memory"};
  TS_RESP_CTX_add_flags(ctx.get(), TS_TSA_NAME);
  TS_RESP_CTX_set_serial_cb(ctx.get(), &TimeStampAuthority::serial_callback, &state);
  TS_RESP_CTX_set_time_cb(ctx.get(), &TimeStampAuthority::time_callback, &state);

  // Anything but exactly one DER TimeStampReq is answered as unparseable input (an empty
  // BIO): rejection, badDataFormat.
  static const unsigned char kNothing = 0;
  const bool parses = is_single_request(request_der);
  crypto::Bio in(parses ? BIO_new_mem_buf(request_der.data(), static_cast<int>(request_der.size()))
                        : BIO_new_mem_buf(&kNothing, 0));
  if (!in) return {Errc::internal, "out of memory"};
  crypto::TsResp resp(TS_RESP_create_response(ctx.get(), in.get()));
  if (!resp) return {Errc::internal, "building the time-stamp response failed: " + crypto::openssl_errors()};

  long status = status_of(resp.get());
  if (status == TS_STATUS_REJECTION && !has_failure_info(resp.get()) && !state.system_failure) {
    // Only a failure after the checks (signing, encoding) leaves a rejection without a
    // failure code: answer it again as systemFailure, which tells the client to retry.
    core::log::error("tsa.sign_failed", {{"error", crypto::openssl_errors()}});
    Request again;
    again.tsa = state.tsa;
    again.actor = state.actor;
    again.system_failure = true;
    return run(request_der, again);
  }

  unsigned char* buf = nullptr;
  const int len = i2d_TS_RESP(resp.get(), &buf);
  if (len <= 0) return {Errc::internal, "encoding the time-stamp response failed: " + crypto::openssl_errors()};
  std::string der(reinterpret_cast<const char*>(buf), static_cast<std::size_t>(len));
  OPENSSL_free(buf);
  metrics::count_timestamp(status == TS_STATUS_GRANTED || status == TS_STATUS_GRANTED_WITH_MODS ? "granted"
                                                                                                 : "rejection");
  return der;
}

}  // namespace cartorio::tsa
