// The object store through the binary: an installation on the filesystem (embedded) or on
// the fixture's S3 server (CARTORIO_TEST_BACKENDS=s3) keeps its objects encrypted at rest
// (the raw bytes, read with curl or from disk, are not what the CLI serves), keeps their
// versions, rotates its data key without losing a read, and runs its lifecycle rules.
#include "support/test_support.h"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <random>

namespace {

using cartorio::testing::CommandResult;
using cartorio::testing::run;
using cartorio::testing::shell_quote;
using cartorio::testing::TempDir;
using cartorio::testing::write_file;
namespace fs = std::filesystem;

bool s3_mode() {
  const char* b = std::getenv("CARTORIO_TEST_BACKENDS");
  return b && std::string(b) == "s3";
}

std::string line_of(const fs::path& file) {
  std::ifstream in(file);
  std::string line;
  std::getline(in, line);
  return line;
}

std::string read_all(const fs::path& file) {
  std::ifstream in(file, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), {}};
}

class CliObjects : public ::testing::Test {
 protected:
  void SetUp() override {
    m_env = "CARTORIO_DATA_DIR=" + shell_quote((m_dir.path() / "data").string()) +
            " CARTORIO_PKI_PUBLIC_BASE_URL=http://notary.test.example ";
    if (s3_mode()) {
      const char* dir = std::getenv("CARTORIO_TEST_S3_DIR");
      ASSERT_TRUE(dir && *dir) << "CARTORIO_TEST_S3_DIR is not set: run through ctest (fixture s3)";
      m_endpoint = line_of(fs::path(dir) / "endpoint");
      m_access = line_of(fs::path(dir) / "access_key");
      m_secret = line_of(fs::path(dir) / "secret_key");
      m_bucket = "cli-objects-" + std::to_string(std::random_device{}());
      m_env += "CARTORIO_OBJECTS_BACKEND=s3 CARTORIO_OBJECTS_S3_ENDPOINT=http://" + m_endpoint +
               " CARTORIO_OBJECTS_S3_BUCKET=" + m_bucket + " CARTORIO_OBJECTS_S3_ACCESS_KEY=" + shell_quote(m_access) +
               " CARTORIO_OBJECTS_S3_SECRET_KEY=" + shell_quote(m_secret) + " ";
    }
    write_file(m_dir.path() / "passphrase", "correct horse battery staple 2026\n");
    auto r = cartorio("init --root-passphrase-file " + shell_quote((m_dir.path() / "passphrase").string()));
    ASSERT_EQ(r.exit_code, 0) << r.err << r.out;
  }

  CommandResult cartorio(const std::string& args) { return run(m_env + CARTORIO_BIN " " + args); }

  // The object's bytes as the backend holds them: the file on disk, or a signed GET.
  std::string raw_object(const std::string& key) {
    if (!s3_mode()) return read_all(m_dir.path() / "data" / "objects" / (key + "#obj"));
    std::string user = m_access;
    for (std::size_t at; (at = user.find(':')) != std::string::npos;) user.replace(at, 1, "%3A");
    auto r = run("curl -sf --aws-sigv4 aws:amz:us-east-1:s3 -H 'x-amz-content-sha256: UNSIGNED-PAYLOAD' " +
                 shell_quote("http://" + user + ":" + m_secret + "@" + m_endpoint + "/" + m_bucket + "/" + key));
    EXPECT_EQ(r.exit_code, 0) << r.err;
    return r.out;
  }

  std::string crl_der() {
    const auto out = m_dir.path() / "tls.crl";
    auto r = cartorio("crl show --ca tls --der --out " + shell_quote(out.string()));
    EXPECT_EQ(r.exit_code, 0) << r.err;
    return read_all(out);
  }

  TempDir m_dir;
  std::string m_env;
  std::string m_endpoint, m_access, m_secret, m_bucket;
};

TEST_F(CliObjects, StoredBytes_AreNotThePlaintext_YetTheCrlServes) {
  const std::string der = crl_der();
  ASSERT_GT(der.size(), 100u);
  auto r = run("openssl crl -inform DER -noout -issuer -in " + shell_quote((m_dir.path() / "tls.crl").string()));
  EXPECT_EQ(r.exit_code, 0) << r.err;
  const std::string raw = raw_object("crl/tls.crl");
  ASSERT_FALSE(raw.empty());
  EXPECT_EQ(raw.find(der), std::string::npos) << "the CRL is stored in clear";
  EXPECT_EQ(raw.find(der.substr(0, 32)), std::string::npos) << "a piece of the CRL is stored in clear";
  EXPECT_EQ(raw.find("TLS CA"), std::string::npos);
}

TEST_F(CliObjects, Republishing_KeepsEveryVersion) {
  ASSERT_EQ(cartorio("crl generate --ca tls").exit_code, 0);
  ASSERT_EQ(cartorio("crl generate --ca tls").exit_code, 0);
  auto r = cartorio("objects versions crl/tls.crl");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  auto versions = nlohmann::json::parse(r.out);
  ASSERT_GE(versions.size(), 3u) << r.out;
  EXPECT_TRUE(versions[0]["latest"].get<bool>());
  for (std::size_t i = 1; i < versions.size(); ++i) EXPECT_FALSE(versions[i]["latest"].get<bool>());
}

TEST_F(CliObjects, DataKeyRotation_KeepsOldObjectsReadable_AndReencryptMovesThem) {
  const std::string before = crl_der();
  auto rotated = cartorio("objects rotate-data-key");
  ASSERT_EQ(rotated.exit_code, 0) << rotated.err;
  EXPECT_EQ(rotated.out.rfind("dk-", 0), 0u) << rotated.out;
  EXPECT_EQ(crl_der(), before) << "an object under the retired data key still reads";
  auto re = cartorio("objects reencrypt");
  ASSERT_EQ(re.exit_code, 0) << re.err;
  EXPECT_NE(re.out.find("re-encrypted"), std::string::npos) << re.out;
  EXPECT_NE(re.out.rfind("0 objects", 0), 0u) << "objects written at init were under the old key: " << re.out;
  EXPECT_EQ(crl_der(), before);
  auto again = cartorio("objects reencrypt");
  ASSERT_EQ(again.exit_code, 0) << again.err;
  EXPECT_EQ(again.out.rfind("0 objects", 0), 0u) << "everything is under the active key now: " << again.out;
}

TEST_F(CliObjects, Lifecycle_DryRun_OnAFreshInstallation_DoesNothing) {
  auto r = cartorio("objects lifecycle --dry-run --json");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  auto report = nlohmann::json::parse(r.out);
  EXPECT_TRUE(report["dry_run"].get<bool>());
  EXPECT_GT(report["keys_examined"].get<int>(), 0);
  EXPECT_TRUE(report["actions"].empty()) << r.out;
  EXPECT_TRUE(report["failures"].empty()) << r.out;
}

TEST_F(CliObjects, BadLifecycleRules_AreAConfigError) {
  auto r = run(m_env + "CARTORIO_OBJECTS_LIFECYCLE_RULES='docs/=freeze:3' " CARTORIO_BIN " objects lifecycle");
  EXPECT_EQ(r.exit_code, 8) << r.out << r.err;
  EXPECT_NE(r.err.find("config.invalid"), std::string::npos) << r.err;
}

}  // namespace
