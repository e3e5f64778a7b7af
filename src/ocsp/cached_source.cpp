#include "ocsp/cached_source.h"

#include "core/log.h"
#include "crypto/x509.h"
#include "ocsp/detail/ocsp_common.h"

#include <openssl/evp.h>
#include <openssl/objects.h>

#include <algorithm>
#include <cstring>
#include <mutex>

namespace cartorio::ocsp {

using core::Errc;

namespace {

// RFC 5280 allows 20-octet serials: 40 hex digits. Longer ones are not ours; leave them to
// the inner source (which answers unknown) instead of spending cache keys on them.
constexpr std::size_t kMaxSerialHex = 40;
constexpr char kFormat = '1';  // first byte of a cached value: the layout below

// Cached value: kFormat, thisUpdate and nextUpdate (8 bytes each, big-endian unix seconds),
// then the DER response.
std::string encode(const OcspResult& r) {
  std::string out(1, kFormat);
  for (const auto t : {*r.this_update, *r.next_update}) {
    const auto v = static_cast<std::uint64_t>(core::to_unix(t));
    for (int shift = 56; shift >= 0; shift -= 8) out.push_back(static_cast<char>((v >> shift) & 0xff));
  }
  out.append(reinterpret_cast<const char*>(r.der.data()), r.der.size());
  return out;
}

std::optional<OcspResult> decode(const std::string& value) {
  if (value.size() <= 17 || value[0] != kFormat) return std::nullopt;
  auto read_time = [&](std::size_t at) {
    std::uint64_t v = 0;
    for (std::size_t i = 0; i < 8; ++i) v = (v << 8) | static_cast<unsigned char>(value[at + i]);
    return core::from_unix(static_cast<std::int64_t>(v));
  };
  OcspResult r;
  r.status = ResponseStatus::successful;
  r.this_update = read_time(1);
  r.next_update = read_time(9);
  r.cacheable = true;
  r.der.assign(value.begin() + 17, value.end());
  return r;
}

crypto::Bytes id_der(const OCSP_CERTID* id) {
  unsigned char* buf = nullptr;
  const int len = i2d_OCSP_CERTID(const_cast<OCSP_CERTID*>(id), &buf);
  if (len <= 0) return {};
  crypto::Bytes out(buf, buf + len);
  OPENSSL_free(buf);
  return out;
}

// Whether `der` (a SEQUENCE) declares exactly `content` bytes of content, in DER's shortest
// length form.
bool der_length_is(const crypto::Bytes& der, std::size_t content) {
  if (der.size() < 2) return false;
  if (content < 0x80) return der[1] == content;
  std::size_t n = 0, octets = der[1] & 0x7f;
  if ((der[1] & 0x80) == 0 || octets == 0 || octets > sizeof(std::size_t) || der.size() < 2 + octets || der[2] == 0)
    return false;
  for (std::size_t i = 0; i < octets; ++i) n = (n << 8) | der[2 + i];
  return n == content;
}

const char* digest_name(const EVP_MD* md) {
  switch (EVP_MD_get_type(md)) {
    case NID_sha1: return "sha1";
    case NID_sha256: return "sha256";
    default: return nullptr;
  }
}

crypto::OcspCertId canonical_id(const EVP_MD* md, const X509* ca, const ASN1_INTEGER* serial) {
  return crypto::OcspCertId(OCSP_cert_id_new(md, X509_get_subject_name(ca), X509_get0_pubkey_bitstr(ca), serial));
}

}  // namespace

// DER "30 len <fields> 02 01 00" of the CertID for serial 0 -> <fields>.
std::vector<CachedSource::CertIdPrefix> CachedSource::cert_id_prefixes(const X509* ca) {
  std::vector<CertIdPrefix> out;
  crypto::Asn1Integer zero(ASN1_INTEGER_new());
  if (!ca || !zero || ASN1_INTEGER_set(zero.get(), 0) != 1) return out;
  for (const EVP_MD* md : {EVP_sha1(), EVP_sha256()}) {
    auto id = canonical_id(md, ca, zero.get());
    const auto der = id ? id_der(id.get()) : crypto::Bytes{};
    if (der.size() < 2 + 3 || der[0] != 0x30) continue;
    const std::size_t header = (der[1] & 0x80) ? 2 + (der[1] & 0x7f) : 2;
    if (der.size() < header + 3) continue;
    out.push_back({md, digest_name(md), crypto::Bytes(der.begin() + static_cast<std::ptrdiff_t>(header), der.end() - 3)});
  }
  return out;
}

CachedSource::CachedSource(std::string ca, crypto::X509Ptr ca_cert, std::shared_ptr<ResponseSource> inner,
                           cache::Cache& cache, const core::Clock& clock, CachedSourceOptions options)
    : m_ca(std::move(ca)),
      m_ca_cert(std::move(ca_cert)),
      m_prefixes(cert_id_prefixes(m_ca_cert.get())),
      m_inner(std::move(inner)),
      m_cache(cache),
      m_clock(clock),
      m_options(options) {}

std::optional<std::uint64_t> CachedSource::epoch() const {
  return m_options.epoch ? std::optional<std::uint64_t>(m_options.epoch->load()) : std::nullopt;
}

std::string CachedSource::key(std::string_view digest, const std::string& serial,
                              const std::optional<std::uint64_t> epoch) const {
  std::string k = "ocsp:" + m_ca + ":" + std::string(digest) + ":" + serial;
  if (epoch) k += ":e" + std::to_string(*epoch);
  return k;
}

std::optional<std::string> CachedSource::key_for(const ::ocsp_cert_id_st* id,
                                                 const std::optional<std::uint64_t> epoch) const {
  ASN1_OBJECT* md_oid = nullptr;
  ASN1_INTEGER* serial = nullptr;
  if (OCSP_id_get0_info(nullptr, &md_oid, nullptr, &serial, const_cast<OCSP_CERTID*>(id)) != 1 || !md_oid ||
      !serial)
    return std::nullopt;
  const int md_nid = OBJ_obj2nid(md_oid);
  const auto prefix = std::find_if(m_prefixes.begin(), m_prefixes.end(),
                                   [md_nid](const CertIdPrefix& p) { return EVP_MD_get_type(p.md) == md_nid; });
  if (prefix == m_prefixes.end()) return std::nullopt;
  const std::string serial_hex = crypto::serial_hex(serial);
  if (serial_hex.empty() || serial_hex.size() > kMaxSerialHex) return std::nullopt;
  // Byte-for-byte the CertID this CA's certificate yields: right issuer, and the cached
  // response (which echoes the CertID it was made for) is exactly what this request needs.
  const auto given = id_der(id);
  unsigned char* serial_der = nullptr;
  const int serial_len = i2d_ASN1_INTEGER(serial, &serial_der);
  if (serial_len <= 0) return std::nullopt;
  const std::size_t content = prefix->fields.size() + static_cast<std::size_t>(serial_len);
  const std::size_t header = given.size() >= 2 && (given[1] & 0x80) ? 2 + (given[1] & 0x7f) : 2;
  const bool same = given.size() == header + content && given[0] == 0x30 &&
                    std::equal(prefix->fields.begin(), prefix->fields.end(), given.begin() + static_cast<std::ptrdiff_t>(header)) &&
                    std::memcmp(given.data() + header + prefix->fields.size(), serial_der, static_cast<std::size_t>(serial_len)) == 0 &&
                    der_length_is(given, content);
  OPENSSL_free(serial_der);
  if (!same) return std::nullopt;
  return key(prefix->name, serial_hex, epoch);
}

std::optional<OcspResult> CachedSource::answer_by_request(crypto::ByteView request_der, const std::uint64_t epoch,
                                                          const core::TimePoint now, std::uint64_t& generation) {
  const std::string_view bytes(reinterpret_cast<const char*>(request_der.data()), request_der.size());
  std::shared_lock lock(m_requests_mutex);
  generation = m_requests_generation;
  const auto it = m_requests.find(bytes);
  if (it == m_requests.end() || it->second.epoch != epoch || it->second.expires <= now) return std::nullopt;
  return *it->second.result;
}

void CachedSource::forget_requests() {
  std::unique_lock lock(m_requests_mutex);
  ++m_requests_generation;
  m_requests.clear();
}

void CachedSource::remember_request(crypto::ByteView request_der, const OcspResult& result, const Stamp stamp,
                                    const core::TimePoint expires) {
  if (expires - m_clock.now() < std::chrono::seconds(1)) return;
  auto kept = std::make_shared<OcspResult>(result);
  if (kept->etag.empty()) kept->etag = entity_tag(kept->der);
  std::string bytes(reinterpret_cast<const char*>(request_der.data()), request_der.size());
  std::unique_lock lock(m_requests_mutex);
  // An answer read before a refresh() finished may be the one it replaced.
  if (stamp.generation != m_requests_generation) return;
  // Varied encodings of one question can fill the set; starting again bounds the memory.
  if (m_requests.size() >= m_options.request_entries) m_requests.clear();
  m_requests.insert_or_assign(std::move(bytes), RequestEntry{std::move(kept), stamp.epoch, expires});
}

OcspResult CachedSource::respond(crypto::ByteView request_der) {
  const auto now = m_clock.now();
  const auto epoch = this->epoch();
  std::optional<Stamp> stamp;
  if (epoch && m_options.request_entries > 0) {
    stamp = Stamp{*epoch, 0};
    if (auto kept = answer_by_request(request_der, *epoch, now, stamp->generation)) {
      m_hits.fetch_add(1, std::memory_order_relaxed);
      return std::move(*kept);
    }
  }
  std::optional<std::string> k;
  if (auto req = detail::parse_request(request_der);
      req && OCSP_REQUEST_get_ext_by_NID(req.get(), NID_id_pkix_OCSP_Nonce, -1) < 0) {
    const auto ids = detail::cert_ids(req.get());
    if (ids.size() == 1) k = key_for(ids[0], epoch);
  }
  if (!k) {
    m_bypassed.fetch_add(1, std::memory_order_relaxed);
    return m_inner->respond(request_der);
  }
  auto cached = m_cache.get(*k);
  if (!cached) {
    m_errors.fetch_add(1, std::memory_order_relaxed);
    core::log::warn("ocsp.cache_failed", {{"ca", m_ca}, {"error", cached.error().to_string()}});
  } else if (*cached) {
    if (auto hit = decode(**cached); hit && *hit->next_update > now) {
      m_hits.fetch_add(1, std::memory_order_relaxed);
      // The cache entry's own expiry is not known here; the TTL from now is as long as the
      // entry could have been kept anyway, and nextUpdate still bounds it.
      if (stamp) remember_request(request_der, *hit, *stamp, std::min(*hit->next_update, now + m_options.ttl));
      return std::move(*hit);
    }
  }
  m_misses.fetch_add(1, std::memory_order_relaxed);
  OcspResult fresh = m_inner->respond(request_der);
  if (const auto expires = store(*k, fresh); expires && stamp) remember_request(request_der, fresh, *stamp, *expires);
  return fresh;
}

std::optional<core::TimePoint> CachedSource::store(const std::string& k, const OcspResult& result) {
  if (result.status != ResponseStatus::successful || !result.cacheable || !result.this_update ||
      !result.next_update)
    return std::nullopt;
  const auto now = m_clock.now();
  const auto left = std::chrono::duration_cast<cache::Ttl>(*result.next_update - now);
  const auto ttl = std::min<cache::Ttl>(m_options.ttl, left);
  if (ttl < std::chrono::seconds(1)) return std::nullopt;  // about to expire: not worth keeping
  if (auto r = m_cache.set(k, encode(result), ttl); !r) {
    m_errors.fetch_add(1, std::memory_order_relaxed);
    core::log::warn("ocsp.cache_failed", {{"ca", m_ca}, {"error", r.error().to_string()}});
    return std::nullopt;
  }
  return now + ttl;
}

core::Result<void> CachedSource::refresh(const std::string& serial_text) {
  CARTORIO_TRY(auto serial_int, crypto::serial_from_hex(serial_text));
  // The answers kept by request bytes cannot be found by serial: once the entries are
  // replaced (or this fails half-way), drop them all.
  struct ForgetRequests {
    CachedSource& source;
    ~ForgetRequests() { source.forget_requests(); }
  } forget{*this};
  const std::string serial = crypto::serial_hex(serial_int.get());
  for (const EVP_MD* md : {EVP_sha1(), EVP_sha256()}) {
    crypto::OcspRequest req(OCSP_REQUEST_new());
    auto id = canonical_id(md, m_ca_cert.get(), serial_int.get());
    if (!req || !id || !OCSP_request_add0_id(req.get(), id.get()))
      return {Errc::internal, "building an OCSP request failed"};
    (void)id.release();  // owned by the request now (add0 takes it only when it succeeds)
    unsigned char* buf = nullptr;
    const int len = i2d_OCSP_REQUEST(req.get(), &buf);
    if (len <= 0) return {Errc::internal, "encoding an OCSP request failed"};
    crypto::Bytes der(buf, buf + len);
    OPENSSL_free(buf);

    const std::string k = key(digest_name(md), serial, epoch());
    const OcspResult fresh = m_inner->respond(der);
    if (fresh.status == ResponseStatus::successful && fresh.cacheable) {
      const auto left = std::chrono::duration_cast<cache::Ttl>(*fresh.next_update - m_clock.now());
      CARTORIO_TRY_VOID(m_cache.set(k, encode(fresh), std::min<cache::Ttl>(m_options.ttl, left)));
    } else {
      CARTORIO_TRY(bool erased, m_cache.erase(k));
      (void)erased;
    }
  }
  return core::ok();
}

CacheStats CachedSource::stats() const {
  return {m_hits.load(), m_misses.load(), m_bypassed.load(), m_errors.load()};
}

}  // namespace cartorio::ocsp
