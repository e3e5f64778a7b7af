// keys/sealed_key: the passphrase-sealed export of the offline root key.
#include "keys/sealed_key.h"

#include "crypto/bytes.h"
#include "crypto/key_pair.h"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>
#include <openssl/evp.h>

#include <cstdio>
#include <cstdlib>
#include <functional>
#include <map>
#include <sstream>
#include <string>
#include <sys/resource.h>

namespace cartorio::keys {
namespace {

using core::Errc;
using crypto::KeyAlgorithm;
using nlohmann::json;

constexpr const char* kPass = "correct horse battery staple";
constexpr const char* kBegin = "-----BEGIN CARTORIO SEALED KEY-----";
constexpr const char* kEnd = "-----END CARTORIO SEALED KEY-----";

EVP_PKEY* shared_key(KeyAlgorithm a) {
  static std::map<KeyAlgorithm, crypto::PKey> cache;
  auto it = cache.find(a);
  if (it == cache.end()) {
    auto r = crypto::generate_key(a);
    if (!r) return nullptr;
    it = cache.emplace(a, std::move(r).value()).first;
  }
  return it->second.get();
}

// Sealing runs scrypt with N = 2^16; seal once per key and reuse.
const std::string& sealed_ec(const char* label = "root-ca") {
  static std::map<std::string, std::string> cache;
  auto it = cache.find(label);
  if (it == cache.end()) {
    auto r = seal_private_key(shared_key(KeyAlgorithm::ec_p256), kPass, label);
    EXPECT_TRUE(r) << r.error().to_string();
    it = cache.emplace(label, r ? *r : std::string()).first;
  }
  return it->second;
}

json header_of(const std::string& armored) {
  const auto b = armored.find(kBegin) + std::string(kBegin).size();
  const auto e = armored.find(kEnd);
  auto raw = crypto::from_base64(armored.substr(b, e - b));
  EXPECT_TRUE(raw);
  return json::parse(raw->begin(), raw->end());
}

std::string armor(const std::string& body_text) {
  return std::string(kBegin) + "\n" + crypto::to_base64(crypto::as_bytes(body_text)) + "\n" + kEnd + "\n";
}
std::string armor(const json& j) { return armor(j.dump()); }

// ---- round trips -----------------------------------------------------------------------------------

class SealedKeyRoundTrip : public ::testing::TestWithParam<KeyAlgorithm> {};

TEST_P(SealedKeyRoundTrip, UnsealsTheSameKeyWithLabelAndAlgorithm) {
  EVP_PKEY* key = shared_key(GetParam());
  ASSERT_NE(key, nullptr);
  auto sealed = seal_private_key(key, kPass, "root-ca");
  ASSERT_TRUE(sealed) << sealed.error().to_string();
  SealedKeyInfo info;
  auto back = unseal_private_key(*sealed, kPass, &info);
  ASSERT_TRUE(back) << back.error().to_string();
  EXPECT_TRUE(crypto::same_public_key(key, back->get()));
  EXPECT_EQ(info.label, "root-ca");
  EXPECT_EQ(info.algorithm, crypto::key_algorithm_name(GetParam()));
  // The private half is the same too.
  auto d1 = crypto::private_key_to_der(key), d2 = crypto::private_key_to_der(back->get());
  ASSERT_TRUE(d1 && d2);
  EXPECT_EQ(crypto::to_hex(d1->view()), crypto::to_hex(d2->view()));
}

INSTANTIATE_TEST_SUITE_P(Keys, SealedKeyRoundTrip,
                         ::testing::Values(KeyAlgorithm::rsa2048, KeyAlgorithm::ec_p256, KeyAlgorithm::ec_p384),
                         [](const auto& i) {
                           std::string n(crypto::key_algorithm_name(i.param));
                           for (auto& c : n)
                             if (c == '-') c = '_';
                           return n;
                         });

TEST(SealedKey, IsArmoredBase64InLinesOf64) {
  const std::string& s = sealed_ec();
  ASSERT_FALSE(s.empty());
  std::istringstream in(s);
  std::string line;
  std::getline(in, line);
  EXPECT_EQ(line, kBegin);
  std::string last;
  while (std::getline(in, line)) {
    if (line == kEnd) break;
    EXPECT_LE(line.size(), 64u);
    last = line;
  }
  EXPECT_EQ(line, kEnd);
  EXPECT_EQ(s.back(), '\n');
}

TEST(SealedKey, HeaderNamesKdfAndDoesNotContainTheKey) {
  json h = header_of(sealed_ec());
  EXPECT_EQ(h["v"], 1);
  EXPECT_EQ(h["label"], "root-ca");
  EXPECT_EQ(h["algorithm"], "ec-p256");
  EXPECT_EQ(h["kdf"]["name"], "scrypt");
  EXPECT_GE(h["kdf"]["n"].get<std::uint64_t>(), 1u << 15);
  EXPECT_EQ(crypto::from_base64(h["kdf"]["salt"].get<std::string>())->size(), 16u);
  auto der = crypto::private_key_to_der(shared_key(KeyAlgorithm::ec_p256));
  ASSERT_TRUE(der);
  const std::string whole = crypto::to_string(*crypto::from_base64(h["sealed"].get<std::string>()));
  EXPECT_EQ(whole.find(der->str()), std::string::npos);
}

TEST(SealedKey, SealingTwiceGivesDifferentOutput) {
  auto a = seal_private_key(shared_key(KeyAlgorithm::ec_p256), kPass, "x");
  auto b = seal_private_key(shared_key(KeyAlgorithm::ec_p256), kPass, "x");
  ASSERT_TRUE(a && b);
  EXPECT_NE(*a, *b);
  EXPECT_NE(header_of(*a)["kdf"]["salt"], header_of(*b)["kdf"]["salt"]);
}

TEST(SealedKey, UnsealsWithSurroundingText) {
  auto r = unseal_private_key("Root key, sealed 2024-01-01\n\n" + sealed_ec() + "\n-- end of file\n", kPass);
  EXPECT_TRUE(r) << r.error().to_string();
}

// ---- refusals when sealing -------------------------------------------------------------------------------

TEST(SealPrivateKey, RefusesShortPassphrase) {
  auto r = seal_private_key(shared_key(KeyAlgorithm::ec_p256), "elevenchars", "x");
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, Errc::invalid_argument);
  EXPECT_TRUE(seal_private_key(shared_key(KeyAlgorithm::ec_p256), "twelve chars", "x"));
  EXPECT_FALSE(seal_private_key(shared_key(KeyAlgorithm::ec_p256), "", "x"));
}

TEST(SealPrivateKey, RefusesUnsupportedKeyTypes) {
  crypto::PKey p521(EVP_PKEY_Q_keygen(nullptr, nullptr, "EC", "P-521"));
  crypto::PKey ed(EVP_PKEY_Q_keygen(nullptr, nullptr, "ED25519"));
  ASSERT_TRUE(p521 && ed);
  for (EVP_PKEY* k : {p521.get(), ed.get()}) {
    auto r = seal_private_key(k, kPass, "x");
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error().code, Errc::unsupported_key_type);
  }
}

