// TimeStampAuthority: tokens for good requests (read and verified with OpenSSL's TS API),
// rejections with the right PKIFailureInfo for everything else, the injected clock, unique
// serials, and the key used only for what gets signed.
#include "tsa/time_stamp_authority.h"

#include "crypto/x509.h"
#include "metrics/metrics.h"
#include "tsa_test_support.h"

#include <openssl/err.h>
#include <openssl/x509v3.h>

#include <set>
#include <thread>

namespace cartorio::tsa {
namespace {

using test::make_query;
using test::parse_reply;
using test::Query;
using test::status_of;

class TimeStampAuthorityTest : public test::TsaFixture {
 protected:
  crypto::TsResp ask(const crypto::Bytes& der, const TimeStampAuthority* tsa = nullptr) {
    auto reply = (tsa ? tsa : m_tsa.get())->respond(der);
    EXPECT_TRUE(reply) << reply.error().to_string();
    return reply ? parse_reply(*reply) : crypto::TsResp{};
  }

  crypto::TsResp ask(const Query& q) { return ask(make_query(q).der); }

  // A rejection carrying exactly `failure`, and no token.
  void expect_rejected(const crypto::TsResp& r, int failure) {
    ASSERT_TRUE(r);
    EXPECT_EQ(status_of(r.get()), TS_STATUS_REJECTION);
    EXPECT_EQ(test::failures_of(r.get()), std::vector<int>{failure});
    EXPECT_EQ(TS_RESP_get_token(r.get()), nullptr);
  }

