#include "core/error.h"

#include <gtest/gtest.h>

#include <memory>
#include <set>
#include <string>
#include <tuple>

namespace cartorio::core {
namespace {

// ---- Result<T> ---------------------------------------------------------------------------

TEST(Result, HoldsValue_WhenBuiltFromValue) {
  Result<int> r = 42;
  ASSERT_TRUE(r.has_value());
  EXPECT_TRUE(static_cast<bool>(r));
  EXPECT_EQ(r.value(), 42);
  EXPECT_EQ(*r, 42);
}

TEST(Result, HoldsError_WhenBuiltFromError) {
  Result<int> r = Error{Errc::not_found, "no such thing"};
  ASSERT_FALSE(r.has_value());
  EXPECT_FALSE(static_cast<bool>(r));
  EXPECT_EQ(r.error().code, Errc::not_found);
  EXPECT_EQ(r.error().message, "no such thing");
}

TEST(Result, HoldsError_WhenBuiltFromCodeAndMessage) {
  Result<std::string> r{Errc::weak_key, "too short"};
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, Errc::weak_key);
  EXPECT_EQ(r.error().message, "too short");
}

TEST(Result, MovesOutMoveOnlyValue) {
  Result<std::unique_ptr<int>> r = std::make_unique<int>(7);
  ASSERT_TRUE(r);
  std::unique_ptr<int> p = std::move(r).value();
  ASSERT_NE(p, nullptr);
  EXPECT_EQ(*p, 7);
}

TEST(Result, ArrowReachesMembers) {
  Result<std::string> r = std::string("abc");
  EXPECT_EQ(r->size(), 3u);
}

TEST(Result, VoidResult_DefaultsToSuccess) {
  Result<void> r;
  EXPECT_TRUE(r.has_value());
  EXPECT_TRUE(ok().has_value());
}

TEST(Result, VoidResult_CarriesError) {
  Result<void> r{Errc::io_error, "disk full"};
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, Errc::io_error);
  EXPECT_EQ(r.error().message, "disk full");
}

TEST(ResultDeathTest, AbortsWithTheError_WhenValueReadFromError) {
  GTEST_FLAG_SET(death_test_style, "threadsafe");
  Result<int> r{Errc::csr_bad_signature, "broken"};
  EXPECT_DEATH((void)r.value(), "value\\(\\) on an error result: csr.bad_signature: broken");
}

TEST(Error, ToStringIsNameColonMessage) {
  EXPECT_EQ(Error(Errc::csr_bad_signature, "the CSR signature does not verify").to_string(),
            "csr.bad_signature: the CSR signature does not verify");
}

TEST(Error, DefaultsToInternal) {
  Error e;
  EXPECT_EQ(e.code, Errc::internal);
  EXPECT_TRUE(e.message.empty());
}

// ---- CARTORIO_TRY ------------------------------------------------------------------------

Result<int> parse_positive(int v) {
  if (v <= 0) return Error{Errc::invalid_argument, "not positive: " + std::to_string(v)};
  return v;
}

Result<int> doubled(int v, int* reached_after_try) {
  CARTORIO_TRY(int x, parse_positive(v));
  ++*reached_after_try;
  return 2 * x;
}

Result<void> require_positive(int a) {
  if (a <= 0) return {Errc::invalid_argument, "a"};
  return ok();
}

Result<void> check_both(int a, int b, int* steps) {
  CARTORIO_TRY_VOID(require_positive(a));
  ++*steps;
  CARTORIO_TRY(int y, parse_positive(b));
  // two TRYs on different lines in one scope must not collide
  CARTORIO_TRY(int z, parse_positive(y));
  *steps += z;
  return ok();
}

Result<std::unique_ptr<int>> make_boxed(int v) {
  if (v < 0) return Error{Errc::not_found, "negative"};
  return std::make_unique<int>(v);
}

Result<int> unbox(int v) {
  CARTORIO_TRY(auto p, make_boxed(v));  // moves a move-only value out
  return *p;
}

TEST(CartorioTry, PassesValueThrough_WhenOk) {
  int reached = 0;
  auto r = doubled(21, &reached);
  ASSERT_TRUE(r);
  EXPECT_EQ(*r, 42);
  EXPECT_EQ(reached, 1);
}

TEST(CartorioTry, ReturnsTheSameError_WhenFailed) {
  int reached = 0;
  auto r = doubled(-3, &reached);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, Errc::invalid_argument);
  EXPECT_EQ(r.error().message, "not positive: -3");
  EXPECT_EQ(reached, 0) << "code after a failed CARTORIO_TRY must not run";
}

TEST(CartorioTry, VoidAndValueTriesCompose) {
  int steps = 0;
  EXPECT_TRUE(check_both(1, 5, &steps));
  EXPECT_EQ(steps, 6);

  steps = 0;
  auto first = check_both(0, 5, &steps);
  ASSERT_FALSE(first);
  EXPECT_EQ(first.error().message, "a");
  EXPECT_EQ(steps, 0);

  steps = 0;
  auto second = check_both(1, -1, &steps);
  ASSERT_FALSE(second);
  EXPECT_EQ(second.error().message, "not positive: -1");
  EXPECT_EQ(steps, 1);
}

