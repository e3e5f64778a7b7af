// CachedSource: keeps signed OCSP responses in a cache::Cache (in-process or Redis) so a
// repeated question costs a cache read instead of a signature.
//
// What is cached: answers to requests with exactly one CertID, no nonce, in the canonical
// form this CA's certificates produce (SHA-1 or SHA-256 CertID, issuer hashes of this CA).
// Anything else (nonces, several CertIDs, other hashes or encodings, foreign issuers,
// garbage) goes to the inner source every time, so the cache never answers a question it
// was not asked. Keys: "ocsp:<ca>:<sha1|sha256>:<serial>", plus ":e<epoch>" when an epoch
// counter is given (see below). Entries live `ttl`, and never beyond the response's
// nextUpdate.
//
// Revocation must take effect at once, not after the TTL: whoever revokes calls refresh(),
// which signs fresh answers for the serial and *replaces* the entries. That reaches every
// instance when the cache is shared (Redis). A process-local cache in another process (the
// server, when `cartorio cert revoke` runs beside it) is reached through the epoch: a
// core::SharedCounter the revoker bumps; entries made under an older epoch are no longer
// looked up. Pass the epoch only for process-local caches (a shared cache keyed by one
// machine's epoch would stop being shared).
//
// With an epoch (a process-local cache), the latest answers are also kept by the exact bytes
// of the request that got them: RFC 5019 clients repeat the same request byte for byte, and a
// repeated one then skips the parse, the CertID match and the cache read. These entries carry
// the epoch they were made under and the cache entry's lifetime, and refresh() drops them all.
//
// Cache failures never fail a request: the answer is computed by the inner source and the
// failure logged. Thread-safe.
#pragma once

#include "cache/cache.h"
#include "core/clock.h"
#include "core/shared_counter.h"
#include "crypto/bytes.h"
#include "crypto/ossl.h"
#include "ocsp/response_source.h"

#include <atomic>
#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <shared_mutex>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

namespace cartorio::ocsp {

struct CachedSourceOptions {
  std::chrono::seconds ttl = std::chrono::minutes(5);
  const core::SharedCounter* epoch = nullptr;  // process-local caches only; must outlive the source
  // With an epoch: how many answers are kept by request bytes (when full, they are all
  // dropped and the set starts again). 0 turns this off.
  std::size_t request_entries = 4096;
};

struct CacheStats {
  std::uint64_t hits = 0;
  std::uint64_t misses = 0;    // cacheable questions answered by the inner source
  std::uint64_t bypassed = 0;  // questions the cache may not answer (nonce, several CertIDs...)
  std::uint64_t errors = 0;    // cache calls that failed (answers still computed)
};

class CachedSource final : public ResponseSource {
 public:
  // `ca_cert` is the certificate of the CA `inner` answers for.
  CachedSource(std::string ca, crypto::X509Ptr ca_cert, std::shared_ptr<ResponseSource> inner, cache::Cache& cache,
               const core::Clock& clock, CachedSourceOptions options = {});

  OcspResult respond(crypto::ByteView request_der) override;

  // Signs fresh answers for `serial` (SHA-1 and SHA-256 CertIDs) and replaces the cached
  // ones; an answer that cannot be cached (e.g. tryLater) erases the entry instead.
  // Errc::invalid_serial for bad hex; cache errors are returned (the caller decides
  // whether a revocation must warn about them).
  core::Result<void> refresh(const std::string& serial);

  const std::string& ca() const { return m_ca; }
  CacheStats stats() const;

 private:
  // The cache key for a canonical single CertID of this CA; nullopt for anything else.
  std::optional<std::string> key_for(const ::ocsp_cert_id_st* id, std::optional<std::uint64_t> epoch) const;
  std::string key(std::string_view digest, const std::string& serial, std::optional<std::uint64_t> epoch) const;
  // Puts a cacheable answer in the cache; when it did, returns when the entry expires.
  std::optional<core::TimePoint> store(const std::string& key, const OcspResult& result);
  std::optional<std::uint64_t> epoch() const;

  // The answers kept by request bytes (see above).
  struct RequestEntry {
    std::shared_ptr<const OcspResult> result;  // etag filled in
    std::uint64_t epoch = 0;
    core::TimePoint expires;
  };
  struct BytesHash {
    using is_transparent = void;
    std::size_t operator()(std::string_view bytes) const noexcept { return std::hash<std::string_view>{}(bytes); }
  };
  // When an answer was looked up: the epoch, and how many times refresh() had dropped the set.
  struct Stamp {
    std::uint64_t epoch = 0;
    std::uint64_t generation = 0;
  };
  // Under one shared lock: the kept answer when it is still good, and (always) the
  // generation an answer found by the slow path is to be stamped with.
  std::optional<OcspResult> answer_by_request(crypto::ByteView request_der, std::uint64_t epoch, core::TimePoint now,
                                              std::uint64_t& generation);
  void remember_request(crypto::ByteView request_der, const OcspResult& result, Stamp stamp, core::TimePoint expires);
  void forget_requests();

  // The DER of a canonical CertID of this CA up to its serial (hashAlgorithm, issuerNameHash,
  // issuerKeyHash), per hash: computed once, so a lookup compares bytes instead of hashing
  // the CA's name and key for every request.
  struct CertIdPrefix {
    const EVP_MD* md = nullptr;
    const char* name = nullptr;  // "sha1", "sha256": part of the cache key
    crypto::Bytes fields;
  };
  static std::vector<CertIdPrefix> cert_id_prefixes(const X509* ca);

  std::string m_ca;
  crypto::X509Ptr m_ca_cert;
  std::vector<CertIdPrefix> m_prefixes;
  std::shared_ptr<ResponseSource> m_inner;
  cache::Cache& m_cache;
  const core::Clock& m_clock;
  CachedSourceOptions m_options;
  std::atomic<std::uint64_t> m_hits{0}, m_misses{0}, m_bypassed{0}, m_errors{0};
  std::shared_mutex m_requests_mutex;
  std::unordered_map<std::string, RequestEntry, BytesHash, std::equal_to<>> m_requests;
  std::uint64_t m_requests_generation = 0;  // guarded by m_requests_mutex
};

}  // namespace cartorio::ocsp