  // OpenSSL's verifier over the whole reply: signature chaining to the root (the CA
  // certificates offered as untrusted), the TSA certificate's purpose, version, imprint,
  // nonce, policy and the TSA name against the signer.
  void expect_verifies(const crypto::Bytes& request_der, TS_RESP* resp) {
    const unsigned char* p = request_der.data();
    crypto::TsReq req(d2i_TS_REQ(nullptr, &p, static_cast<long>(request_der.size())));
    ASSERT_TRUE(req);
    crypto::TsVerifyCtx ctx(TS_REQ_to_TS_VERIFY_CTX(req.get(), nullptr));
    ASSERT_TRUE(ctx);
    TS_VERIFY_CTX_add_flags(ctx.get(), TS_VFY_SIGNATURE | TS_VFY_SIGNER);
    X509_STORE* store = X509_STORE_new();
    X509_STORE_add_cert(store, cert(pki::kRoot));
    // The hierarchy lives in 2031 (the fixture's clock): validate the chain then.
    X509_VERIFY_PARAM_set_time(X509_STORE_get0_param(store), static_cast<time_t>(core::to_unix(m_clock.now())));
    TS_VERIFY_CTX_set_store(ctx.get(), store);  // owned by ctx
    STACK_OF(X509)* untrusted = sk_X509_new_null();
    X509_up_ref(cert(pki::kDocumentCa));
    sk_X509_push(untrusted, cert(pki::kDocumentCa));
    TS_VERIFY_CTX_set_certs(ctx.get(), untrusted);  // owned by ctx
    EXPECT_EQ(TS_RESP_verify_response(ctx.get(), resp), 1) << crypto::openssl_errors();
  }
};

TEST_F(TimeStampAuthorityTest, GrantsSha256Sha384AndSha512WithVerifiableTokens) {
  for (const EVP_MD* md : {EVP_sha256(), EVP_sha384(), EVP_sha512()}) {
    SCOPED_TRACE(EVP_MD_get0_name(md));
    auto q = make_query({.md = md});
    auto r = ask(q.der);
    ASSERT_TRUE(r);
    ASSERT_EQ(status_of(r.get()), TS_STATUS_GRANTED);
    ASSERT_NE(TS_RESP_get_token(r.get()), nullptr);
    TS_TST_INFO* tst = TS_RESP_get_tst_info(r.get());
    ASSERT_NE(tst, nullptr);
    EXPECT_EQ(TS_TST_INFO_get_version(tst), 1);
    TS_MSG_IMPRINT* imprint = TS_TST_INFO_get_msg_imprint(tst);
    EXPECT_EQ(OBJ_obj2nid(TS_MSG_IMPRINT_get_algo(imprint)->algorithm), EVP_MD_get_type(md));
    const ASN1_OCTET_STRING* digest = TS_MSG_IMPRINT_get_msg(imprint);
    EXPECT_EQ(crypto::Bytes(ASN1_STRING_get0_data(digest), ASN1_STRING_get0_data(digest) + ASN1_STRING_length(digest)),
              test::digest_of(md, "cartorio"));
    expect_verifies(q.der, r.get());
  }
}

TEST_F(TimeStampAuthorityTest, TokenCarriesNoncePolicyAccuracyAndTsaName) {
  auto q = make_query();
  auto r = ask(q.der);
  ASSERT_EQ(status_of(r.get()), TS_STATUS_GRANTED);
  TS_TST_INFO* tst = TS_RESP_get_tst_info(r.get());
  ASSERT_NE(TS_TST_INFO_get_nonce(tst), nullptr);
  EXPECT_EQ(ASN1_INTEGER_cmp(TS_TST_INFO_get_nonce(tst), q.nonce.get()), 0);
  char oid[128];
  OBJ_obj2txt(oid, sizeof oid, TS_TST_INFO_get_policy_id(tst), 1);
  EXPECT_EQ(std::string(oid), core::Config::Tsa{}.policy_oid);
  TS_ACCURACY* accuracy = TS_TST_INFO_get_accuracy(tst);
  ASSERT_NE(accuracy, nullptr);
  EXPECT_EQ(ASN1_INTEGER_get(TS_ACCURACY_get_seconds(accuracy)), 1);
  EXPECT_EQ(TS_ACCURACY_get_millis(accuracy), nullptr);
  GENERAL_NAME* tsa_name = TS_TST_INFO_get_tsa(tst);
  ASSERT_NE(tsa_name, nullptr);
  ASSERT_EQ(tsa_name->type, GEN_DIRNAME);
  EXPECT_EQ(X509_NAME_cmp(tsa_name->d.directoryName, X509_get_subject_name(cert(pki::kTsa))), 0);
  EXPECT_FALSE(TS_TST_INFO_get_ordering(tst));
}

TEST_F(TimeStampAuthorityTest, RequestWithoutNonceIsGrantedWithoutOne) {
  auto r = ask(Query{.nonce = false});
  ASSERT_EQ(status_of(r.get()), TS_STATUS_GRANTED);
  EXPECT_EQ(TS_TST_INFO_get_nonce(TS_RESP_get_tst_info(r.get())), nullptr);
}

TEST_F(TimeStampAuthorityTest, AccuracyAndPolicyComeFromTheOptions) {
  auto tsa = make_authority({.policy_oid = "1.3.6.1.4.1.99999.7.1", .accuracy_seconds = 7});
  ASSERT_TRUE(tsa);
  auto r = ask(make_query({.policy = "1.3.6.1.4.1.99999.7.1"}).der, tsa.get());
  ASSERT_EQ(status_of(r.get()), TS_STATUS_GRANTED);
  TS_TST_INFO* tst = TS_RESP_get_tst_info(r.get());
  char oid[128];
  OBJ_obj2txt(oid, sizeof oid, TS_TST_INFO_get_policy_id(tst), 1);
  EXPECT_STREQ(oid, "1.3.6.1.4.1.99999.7.1");
  EXPECT_EQ(ASN1_INTEGER_get(TS_ACCURACY_get_seconds(TS_TST_INFO_get_accuracy(tst))), 7);
}

TEST_F(TimeStampAuthorityTest, CertReqPutsTheTsaCertificateAndItsChainInTheToken) {
  auto r = ask(Query{.cert_req = true});
  ASSERT_EQ(status_of(r.get()), TS_STATUS_GRANTED);
  const STACK_OF(X509)* certs = TS_RESP_get_token(r.get())->d.sign->cert;
  ASSERT_EQ(sk_X509_num(certs), 3);
  EXPECT_EQ(X509_cmp(sk_X509_value(certs, 0), cert(pki::kTsa)), 0);
  EXPECT_EQ(X509_cmp(sk_X509_value(certs, 1), cert(pki::kDocumentCa)), 0);
  EXPECT_EQ(X509_cmp(sk_X509_value(certs, 2), cert(pki::kRoot)), 0);

  auto bare = ask(Query{.cert_req = false});
  ASSERT_EQ(status_of(bare.get()), TS_STATUS_GRANTED);
  EXPECT_LE(sk_X509_num(TS_RESP_get_token(bare.get())->d.sign->cert), 0) << "no certificates without certReq";
}

// RFC 5816: the signing certificate is named by ESSCertIDv2 with SHA-256, not SHA-1's v1.
TEST_F(TimeStampAuthorityTest, SignedAttributesNameTheTsaCertificateWithEssCertIdV2) {
  auto r = ask(Query{});
  ASSERT_EQ(status_of(r.get()), TS_STATUS_GRANTED);
  PKCS7* token = TS_RESP_get_token(r.get());
  STACK_OF(PKCS7_SIGNER_INFO)* infos = PKCS7_get_signer_info(token);
  ASSERT_EQ(sk_PKCS7_SIGNER_INFO_num(infos), 1);
  PKCS7_SIGNER_INFO* si = sk_PKCS7_SIGNER_INFO_value(infos, 0);
  EXPECT_EQ(PKCS7_get_signed_attribute(si, NID_id_smime_aa_signingCertificate), nullptr);
  ASN1_TYPE* attr = PKCS7_get_signed_attribute(si, NID_id_smime_aa_signingCertificateV2);
  ASSERT_NE(attr, nullptr);
  ASSERT_EQ(attr->type, V_ASN1_SEQUENCE);
  const unsigned char* p = attr->value.sequence->data;
  crypto::EssSigningCertV2 sc(d2i_ESS_SIGNING_CERT_V2(nullptr, &p, attr->value.sequence->length));
  ASSERT_TRUE(sc);
  // OSSL_ESS_find_cert_v2 is internal: compare the first ESSCertIDv2's hash by hand.
  unsigned char der_hash[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  ASSERT_EQ(X509_digest(cert(pki::kTsa), EVP_sha256(), der_hash, &len), 1);
  const auto& encoded = attr->value.sequence;
  const std::string haystack(reinterpret_cast<const char*>(encoded->data), static_cast<std::size_t>(encoded->length));
  EXPECT_NE(haystack.find(std::string(reinterpret_cast<char*>(der_hash), len)), std::string::npos)
      << "the SHA-256 of the TSA certificate is not in SigningCertificateV2";
}

TEST_F(TimeStampAuthorityTest, GenTimeIsTheInjectedClocksTime) {
  auto r = ask(Query{});
  ASSERT_EQ(status_of(r.get()), TS_STATUS_GRANTED);
  const ASN1_GENERALIZEDTIME* t = TS_TST_INFO_get_time(TS_RESP_get_tst_info(r.get()));
  EXPECT_EQ(std::string(reinterpret_cast<const char*>(ASN1_STRING_get0_data(t)), ASN1_STRING_length(t)),
            "20310506070809Z");
  EXPECT_EQ(crypto::asn1_time_to_unix(t), core::to_unix(test::fixed_time()));

  m_clock.advance(std::chrono::hours(49) + std::chrono::milliseconds(999));
  r = ask(Query{});
  t = TS_TST_INFO_get_time(TS_RESP_get_tst_info(r.get()));
  EXPECT_EQ(crypto::asn1_time_to_unix(t), core::to_unix(test::fixed_time()) + 49 * 3600)
      << "whole seconds, the fraction dropped";
}

TEST_F(TimeStampAuthorityTest, SerialsArePositiveAndDifferAcrossRequests) {
  std::set<std::string> serials;
  for (int i = 0; i < 100; ++i) {
    auto r = ask(Query{});
    ASSERT_EQ(status_of(r.get()), TS_STATUS_GRANTED);
    const ASN1_INTEGER* serial = TS_TST_INFO_get_serial(TS_RESP_get_tst_info(r.get()));
    ASSERT_NE(serial, nullptr);
    EXPECT_NE(ASN1_STRING_type(serial), V_ASN1_NEG_INTEGER);
    EXPECT_LE(ASN1_STRING_length(serial), 16);
    EXPECT_GE(ASN1_STRING_length(serial), 8) << "128 random bits are rarely this short";
    serials.insert(crypto::serial_hex(serial));
  }
  EXPECT_EQ(serials.size(), 100u);
}

TEST_F(TimeStampAuthorityTest, EachGrantedTokenIsOneKeyUseRecordedForTheActor) {
  ASSERT_EQ(status_of(ask(Query{}).get()), TS_STATUS_GRANTED);
  auto reply = m_tsa->respond(make_query().der, "user:alice");
  ASSERT_TRUE(reply);
  const auto uses = m_keys->uses();
  ASSERT_EQ(uses.size(), 2u);
  EXPECT_EQ(uses[0].purpose, "sign-timestamp");
  EXPECT_EQ(uses[0].actor, "server");
  EXPECT_EQ(uses[1].actor, "user:alice");
  // The target is the token's serial.
  auto r = parse_reply(*reply);
  EXPECT_EQ(uses[1].target, crypto::serial_hex(TS_TST_INFO_get_serial(TS_RESP_get_tst_info(r.get()))));
}

TEST_F(TimeStampAuthorityTest, Rejects_Sha1AndMd5WithBadAlg) {
  expect_rejected(ask(Query{.md = EVP_sha1()}), TS_INFO_BAD_ALG);
  expect_rejected(ask(Query{.md = EVP_md5()}), TS_INFO_BAD_ALG);
  expect_rejected(ask(Query{.md = EVP_sha3_256()}), TS_INFO_BAD_ALG);
  EXPECT_TRUE(m_keys->uses().empty()) << "a rejected request costs no key use";
}

TEST_F(TimeStampAuthorityTest, Rejects_HashParametersOtherThanNullWithBadAlg) {
  expect_rejected(ask(Query{.parameter = V_ASN1_INTEGER}), TS_INFO_BAD_ALG);
  // Absent and NULL parameters are both fine (RFC 5754).
  EXPECT_EQ(status_of(ask(Query{.parameter = V_ASN1_UNDEF}).get()), TS_STATUS_GRANTED);
}

TEST_F(TimeStampAuthorityTest, Rejects_DigestOfTheWrongLengthWithBadDataFormat) {
  expect_rejected(ask(Query{.md = EVP_sha256(), .digest = test::digest_of(EVP_sha384(), "x")}),
                  TS_INFO_BAD_DATA_FORMAT);
  expect_rejected(ask(Query{.md = EVP_sha512(), .digest = crypto::Bytes{}}), TS_INFO_BAD_DATA_FORMAT);
}

TEST_F(TimeStampAuthorityTest, Rejects_GarbageTruncatedEmptyAndTrailingBytesWithBadDataFormat) {
  const auto good = make_query().der;
  std::vector<crypto::Bytes> inputs = {
      {},
      {0x00},
      {0x30, 0x00},
      {0x30, 0x84, 0xff, 0xff, 0xff, 0xff},  // a length far beyond the input
      crypto::Bytes(good.begin(), good.begin() + static_cast<std::ptrdiff_t>(good.size() / 2)),
      crypto::Bytes(good.begin(), good.end() - 1),
  };
  auto trailing = good;
  trailing.push_back(0x00);
  inputs.push_back(trailing);
  const std::string text = "not a time-stamp request";
  inputs.emplace_back(text.begin(), text.end());
  inputs.push_back(crypto::random_bytes(300));
  for (std::size_t i = 0; i < inputs.size(); ++i) {
    SCOPED_TRACE("input " + std::to_string(i));
    expect_rejected(ask(inputs[i]), TS_INFO_BAD_DATA_FORMAT);
  }
  EXPECT_EQ(ERR_peek_error(), 0u) << "OpenSSL errors left on the thread's queue";
}

TEST_F(TimeStampAuthorityTest, Rejects_VersionOtherThanOneWithBadRequest) {
  expect_rejected(ask(Query{.version = 2}), TS_INFO_BAD_REQUEST);
}

TEST_F(TimeStampAuthorityTest, Rejects_AnotherPolicyWithUnacceptedPolicy) {
  expect_rejected(ask(Query{.policy = "1.2.3.4.5"}), TS_INFO_UNACCEPTED_POLICY);
  EXPECT_EQ(status_of(ask(Query{.policy = core::Config::Tsa{}.policy_oid}).get()), TS_STATUS_GRANTED);
}

TEST_F(TimeStampAuthorityTest, Rejects_ExtensionsWithUnacceptedExtensionWithoutUsingTheKey) {
  expect_rejected(ask(Query{.extension = true}), TS_INFO_UNACCEPTED_EXTENSION);
  EXPECT_TRUE(m_keys->uses().empty());
}

TEST_F(TimeStampAuthorityTest, KeyStoreDownAnswersSystemFailure) {
  m_keys->fail = true;
  expect_rejected(ask(Query{}), TS_INFO_SYSTEM_FAILURE);
  // Requests that would be refused anyway keep their own reason.
  expect_rejected(ask(Query{.md = EVP_sha1()}), TS_INFO_BAD_ALG);
  m_keys->fail = false;
  EXPECT_EQ(status_of(ask(Query{}).get()), TS_STATUS_GRANTED);
}

TEST_F(TimeStampAuthorityTest, CountsAnswersInMetrics) {
  ASSERT_EQ(status_of(ask(Query{}).get()), TS_STATUS_GRANTED);
  expect_rejected(ask(crypto::Bytes{0x01}), TS_INFO_BAD_DATA_FORMAT);
  const std::string text = metrics::registry().render();
  testing::expect_contains(text, R"(cartorio_timestamps_total{status="granted"})");
  testing::expect_contains(text, R"(cartorio_timestamps_total{status="rejection"})");
}

TEST_F(TimeStampAuthorityTest, AnswersFromSeveralThreadsAtOnce) {
  constexpr int kThreads = 4, kEach = 10;
  std::vector<std::vector<std::string>> serials(kThreads);
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t)
    threads.emplace_back([&, t] {
      for (int i = 0; i < kEach; ++i) {
        auto reply = m_tsa->respond(make_query().der);
        if (!reply) continue;
        const auto* p = reinterpret_cast<const unsigned char*>(reply->data());
        crypto::TsResp r(d2i_TS_RESP(nullptr, &p, static_cast<long>(reply->size())));
        if (r && status_of(r.get()) == TS_STATUS_GRANTED)
          serials[t].push_back(crypto::serial_hex(TS_TST_INFO_get_serial(TS_RESP_get_tst_info(r.get()))));
      }
    });
  for (auto& th : threads) th.join();
  std::set<std::string> all;
  for (const auto& s : serials) {
    EXPECT_EQ(s.size(), static_cast<std::size_t>(kEach));
    all.insert(s.begin(), s.end());
  }
  EXPECT_EQ(all.size(), static_cast<std::size_t>(kThreads * kEach));
}

TEST_F(TimeStampAuthorityTest, Create_RejectsBadOptions) {
  EXPECT_ERRC(TimeStampAuthority::create(*m_hierarchy, *m_keys, m_clock, {.policy_oid = "not.an.oid"}),
              core::Errc::config_invalid);
  EXPECT_ERRC(TimeStampAuthority::create(*m_hierarchy, *m_keys, m_clock, {.policy_oid = "sha256"}),
              core::Errc::config_invalid);
  EXPECT_ERRC(TimeStampAuthority::create(*m_hierarchy, *m_keys, m_clock, {.accuracy_seconds = 0}),
              core::Errc::config_invalid);
  EXPECT_ERRC(TimeStampAuthority::create(*m_hierarchy, *m_keys, m_clock, {.accuracy_seconds = 3601}),
              core::Errc::config_invalid);
}

}  // namespace
}  // namespace cartorio::tsa
