// Lifecycle rules over a versioned ObjectStore (S3's lifecycle configuration, run by our
// own job because not every S3-compatible server has one, and the filesystem has none):
//
//   cold_after       a current object older than this moves to the cold tier: copied there
//                    (bytes, content type, metadata, plus its original time), then erased
//                    from the hot store (a delete marker: reads fall through to the cold
//                    tier, see TieredObjectStore)
//   expire_after     a version or delete marker older than this is deleted for good (the
//                    end of the legal retention period); in the cold tier, by the time the
//                    object was first written
//   noncurrent_after a noncurrent version is deleted this long after a newer one replaced
//                    it (history nobody needs, e.g. a checkpoint rewritten every 5 minutes)
//
// Rules match keys by prefix, the longest matching prefix wins; a key no rule matches is
// left alone. Ages come from the injected clock against each version's last_modified, so
// tests move time instead of waiting. A dry run reports the same actions and changes
// nothing. One key's failure is reported and the run goes on with the next.
//
// The runner works on the raw backends, beneath any EncryptedObjectStore: it moves
// ciphertext and its envelope as they are, so no data key is needed to tier or expire.
#pragma once

#include "core/clock.h"
#include "core/error.h"
#include "objectstore/object_store.h"

#include <chrono>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace cartorio::objectstore {

using Days = std::chrono::days;

struct LifecycleRule {
  std::string prefix;  // may be empty: every key
  std::optional<Days> cold_after;
  std::optional<Days> expire_after;
  std::optional<Days> noncurrent_after;
  bool operator==(const LifecycleRule&) const = default;
};

// "PREFIX=cold:90,expire:2555; audit-logs/=noncurrent:30" (days; spaces ignored; an empty
// PREFIX is every key). Errc::config_invalid naming the bad part.
core::Result<std::vector<LifecycleRule>> parse_lifecycle_rules(std::string_view text);
std::string format_lifecycle_rules(const std::vector<LifecycleRule>& rules);

// The metadata name carrying an object's original time (Unix seconds) in the cold tier.
inline constexpr std::string_view kOriginalTimeMetadata = "lifecycle-created";

struct LifecycleAction {
  enum class Kind { move_to_cold, expire, expire_noncurrent, expire_cold };
  Kind kind;
  std::string key;
  std::string version_id;  // the version acted on (the current one for a move)
};
std::string_view to_string(LifecycleAction::Kind kind);

struct LifecycleReport {
  bool dry_run = false;
  std::size_t keys_examined = 0;
  std::vector<LifecycleAction> actions;  // done, or for a dry run what would be done
  std::vector<std::string> failures;     // "key: error", one per key that failed
  std::size_t count(LifecycleAction::Kind kind) const;
};

class Lifecycle {
 public:
  // `cold` may be null: no tiering (cold_after rules are then ignored, and say so in the
  // report's failures once). Both stores and the clock must outlive the runner.
  Lifecycle(ObjectStore& hot, ObjectStore* cold, std::vector<LifecycleRule> rules, const core::Clock& clock);

  // Errc from listing a store (the run cannot go on); per-key failures are in the report.
  core::Result<LifecycleReport> run(bool dry_run);

 private:
  const LifecycleRule* rule_for(std::string_view key) const;
  core::Result<void> apply_hot(const std::string& key, const LifecycleRule& rule, bool dry_run, LifecycleReport& out);
  core::Result<void> apply_cold(const std::string& key, const LifecycleRule& rule, bool dry_run, LifecycleReport& out);
  core::Result<void> move_to_cold(const std::string& key, const VersionEntry& current);

  ObjectStore& m_hot;
  ObjectStore* m_cold;
  std::vector<LifecycleRule> m_rules;
  const core::Clock& m_clock;
};

}  // namespace cartorio::objectstore