// ---- refusals when unsealing ---------------------------------------------------------------------------------

TEST(UnsealPrivateKey, FailsWithWrongPassphrase) {
  for (const char* wrong : {"correct horse battery stapler", "Correct horse battery staple", ""}) {
    auto r = unseal_private_key(sealed_ec(), wrong);
    ASSERT_FALSE(r) << wrong;
    EXPECT_EQ(r.error().code, Errc::wrong_passphrase);
  }
}

TEST(UnsealPrivateKey, LeavesInfoUntouched_OnFailure) {
  SealedKeyInfo info{"before", "before"};
  EXPECT_FALSE(unseal_private_key(sealed_ec(), "wrong passphrase!", &info));
  EXPECT_EQ(info.label, "before");
}

TEST(UnsealPrivateKey, FailsWhenLabelEdited) {
  json h = header_of(sealed_ec());
  h["label"] = "tls-ca";
  auto r = unseal_private_key(armor(h), kPass);
  ASSERT_FALSE(r) << "edited label accepted";
  EXPECT_EQ(r.error().code, Errc::wrong_passphrase);
}

TEST(UnsealPrivateKey, FailsWhenAlgorithmEdited) {
  json h = header_of(sealed_ec());
  h["algorithm"] = "rsa4096";
  auto r = unseal_private_key(armor(h), kPass);
  ASSERT_FALSE(r) << "edited algorithm accepted";
  EXPECT_EQ(r.error().code, Errc::wrong_passphrase);
}

