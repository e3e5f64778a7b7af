// The installation's secret key files (identity data key, download-link key): created only
// when asked (init), 0600, read back unchanged, refused when missing, malformed or exposed.
#include "app/documents_setup.h"
#include "app/identity_setup.h"
#include "app/secret_key_file.h"

#include "crypto/bytes.h"
#include "support/test_support.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <thread>

#include <sys/stat.h>

namespace cartorio::app {
namespace {

namespace fs = std::filesystem;
using core::Errc;
using testing::expect_contains;

unsigned mode_of(const fs::path& p) {
  struct stat st {};
  EXPECT_EQ(::stat(p.c_str(), &st), 0) << p;
  return st.st_mode & 07777;
}

class SecretKeyFileTest : public ::testing::Test {
 protected:
  SecretKeyFileTest() { m_config.data_dir = m_dir.str(); }

  testing::TempDir m_dir;
  core::Config m_config;
};

TEST_F(SecretKeyFileTest, LinksKey_IsNotInitialized_WhenMissing_NamingFileAndKey) {
  auto r = load_download_links_key(m_config);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, Errc::not_initialized);
  expect_contains(r.error().message, (m_dir / "links.key").string());
  expect_contains(r.error().message, "documents.link_key_file");
  expect_contains(r.error().message, "openssl rand -hex 32");
  EXPECT_FALSE(fs::exists(m_dir / "links.key")) << "only init creates the key";
}

TEST_F(SecretKeyFileTest, LinksKey_IsCreated0600_WhenAsked_ThenReadBackUnchanged) {
  const mode_t old_umask = ::umask(0);  // 0600 by itself, not by the umask's grace
  auto made = load_download_links_key(m_config, /*create=*/true);
  ::umask(old_umask);
  ASSERT_OK(made);
  EXPECT_EQ(made->size(), 32u);
  const fs::path file = m_dir / "links.key";
  EXPECT_EQ(mode_of(file), 0600u);
  const std::string text = testing::read_file(file);
  EXPECT_EQ(text, crypto::to_hex(made->view()) + "\n");
  // Nothing else left beside it (the temp file is gone).
  EXPECT_EQ(std::distance(fs::directory_iterator(m_dir.path()), fs::directory_iterator()), 1);

  auto again = load_download_links_key(m_config);
  ASSERT_OK(again);
  EXPECT_EQ(crypto::to_hex(again->view()), crypto::to_hex(made->view()));
  auto recreate = load_download_links_key(m_config, /*create=*/true);  // never replaces an existing key
  ASSERT_OK(recreate);
  EXPECT_EQ(crypto::to_hex(recreate->view()), crypto::to_hex(made->view()));
}

TEST_F(SecretKeyFileTest, LinksKey_FollowsTheConfiguredPath) {
  m_config.documents.link_key_file = "secrets/dl.key";
  ASSERT_OK(load_download_links_key(m_config, /*create=*/true));
  EXPECT_EQ(mode_of(m_dir / "secrets" / "dl.key"), 0600u);
  EXPECT_EQ(mode_of(m_dir / "secrets"), 0700u);
  EXPECT_FALSE(fs::exists(m_dir / "links.key"));
}

TEST_F(SecretKeyFileTest, LinksAndIdentityKeys_AreDistinctFiles) {
  auto links = load_download_links_key(m_config, /*create=*/true);
  auto identity = identity_data_key(m_config, /*create=*/true);
  ASSERT_OK(links);
  ASSERT_OK(identity);
  EXPECT_NE(crypto::to_hex(links->view()), crypto::to_hex(identity->view()));
  EXPECT_EQ(mode_of(m_dir / "identity.key"), 0600u);
}

TEST_F(SecretKeyFileTest, Refuses_KeyReadableByOthers) {
  ASSERT_OK(load_download_links_key(m_config, /*create=*/true));
  ASSERT_EQ(::chmod((m_dir / "links.key").c_str(), 0640), 0);
  auto r = load_download_links_key(m_config);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, Errc::config_invalid);
  expect_contains(r.error().message, "chmod 600");
}

TEST_F(SecretKeyFileTest, Refuses_MalformedKey) {
  for (const std::string& bad : {std::string(""), std::string(62, 'a') + "\n", std::string(66, 'a') + "\n",
                                 std::string(64, 'z') + "\n", std::string("not a key\n")}) {
    testing::write_file(m_dir / "links.key", bad);
    ::chmod((m_dir / "links.key").c_str(), 0600);
    auto r = load_download_links_key(m_config);
    ASSERT_FALSE(r) << bad;
    EXPECT_EQ(r.error().code, Errc::config_invalid) << bad;
    expect_contains(r.error().message, "download link key must be 64 hex digits");
  }
  testing::write_file(m_dir / "links.key", std::string(64, 'A') + "\r\n");  // typed by hand: fine
  ASSERT_OK(load_download_links_key(m_config));
}

TEST_F(SecretKeyFileTest, ConcurrentCreators_AgreeOnOneKey) {
  constexpr int kThreads = 6;
  std::vector<std::string> seen(kThreads);
  std::vector<std::thread> threads;
  for (int i = 0; i < kThreads; ++i)
    threads.emplace_back([&, i] {
      auto k = read_secret_key_file({(m_dir / "race.key").string(), "test.key_file", "test key", ""}, true);
      seen[static_cast<std::size_t>(i)] = k ? crypto::to_hex(k->view()) : k.error().to_string();
    });
  for (auto& t : threads) t.join();
  for (const auto& s : seen) EXPECT_EQ(s, seen.front());
  EXPECT_EQ(seen.front().size(), 64u);
}

}  // namespace
}  // namespace cartorio::app
