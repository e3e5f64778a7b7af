#include "objectstore/lifecycle.h"

#include <algorithm>
#include <charconv>
#include <functional>

namespace cartorio::objectstore {
using core::Errc;

namespace {

std::string_view trim(std::string_view s) {
  while (!s.empty() && s.front() == ' ') s.remove_prefix(1);
  while (!s.empty() && s.back() == ' ') s.remove_suffix(1);
  return s;
}

std::vector<std::string_view> split(std::string_view s, char sep) {
  std::vector<std::string_view> out;
  for (std::size_t start = 0;;) {
    const auto at = s.find(sep, start);
    out.push_back(trim(s.substr(start, at == std::string_view::npos ? s.npos : at - start)));
    if (at == std::string_view::npos) return out;
    start = at + 1;
  }
}

core::Result<std::vector<VersionEntry>> all_versions(ObjectStore& store, const std::string& key) {
  std::vector<VersionEntry> out;
  std::string after;
  for (;;) {
    CARTORIO_TRY(auto page, store.list_versions(key, kMaxListLimit, after));
    out.insert(out.end(), std::make_move_iterator(page.entries.begin()), std::make_move_iterator(page.entries.end()));
    if (!page.truncated) return out;
    after = page.next_after_version;
  }
}

core::Result<void> for_each_versioned_key(ObjectStore& store, const std::function<void(const std::string&)>& fn) {
  std::string after;
  for (;;) {
    CARTORIO_TRY(auto page, store.list_versioned_keys({}, kMaxListLimit, after));
    for (const auto& e : page.entries) fn(e.key);
    if (!page.truncated) return core::ok();
    after = page.next_start_after;
  }
}

}  // namespace

core::Result<std::vector<LifecycleRule>> parse_lifecycle_rules(std::string_view text) {
  std::vector<LifecycleRule> rules;
  auto bad = [](std::string_view part, const std::string& why) {
    return core::Error(Errc::config_invalid, "lifecycle rule \"" + std::string(part) + "\": " + why);
  };
  for (auto part : split(text, ';')) {
    if (part.empty()) continue;
    const auto eq = part.find('=');
    if (eq == std::string_view::npos) return bad(part, "expected PREFIX=action:days,...");
    LifecycleRule rule;
    rule.prefix = std::string(trim(part.substr(0, eq)));
    if (!rule.prefix.empty() && !check_prefix(rule.prefix)) return bad(part, "the prefix has characters keys cannot have");
    // "PREFIX=" with no action keeps its keys as they are (the longest prefix wins, so it
    // exempts them from a broader rule).
    const auto actions = trim(part.substr(eq + 1));
    for (auto action : actions.empty() ? std::vector<std::string_view>{} : split(actions, ',')) {
      const auto colon = action.find(':');
      if (colon == std::string_view::npos) return bad(part, "expected action:days, got \"" + std::string(action) + "\"");
      const auto name = trim(action.substr(0, colon));
      const auto value = trim(action.substr(colon + 1));
      int days = 0;
      auto [p, ec] = std::from_chars(value.data(), value.data() + value.size(), days);
      if (value.empty() || ec != std::errc() || p != value.data() + value.size() || days < 1 || days > 100 * 366)
        return bad(part, "days must be a whole number from 1 to 36600, got \"" + std::string(value) + "\"");
      std::optional<Days>* slot = name == "cold"         ? &rule.cold_after
                                  : name == "expire"     ? &rule.expire_after
                                  : name == "noncurrent" ? &rule.noncurrent_after
                                                         : nullptr;
      if (!slot) return bad(part, "unknown action \"" + std::string(name) + "\" (cold, expire, noncurrent)");
      if (*slot) return bad(part, "\"" + std::string(name) + "\" given twice");
      *slot = Days(days);
    }
    if (rule.cold_after && rule.expire_after && *rule.cold_after >= *rule.expire_after)
      return bad(part, "cold must come before expire");
    if (std::any_of(rules.begin(), rules.end(), [&](const auto& r) { return r.prefix == rule.prefix; }))
      return bad(part, "a second rule for the same prefix");
    rules.push_back(std::move(rule));
  }
  return rules;
}

std::string format_lifecycle_rules(const std::vector<LifecycleRule>& rules) {
  std::string out;
  for (const auto& r : rules) {
    if (!out.empty()) out += "; ";
    out += r.prefix + "=";
    std::string actions;
    auto add = [&](const char* name, const std::optional<Days>& d) {
      if (d) actions += (actions.empty() ? "" : ",") + std::string(name) + ":" + std::to_string(d->count());
    };
    add("cold", r.cold_after);
    add("expire", r.expire_after);
    add("noncurrent", r.noncurrent_after);
    out += actions;
  }
  return out;
}

std::string_view to_string(LifecycleAction::Kind kind) {
  switch (kind) {
    case LifecycleAction::Kind::move_to_cold: return "move-to-cold";
    case LifecycleAction::Kind::expire: return "expire";
    case LifecycleAction::Kind::expire_noncurrent: return "expire-noncurrent";
    case LifecycleAction::Kind::expire_cold: return "expire-cold";
  }
  return "?";
}

std::size_t LifecycleReport::count(LifecycleAction::Kind kind) const {
  return static_cast<std::size_t>(std::count_if(actions.begin(), actions.end(), [&](const auto& a) { return a.kind == kind; }));
}

Lifecycle::Lifecycle(ObjectStore& hot, ObjectStore* cold, std::vector<LifecycleRule> rules, const core::Clock& clock)
    : m_hot(hot), m_cold(cold), m_rules(std::move(rules)), m_clock(clock) {}

const LifecycleRule* Lifecycle::rule_for(std::string_view key) const {
  const LifecycleRule* best = nullptr;
  for (const auto& r : m_rules)
    if (key.starts_with(r.prefix) && (!best || r.prefix.size() > best->prefix.size())) best = &r;
  return best;
}

core::Result<LifecycleReport> Lifecycle::run(bool dry_run) {
  LifecycleReport report;
  report.dry_run = dry_run;
  if (!m_cold && std::any_of(m_rules.begin(), m_rules.end(), [](const auto& r) { return r.cold_after.has_value(); }))
    report.failures.push_back("cold rules skipped: no cold tier is configured");
  auto walk = [&](ObjectStore& store, bool hot) {
    return for_each_versioned_key(store, [&](const std::string& key) {
      const LifecycleRule* rule = rule_for(key);
      if (!rule) return;
      ++report.keys_examined;
      auto done = hot ? apply_hot(key, *rule, dry_run, report) : apply_cold(key, *rule, dry_run, report);
      if (!done) report.failures.push_back(key + ": " + done.error().to_string());
    });
  };
  CARTORIO_TRY_VOID(walk(m_hot, true));
  if (m_cold) CARTORIO_TRY_VOID(walk(*m_cold, false));
  return report;
}

core::Result<void> Lifecycle::apply_hot(const std::string& key, const LifecycleRule& rule, bool dry_run,
                                        LifecycleReport& out) {
  CARTORIO_TRY(const auto versions, all_versions(m_hot, key));
  if (versions.empty()) return core::ok();
  const auto now = m_clock.now();
  auto older_than = [&](core::TimePoint t, const std::optional<Days>& limit) { return limit && now - t > *limit; };
  using Kind = LifecycleAction::Kind;
  std::vector<LifecycleAction> plan;
  const auto& current = versions.front();
  const bool expired_current = older_than(current.last_modified, rule.expire_after);
  if (m_cold && !current.delete_marker && !expired_current && older_than(current.last_modified, rule.cold_after))
    plan.push_back({Kind::move_to_cold, key, current.version_id});
  std::size_t kept = 0;
  const VersionEntry* kept_entry = nullptr;
  for (std::size_t i = 0; i < versions.size(); ++i) {
    const auto& v = versions[i];
    // A noncurrent version's age counts from when the next newer one replaced it.
    if (older_than(v.last_modified, rule.expire_after)) {
      plan.push_back({Kind::expire, key, v.version_id});
    } else if (i > 0 && older_than(versions[i - 1].last_modified, rule.noncurrent_after)) {
      plan.push_back({Kind::expire_noncurrent, key, v.version_id});
    } else {
      ++kept;
      kept_entry = &v;
    }
  }
  // A delete marker with nothing left beneath it only says "absent": drop it too (S3's
  // expired object delete marker).
  if (kept == 1 && kept_entry == &current && current.delete_marker) plan.push_back({Kind::expire, key, current.version_id});

  for (const auto& action : plan) {
    if (!dry_run) {
      if (action.kind == Kind::move_to_cold) {
        CARTORIO_TRY_VOID(move_to_cold(key, current));
      } else {
        CARTORIO_TRY_VOID(m_hot.erase_version(key, action.version_id));
      }
    }
    out.actions.push_back(action);
  }
  return core::ok();
}

core::Result<void> Lifecycle::move_to_cold(const std::string& key, const VersionEntry& current) {
  CARTORIO_TRY(auto object, m_hot.get_version(key, current.version_id));
  PutOptions options;
  options.content_type = object.info.content_type;
  options.metadata = object.info.metadata;
  options.metadata.emplace(std::string(kOriginalTimeMetadata), std::to_string(core::to_unix(object.info.last_modified)));
  options.sha256_hex = object.info.etag;
  CARTORIO_TRY_VOID(m_cold->put(key, object.data, options));
  // Only if nobody wrote the key since it was listed: a newer object stays hot.
  CARTORIO_TRY(auto now_current, m_hot.head(key));
  if (now_current.version_id != current.version_id) return core::ok();
  CARTORIO_TRY_VOID(m_hot.erase(key));
  return core::ok();
}

core::Result<void> Lifecycle::apply_cold(const std::string& key, const LifecycleRule& rule, bool dry_run,
                                         LifecycleReport& out) {
  if (!rule.expire_after) return core::ok();
  CARTORIO_TRY(const auto versions, all_versions(*m_cold, key));
  const auto now = m_clock.now();
  // The retention period runs from when the object was first written, which the move
  // recorded in the current version's metadata (a head(), no download). Other versions
  // and markers count from their own time in the cold tier: later than their creation,
  // so they are never deleted early.
  auto created = [&](const VersionEntry& v) -> core::TimePoint {
    if (&v != &versions.front() || v.delete_marker) return v.last_modified;
    auto info = m_cold->head(key);
    if (!info || info->version_id != v.version_id) return v.last_modified;
    auto it = info->metadata.find(std::string(kOriginalTimeMetadata));
    long long t = 0;
    if (it == info->metadata.end()) return v.last_modified;
    auto [p, ec] = std::from_chars(it->second.data(), it->second.data() + it->second.size(), t);
    if (ec != std::errc() || p != it->second.data() + it->second.size()) return v.last_modified;
    return core::from_unix(t);
  };
  for (const auto& v : versions) {
    if (now - created(v) <= *rule.expire_after) continue;
    if (!dry_run) CARTORIO_TRY_VOID(m_cold->erase_version(key, v.version_id));
    out.actions.push_back({LifecycleAction::Kind::expire_cold, key, v.version_id});
  }
  return core::ok();
}

}  // namespace cartorio::objectstore