TEST(UnsealPrivateKey, FailsWhenLabelAndAlgorithmShiftAcrossTheSeparator) {
  // label "root:ca" + algorithm "ec-p256" and label "root" + algorithm "ca:ec-p256" must not
  // authenticate to the same associated data.
  json h = header_of(sealed_ec("root:ca"));
  h["label"] = "root";
  h["algorithm"] = "ca:ec-p256";
  SealedKeyInfo info;
  auto r = unseal_private_key(armor(h), kPass, &info);
  EXPECT_FALSE(r) << "regression: src/keys/sealed_key.cpp:18 aad_for joins label and algorithm with ':' unescaped; the "
                     "header was edited to label=\""
                  << info.label << "\" algorithm=\"" << info.algorithm << "\" and still unsealed";
}

TEST(UnsealPrivateKey, FailsWhenSealedBytesEdited) {
  json h = header_of(sealed_ec());
  auto sealed = *crypto::from_base64(h["sealed"].get<std::string>());
  sealed[sealed.size() / 2] ^= 0x80;
  h["sealed"] = crypto::to_base64(sealed);
  auto r = unseal_private_key(armor(h), kPass);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, Errc::wrong_passphrase);
}

TEST(UnsealPrivateKey, FailsWhenSaltEdited) {
  json h = header_of(sealed_ec());
  h["kdf"]["salt"] = crypto::to_base64(crypto::Bytes(16, 7));
  auto r = unseal_private_key(armor(h), kPass);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, Errc::wrong_passphrase);
}

struct Malformed {
  const char* name;
  std::string input;
};

std::vector<Malformed> malformed_inputs() {
  const std::string good = sealed_ec();
  std::vector<Malformed> v;
  v.push_back({"Empty", ""});
  v.push_back({"Garbage", "this is not a sealed key"});
  v.push_back({"PrivateKeyPem", "-----BEGIN PRIVATE KEY-----\nMIGHAgEA\n-----END PRIVATE KEY-----\n"});
  v.push_back({"MissingEnd", good.substr(0, good.find(kEnd))});
  v.push_back({"MissingBegin", good.substr(good.find('\n') + 1)});
  v.push_back({"EndBeforeBegin", std::string(kEnd) + "\n" + kBegin + "\n"});
  v.push_back({"BodyNotBase64", std::string(kBegin) + "\n!!!notbase64!!!\n" + kEnd + "\n"});
  v.push_back({"BodyNotJson", armor(std::string("not json at all"))});
  v.push_back({"BodyJsonArray", armor(std::string("[1,2,3]"))});
  json h = header_of(good);
  auto edited = [&](const std::function<void(json&)>& f) {
    json c = h;
    f(c);
    return armor(c);
  };
  v.push_back({"VersionTwo", edited([](json& j) { j["v"] = 2; })});
  v.push_back({"VersionMissing", edited([](json& j) { j.erase("v"); })});
  v.push_back({"KdfNotScrypt", edited([](json& j) { j["kdf"]["name"] = "argon2id"; })});
  v.push_back({"KdfMissing", edited([](json& j) { j.erase("kdf"); })});
  v.push_back({"KdfNotObject", edited([](json& j) { j["kdf"] = "scrypt"; })});
  v.push_back({"SaltMissing", edited([](json& j) { j["kdf"].erase("salt"); })});
  v.push_back({"SaltNotBase64", edited([](json& j) { j["kdf"]["salt"] = "***"; })});
  v.push_back({"SealedMissing", edited([](json& j) { j.erase("sealed"); })});
  v.push_back({"SealedNotString", edited([](json& j) { j["sealed"] = 42; })});
  v.push_back({"LabelMissing", edited([](json& j) { j.erase("label"); })});
  v.push_back({"LabelNotString", edited([](json& j) { j["label"] = json::array(); })});
  v.push_back({"NNotNumber", edited([](json& j) { j["kdf"]["n"] = "65536"; })});
  v.push_back({"NTooSmall", edited([](json& j) { j["kdf"]["n"] = 16; })});
  v.push_back({"NHuge", edited([](json& j) { j["kdf"]["n"] = std::uint64_t{1} << 40; })});
  v.push_back({"NNegative", edited([](json& j) { j["kdf"]["n"] = -1; })});
  v.push_back({"RHuge", edited([](json& j) { j["kdf"]["r"] = 1000000; })});
  v.push_back({"PHuge", edited([](json& j) { j["kdf"]["p"] = 1000000; })});
  return v;
}

