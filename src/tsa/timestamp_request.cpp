#include "tsa/timestamp_request.h"

#include "crypto/primitives.h"

#include <openssl/asn1.h>
#include <openssl/bn.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/objects.h>
#include <openssl/pkcs7.h>
#include <openssl/ts.h>
#include <openssl/x509.h>

#include <utility>

namespace cartorio::tsa {

using core::Errc;

namespace {

bool is_accepted_digest(const EVP_MD* md) {
  const int nid = md ? EVP_MD_get_type(md) : NID_undef;
  return nid == NID_sha256 || nid == NID_sha384 || nid == NID_sha512;
}

std::string status_name(long status) {
  switch (status) {
    case TS_STATUS_GRANTED: return "granted";
    case TS_STATUS_GRANTED_WITH_MODS: return "grantedWithMods";
    case TS_STATUS_REJECTION: return "rejection";
    case TS_STATUS_WAITING: return "waiting";
    case TS_STATUS_REVOCATION_WARNING: return "revocationWarning";
    case TS_STATUS_REVOCATION_NOTIFICATION: return "revocationNotification";
    default: return "status " + std::to_string(status);
  }
}

// The statusString of a PKIStatusInfo, joined; bounded, since it comes from the remote TSA
// and ends up in logs and error messages.
std::string status_text(const TS_STATUS_INFO* si) {
  std::string out;
  const STACK_OF(ASN1_UTF8STRING)* text = TS_STATUS_INFO_get0_text(si);
  for (int i = 0; i < sk_ASN1_UTF8STRING_num(text); ++i) {
    const ASN1_UTF8STRING* s = sk_ASN1_UTF8STRING_value(text, i);
    if (!out.empty()) out += " ";
    out.append(reinterpret_cast<const char*>(ASN1_STRING_get0_data(s)), static_cast<std::size_t>(ASN1_STRING_length(s)));
    if (out.size() > 200) {
      out.resize(200);
      out += "...";
      break;
    }
  }
  for (char& c : out)
    if (static_cast<unsigned char>(c) < 0x20) c = ' ';
  return out;
}

}  // namespace

std::string failure_names(const ASN1_BIT_STRING* failure_info) {
  static const std::pair<int, const char*> kNames[] = {
      {TS_INFO_BAD_ALG, "badAlg"},
      {TS_INFO_BAD_REQUEST, "badRequest"},
      {TS_INFO_BAD_DATA_FORMAT, "badDataFormat"},
      {TS_INFO_TIME_NOT_AVAILABLE, "timeNotAvailable"},
      {TS_INFO_UNACCEPTED_POLICY, "unacceptedPolicy"},
      {TS_INFO_UNACCEPTED_EXTENSION, "unacceptedExtension"},
      {TS_INFO_ADD_INFO_NOT_AVAILABLE, "addInfoNotAvailable"},
      {TS_INFO_SYSTEM_FAILURE, "systemFailure"},
  };
  std::string out;
  if (!failure_info) return out;
  for (const auto& [bit, name] : kNames) {
    if (!ASN1_BIT_STRING_get_bit(failure_info, bit)) continue;
    if (!out.empty()) out += ", ";
    out += name;
  }
  return out;
}

core::Result<TimestampRequest> TimestampRequest::create(const EVP_MD* md, crypto::ByteView digest) {
  if (!is_accepted_digest(md)) return {Errc::invalid_argument, "time-stamps are requested over SHA-256, SHA-384 or SHA-512"};
  if (digest.size() != static_cast<std::size_t>(EVP_MD_get_size(md)))
    return {Errc::invalid_argument, "the digest does not have the length of " + std::string(EVP_MD_get0_name(md))};

  crypto::TsReq req(TS_REQ_new());
  crypto::TsMsgImprint imprint(TS_MSG_IMPRINT_new());
  crypto::X509Algor algorithm(X509_ALGOR_new());
  if (!req || !imprint || !algorithm) return {Errc::internal, "out of memory"};
  X509_ALGOR_set0(algorithm.get(), OBJ_nid2obj(EVP_MD_get_type(md)), V_ASN1_UNDEF, nullptr);
  // A 64-bit positive nonce ties the reply to this request (RFC 3161 2.4.1).
  const crypto::Bytes random = crypto::random_bytes(8);
  crypto::Bignum bn(BN_bin2bn(random.data(), static_cast<int>(random.size()), nullptr));
  crypto::Asn1Integer nonce(bn ? BN_to_ASN1_INTEGER(bn.get(), nullptr) : nullptr);
  // The setters copy their argument.
  if (!nonce || TS_REQ_set_version(req.get(), 1) != 1 ||
      TS_MSG_IMPRINT_set_algo(imprint.get(), algorithm.get()) != 1 ||
      TS_MSG_IMPRINT_set_msg(imprint.get(), const_cast<unsigned char*>(digest.data()),
                             static_cast<int>(digest.size())) != 1 ||
      TS_REQ_set_msg_imprint(req.get(), imprint.get()) != 1 || TS_REQ_set_nonce(req.get(), nonce.get()) != 1 ||
      TS_REQ_set_cert_req(req.get(), 1) != 1)
    return {Errc::internal, "building the time-stamp request failed: " + crypto::openssl_errors()};

  unsigned char* buf = nullptr;
  const int len = i2d_TS_REQ(req.get(), &buf);
  if (len <= 0) return {Errc::internal, "encoding the time-stamp request failed: " + crypto::openssl_errors()};
  std::string der(reinterpret_cast<const char*>(buf), static_cast<std::size_t>(len));
  OPENSSL_free(buf);
  return TimestampRequest(std::move(req), std::move(der));
}

core::Result<std::string> TimestampRequest::check_reply(crypto::ByteView reply_der) const {
  const unsigned char* p = reply_der.data();
  crypto::TsResp resp(reply_der.empty() ? nullptr
                                        : d2i_TS_RESP(nullptr, &p, static_cast<long>(reply_der.size())));
  if (!resp || p != reply_der.data() + reply_der.size()) {
    ERR_clear_error();
    return {Errc::tsa_error, "the TSA's reply is not a DER TimeStampResp"};
  }
  const TS_STATUS_INFO* si = TS_RESP_get_status_info(resp.get());
  const long status = ASN1_INTEGER_get(TS_STATUS_INFO_get0_status(si));
  if (status != TS_STATUS_GRANTED && status != TS_STATUS_GRANTED_WITH_MODS) {
    const ASN1_BIT_STRING* fi = TS_STATUS_INFO_get0_failure_info(si);
    const std::string failures = failure_names(fi);
    const std::string text = status_text(si);
    std::string msg = "the TSA answered " + status_name(status);
    if (!failures.empty()) msg += " (" + failures + ")";
    if (!text.empty()) msg += ": " + text;
    const bool transient = status == TS_STATUS_WAITING ||
                           (fi && (ASN1_BIT_STRING_get_bit(fi, TS_INFO_SYSTEM_FAILURE) ||
                                   ASN1_BIT_STRING_get_bit(fi, TS_INFO_TIME_NOT_AVAILABLE)));
    return {transient ? Errc::tsa_unavailable : Errc::tsa_error, msg};
  }
  PKCS7* token = TS_RESP_get_token(resp.get());
  if (!token || !TS_RESP_get_tst_info(resp.get())) return {Errc::tsa_error, "the TSA granted without a token"};

  // Version, message imprint (algorithm and digest) and nonce against the request, by
  // OpenSSL's own verifier; no signature check (TS_VFY_SIGNATURE is off).
  crypto::TsVerifyCtx verify(TS_REQ_to_TS_VERIFY_CTX(m_req.get(), nullptr));
  if (!verify) return {Errc::internal, "out of memory"};
  TS_VERIFY_CTX_set_flags(verify.get(), TS_VFY_VERSION | TS_VFY_IMPRINT | TS_VFY_NONCE);
  if (TS_RESP_verify_response(verify.get(), resp.get()) != 1)
    return {Errc::tsa_error, "the TSA's token does not answer this request: " + crypto::openssl_errors()};

  unsigned char* buf = nullptr;
  const int len = i2d_PKCS7(token, &buf);
  if (len <= 0) return {Errc::internal, "encoding the time-stamp token failed: " + crypto::openssl_errors()};
  std::string der(reinterpret_cast<const char*>(buf), static_cast<std::size_t>(len));
  OPENSSL_free(buf);
  return der;
}

}  // namespace cartorio::tsa