TEST(CartorioTry, MovesMoveOnlyValues) {
  auto r = unbox(9);
  ASSERT_TRUE(r);
  EXPECT_EQ(*r, 9);
  auto e = unbox(-1);
  ASSERT_FALSE(e);
  EXPECT_EQ(e.error().code, Errc::not_found);
}

// ---- errc_name: stable numeric values and stable names ------------------------------------

// Scripts and API clients match on both; changing a row here is a breaking change.
const std::tuple<Errc, int, const char*> kErrcTable[] = {
    {Errc::invalid_argument, 100, "input.invalid_argument"},
    {Errc::malformed_input, 101, "input.malformed"},
    {Errc::malformed_csr, 110, "csr.malformed"},
    {Errc::csr_bad_signature, 111, "csr.bad_signature"},
    {Errc::weak_key, 112, "csr.weak_key"},
    {Errc::unsupported_key_type, 113, "csr.unsupported_key_type"},
    {Errc::invalid_san, 114, "csr.invalid_san"},
    {Errc::profile_violation, 115, "profile.violation"},
    {Errc::unknown_profile, 116, "profile.unknown"},
    {Errc::invalid_serial, 117, "input.invalid_serial"},
    {Errc::invalid_reason, 118, "input.invalid_reason"},
    {Errc::invalid_cpf, 119, "input.invalid_cpf"},
    {Errc::not_a_pdf, 130, "pdf.not_pdf"},
    {Errc::pdf_malformed, 131, "pdf.malformed"},
    {Errc::pdf_encrypted, 132, "pdf.encrypted"},
    {Errc::pdf_too_large, 133, "pdf.too_large"},
    {Errc::pdf_unsupported, 134, "pdf.unsupported"},
    {Errc::link_invalid, 140, "link.invalid"},
    {Errc::link_expired, 141, "link.expired"},
    {Errc::backup_invalid, 150, "backup.invalid"},
    {Errc::backup_wrong_key, 151, "backup.wrong_key"},
    {Errc::unauthenticated, 200, "auth.unauthenticated"},
    {Errc::permission_denied, 201, "auth.permission_denied"},
    {Errc::wrong_passphrase, 202, "auth.wrong_passphrase"},
    {Errc::key_not_found, 300, "keys.not_found"},
    {Errc::key_backend, 301, "keys.backend"},
    {Errc::not_supported, 302, "keys.not_supported"},
    {Errc::key_sealed, 303, "keys.sealed"},
    {Errc::not_found, 400, "store.not_found"},
    {Errc::already_exists, 401, "store.already_exists"},
    {Errc::conflict, 402, "store.conflict"},
    {Errc::store_unavailable, 403, "store.unavailable"},
    {Errc::store_error, 404, "store.error"},
    {Errc::migration_failed, 405, "store.migration_failed"},
    {Errc::ca_offline, 500, "pki.ca_offline"},
    {Errc::ca_not_found, 501, "pki.ca_not_found"},
    {Errc::already_revoked, 502, "pki.already_revoked"},
    {Errc::not_initialized, 503, "pki.not_initialized"},
    {Errc::already_initialized, 504, "pki.already_initialized"},
    {Errc::config_invalid, 600, "config.invalid"},
    {Errc::tsa_error, 700, "tsa.error"},
    {Errc::tsa_unavailable, 701, "tsa.unavailable"},
    {Errc::audit_tampered, 505, "audit.tampered"},
    {Errc::internal, 900, "internal"},
    {Errc::io_error, 901, "io.error"},
    {Errc::crypto_error, 902, "crypto.error"},
    {Errc::timed_out, 903, "operation.timed_out"},
};

TEST(ErrcName, EveryCodeHasItsStableNameAndValue) {
  for (const auto& [code, value, name] : kErrcTable) {
    EXPECT_EQ(static_cast<int>(code), value) << name;
    EXPECT_EQ(errc_name(code), name) << "code " << value;
  }
}

TEST(ErrcName, NamesAreUniqueAndDotted) {
  std::set<std::string_view> seen;
  for (const auto& [code, value, name] : kErrcTable) {
    auto n = errc_name(code);
    EXPECT_TRUE(seen.insert(n).second) << "duplicate name " << n;
    if (code != Errc::internal) {
      EXPECT_NE(n.find('.'), std::string_view::npos) << n;
    }
  }
}

TEST(ErrcName, EveryEnumeratorIsInTheTable) {
  // Walk the whole numeric range: a value errc_name knows (not "internal") must be listed
  // above, so a new Errc cannot ship without a stable-name test.
  std::set<int> listed;
  for (const auto& row : kErrcTable) listed.insert(std::get<1>(row));
  for (int v = 0; v < 1000; ++v) {
    auto n = errc_name(static_cast<Errc>(v));
    if (n != "internal") {
      EXPECT_TRUE(listed.count(v)) << "Errc " << v << " (" << n << ") is missing from kErrcTable";
    }
  }
}

TEST(ErrcName, UnknownValueMapsToInternal) {
  EXPECT_EQ(errc_name(static_cast<Errc>(12345)), "internal");
}

}  // namespace
}  // namespace cartorio::core