TEST(UnsealPrivateKey, RejectsMalformedInputWithMalformedInput) {
  for (const auto& m : malformed_inputs()) {
    auto r = unseal_private_key(m.input, kPass);
    ASSERT_FALSE(r) << m.name << " accepted";
    EXPECT_EQ(r.error().code, Errc::malformed_input) << m.name << ": " << r.error().to_string();
  }
}

// Header fields of the wrong JSON type must come back as malformed_input, not escape as an
// exception: json::value("v", 0) throws type_error when "v" exists with another type.
TEST(UnsealPrivateKey, RejectsMistypedVersionOrKdfName_WithoutThrowing) {
  json h = header_of(sealed_ec());
  struct Case {
    const char* name;
    std::function<void(json&)> edit;
  };
  const Case cases[] = {
      {"VersionString", [](json& j) { j["v"] = "1"; }},
      {"VersionNull", [](json& j) { j["v"] = nullptr; }},
      {"KdfNameNumber", [](json& j) { j["kdf"]["name"] = 7; }},
  };
  for (const auto& c : cases) {
    json e = h;
    c.edit(e);
    try {
      auto r = unseal_private_key(armor(e), kPass);
      ASSERT_FALSE(r) << c.name;
      EXPECT_EQ(r.error().code, Errc::malformed_input) << c.name;
    } catch (const std::exception& ex) {
      ADD_FAILURE() << "regression: src/keys/sealed_key.cpp:62-63 unseal_private_key header check (j.value(\"v\", 0) / "
                       "j[\"kdf\"].value(\"name\", \"\")) runs outside the try block and throws for "
                    << c.name << ": " << ex.what();
    }
  }
}

// Degenerate scrypt parameters are a damaged header, not a crypto failure.
TEST(UnsealPrivateKey, RejectsDegenerateKdfParamsAsMalformed) {
  json h = header_of(sealed_ec());
  struct Case {
    const char* name;
    std::function<void(json&)> edit;
  };
  const Case cases[] = {
      {"RZero", [](json& j) { j["kdf"]["r"] = 0; }},
      {"PZero", [](json& j) { j["kdf"]["p"] = 0; }},
      {"NNotPowerOfTwo", [](json& j) { j["kdf"]["n"] = 65537; }},
  };
  for (const auto& c : cases) {
    json e = h;
    c.edit(e);
    auto r = unseal_private_key(armor(e), kPass);
    ASSERT_FALSE(r) << c.name;
    EXPECT_EQ(r.error().code, Errc::malformed_input)
        << "regression: src/keys/sealed_key.cpp:72 KDF range check lets " << c.name << " through to scrypt: "
        << r.error().to_string();
  }
}

// The range check allows N = 2^22 with r = 32: 128 * r * N = 16 GiB per attempt. Run in a
// child with an address-space limit so a too-generous check fails fast instead of eating RAM.
[[noreturn, maybe_unused]] void unseal_with_2gib_limit_and_exit(const std::string& input) {
  rlimit lim{};
  lim.rlim_cur = lim.rlim_max = rlim_t{2} << 30;
  setrlimit(RLIMIT_AS, &lim);
  auto r = unseal_private_key(input, kPass);
  std::fprintf(stderr, "result=%s\n", r ? "ok" : std::string(core::errc_name(r.error().code)).c_str());
  std::exit(0);
}

TEST(UnsealPrivateKeyDeathTest, RejectsKdfParamsNeedingGigabytes) {
#if defined(__SANITIZE_ADDRESS__)
  GTEST_SKIP() << "RLIMIT_AS cannot be used under AddressSanitizer; covered by the plain build";
#else
  GTEST_FLAG_SET(death_test_style, "threadsafe");
  json h = header_of(sealed_ec());
  h["kdf"]["n"] = 1u << 22;
  h["kdf"]["r"] = 32;
  h["kdf"]["p"] = 16;
  const std::string input = armor(h);
  EXPECT_EXIT(unseal_with_2gib_limit_and_exit(input), ::testing::ExitedWithCode(0), "result=input\\.malformed")
      << "regression: src/keys/sealed_key.cpp:72 accepts n=2^22, r=32, p=16 (16 GiB and 16 passes of scrypt per attempt)";
#endif
}

}  // namespace
}  // namespace cartorio::keys
