#include "acme/acme_server.h"

#include "acme/jws.h"
#include "acme/nonces.h"
#include "core/log.h"
#include "crypto/primitives.h"
#include "crypto/x509.h"
#include "pki/certificate_json.h"
#include "pki/csr_validator.h"
#include "pki/profile.h"

#include <nlohmann/json.hpp>

#include <openssl/x509.h>

#include <algorithm>
#include <condition_variable>
#include <deque>
#include <mutex>
#include <set>
#include <thread>
#include <type_traits>

namespace cartorio::acme {

using core::Errc;
using http::Method;
using http::Request;
using http::Response;
using nlohmann::json;

namespace {

constexpr std::string_view kErrorPrefix = "urn:ietf:params:acme:error:";
constexpr std::size_t kMaxIdentifiers = 100;
constexpr std::size_t kMaxContacts = 10;
constexpr std::string_view kProfile = "tls-server";
constexpr std::string_view kIssuer = "tls";
// Payload JSON nests at most this deep (newAccount with its binding is 3).
constexpr int kMaxPayloadDepth = 8;
// Validations waiting for a thread; beyond it a challenge stays pending and the client retries.
constexpr std::size_t kMaxQueuedValidations = 256;

struct Problem {
  int status = 400;
  std::string type;  // without kErrorPrefix
  std::string detail;
};

Response problem_response(const Problem& p) {
  json j = {{"type", std::string(kErrorPrefix) + p.type}, {"detail", p.detail}, {"status", p.status}};
  return Response::bytes("application/problem+json", j.dump(-1, ' ', false, json::error_handler_t::replace), p.status);
}

// Our stable error codes, as RFC 8555 6.7 error types.
Problem problem_for(const core::Error& e) {
  switch (e.code) {
    case Errc::malformed_input:
    case Errc::invalid_argument:
      return {400, "malformed", e.message};
    case Errc::not_supported:
      return {400, "badSignatureAlgorithm", e.message};
    case Errc::weak_key:
    case Errc::unsupported_key_type:
      return {400, "badPublicKey", e.message};
    case Errc::unauthenticated:
      return {403, "unauthorized", e.message};
    case Errc::malformed_csr:
    case Errc::csr_bad_signature:
    case Errc::invalid_san:
    case Errc::profile_violation:
      return {400, "badCSR", e.message};
    case Errc::already_revoked:
      return {400, "alreadyRevoked", e.message};
    case Errc::conflict:  // the account was deactivated by a request that committed first
      return {403, "unauthorized", "the account is no longer valid"};
    case Errc::not_found:
      return {404, "malformed", e.message};
    default:
      // Internal detail (store errors, paths) stays in the log.
      core::log::error("acme.internal_error", {{"code", std::string(core::errc_name(e.code))}, {"message", e.message}});
      return {500, "serverInternal", "the server could not complete the request"};
  }
}

std::string random_id(std::size_t bytes = 16) { return crypto::to_base64url(crypto::random_bytes(bytes)); }

bool valid_host(std::string_view host) {
  return !host.empty() && host.size() <= 255 && std::all_of(host.begin(), host.end(), [](char c) {
    return std::isalnum(static_cast<unsigned char>(c)) || c == '.' || c == '-' || c == ':' || c == '[' || c == ']';
  });
}

std::string rfc3339(std::int64_t t) { return pki::iso8601(t); }

// The account id in ".../acme/account/<id>", "" when `url` is not an account URL of `base`.
std::string account_id_from_url(const std::string& base, const std::string& url) {
  const std::string prefix = base + "/acme/account/";
  if (url.rfind(prefix, 0) != 0) return {};
  std::string id = url.substr(prefix.size());
  if (id.empty() || id.find('/') != std::string::npos) return {};
  return id;
}

bool allowed_reason(int reason) {
  // RFC 5280 codes a subscriber may give (certificateHold and removeFromCRL are not offered).
  return reason == 0 || reason == 1 || reason == 3 || reason == 4 || reason == 5;
}

}  // namespace

class AcmeServer::Impl {
 public:
  Impl(AcmeServices s, AcmeOptions o)
      : m_s(std::move(s)),
        m_o(std::move(o)),
        m_nonces(*m_s.cache, *m_s.clock, std::chrono::duration_cast<std::chrono::seconds>(m_o.nonce_lifetime)) {
    for (int i = 0; i < std::max(1, m_o.validation_threads); ++i) m_threads.emplace_back([this] { validation_loop(); });
  }
  ~Impl() {
    {
      std::lock_guard lock(m_mutex);
      m_stopping = true;
    }
    m_wake.notify_all();
    for (auto& t : m_threads) t.join();
  }

  core::Result<void> add_routes(http::Router& router);
  void wait_idle() {
    std::unique_lock lock(m_mutex);
    m_idle.wait(lock, [this] { return m_queue.empty() && m_running == 0; });
  }

 private:
  // One authenticated POST: the JWS, the key that signed it, and the account behind a kid.
  // Its implicit move constructor cannot throw (asserted below); clang-tidy 14 does not stop
  // at noexcept and reports what nlohmann::json's move constructor calls.
  struct Post {  // NOLINT(bugprone-exception-escape): noexcept, see above
    JwsMessage jws;
    std::optional<Jwk> key;  // jwk mode: the embedded key; kid mode: the account's
    std::optional<store::AcmeAccountRecord> account;
    std::string base;
    json payload;  // null for POST-as-GET
  };
  static_assert(std::is_nothrow_move_constructible_v<Post>);
  enum class KeyMode { kid, jwk, either };

  struct Validation {
    std::string account_id;
    std::string authorization_id;
    std::string challenge_id;
    std::string type;
    std::string name;
    std::string token;
    std::string key_authorization;
  };

  // --- plumbing ---
  core::Result<std::string> base(const Request& req) const {
    if (!m_o.base_url.empty()) return m_o.base_url;
    const auto host = req.header("Host");
    if (!host || !valid_host(*host)) return core::Error(Errc::malformed_input, "the request needs a valid Host header");
    return "https://" + std::string(*host);
  }
  std::string url(const std::string& base, std::string_view path) const { return base + "/acme/" + std::string(path); }

  core::Result<std::string> new_nonce() { return m_nonces.issue(); }
  // Every ACME response carries a fresh nonce and the directory link (RFC 8555 6.5, 7.1).
  Response finish(Response r, const std::string& base) {
    if (auto nonce = new_nonce()) r.set_header("Replay-Nonce", *nonce);
    r.set_header("Link", "<" + url(base, "directory") + ">;rel=\"index\"");
    r.set_header("Cache-Control", "no-store");
    return r;
  }
  Response fail(const Problem& p, const std::string& base) { return finish(problem_response(p), base); }
  Response fail(const core::Error& e, const std::string& base) { return fail(problem_for(e), base); }
  Response finish_status(const json& j, const std::string& base, int status) {
    return finish(Response::json(j.dump(), status), base);
  }

  std::optional<Response> authenticate(const Request& req, KeyMode mode, Post& out);
  store::AuditEvent event(const Request& req, const std::string& account_id, std::string action,
                          const std::string& target, const json& details) const {
    store::AuditEvent e;
    e.time = now();
    e.actor = "acme:account/" + account_id;
    e.action = std::move(action);
    e.target = target;
    e.result = "success";
    e.source = req.remote_address();
    e.request_id = req.request_id();
    e.details = details.dump();
    return e;
  }

  // --- resources ---
  json account_json(const store::AcmeAccountRecord& a, const std::string& base) const {
    return {{"status", a.status},
            {"contact", json::parse(a.contact_json, nullptr, false).is_array() ? json::parse(a.contact_json) : json::array()},
            {"orders", url(base, "account/" + a.id + "/orders")}};
  }
  json challenge_json(const store::AcmeChallengeRecord& c, const std::string& authz_id, const std::string& base) const {
    json j = {{"type", c.type},
              {"url", url(base, "challenge/" + authz_id + "/" + c.id)},
              {"token", c.token},
              {"status", c.status}};
    if (c.status == "valid" && c.validated_at) j["validated"] = rfc3339(*c.validated_at);
    if (!c.error_json.empty()) j["error"] = json::parse(c.error_json, nullptr, false);
    return j;
  }
  std::string authorization_status(const store::AcmeAuthorizationRecord& a) const {
    if ((a.status == "pending" || a.status == "valid") && a.expires_at <= now()) return "expired";
    return a.status;
  }
  json authorization_json(const store::AcmeAuthorizationRecord& a, const std::string& base) const {
    json challenges = json::array();
    for (const auto& c : a.challenges) challenges.push_back(challenge_json(c, a.id, base));
    json j = {{"identifier", {{"type", a.identifier_type}, {"value", a.identifier_value}}},
              {"status", authorization_status(a)},
              {"expires", rfc3339(a.expires_at)},
              {"challenges", challenges}};
    if (a.wildcard) j["wildcard"] = true;
    return j;
  }
  json order_json(const store::AcmeOrderRecord& o, const std::string& base) const {
    json authorizations = json::array();
    for (const auto& id : o.authorization_ids) authorizations.push_back(url(base, "authz/" + id));
    json j = {{"status", o.status},
              {"expires", rfc3339(o.expires_at)},
              {"identifiers", json::parse(o.identifiers_json, nullptr, false)},
              {"authorizations", authorizations},
              {"finalize", url(base, "order/" + o.id + "/finalize")}};
    if (!o.certificate_serial.empty()) j["certificate"] = url(base, "cert/" + o.certificate_serial);
    if (!o.error_json.empty()) j["error"] = json::parse(o.error_json, nullptr, false);
    return j;
  }

  std::int64_t now() const { return core::to_unix(m_s.clock->now()); }
  // Moves a pending order to ready (all authorizations valid) or invalid (one failed or
  // expired), and an expired pending/ready order to invalid. Compare-and-set: safe to race.
  core::Result<store::AcmeOrderRecord> refresh_order(store::AcmeOrderRecord order);

  Response directory(const Request& req);
  Response nonce(const Request& req);
  Response new_account(const Request& req);
  Response account(const Request& req);
  Response account_orders(const Request& req);
  Response key_change(const Request& req);
  Response new_order(const Request& req);
  Response order(const Request& req);
  Response authorization(const Request& req);
  Response challenge(const Request& req);
  Response finalize(const Request& req);
  Response certificate(const Request& req);
  Response revoke(const Request& req);

  core::Result<store::AcmeOrderRecord> owned_order(const Post& p, std::string_view id);
  core::Result<store::AcmeAuthorizationRecord> owned_authorization(const Post& p, std::string_view id);
  // 200/201 with the account and its URL in Location.
  Response account_reply(const store::AcmeAccountRecord& a, const std::string& base, int status) {
    Response r = finish_status(account_json(a, base), base, status);
    r.set_header("Location", url(base, "account/" + a.id));
    return r;
  }
  // Moves `c` from `from` to processing (compare-and-set) and queues its validation.
  core::Result<void> start_validation(const Post& p, const store::AcmeAuthorizationRecord& a,
                                      store::AcmeChallengeRecord& c, const std::string& from);
  core::Result<void> resume_stale(const Post& p, store::AcmeAuthorizationRecord& a);
  bool queue_full();
  void enqueue(Validation v);
  void validation_loop();
  void run_validation(const Validation& v);

  AcmeServices m_s;
  AcmeOptions m_o;
  NonceIssuer m_nonces;
  std::mutex m_mutex;
  std::condition_variable m_wake;
  std::condition_variable m_idle;
  std::deque<Validation> m_queue;
  int m_running = 0;
  bool m_stopping = false;
  std::vector<std::thread> m_threads;
};

std::optional<Response> AcmeServer::Impl::authenticate(const Request& req, KeyMode mode, Post& out) {
  auto b = base(req);
  if (!b) return problem_response(problem_for(b.error()));
  out.base = *b;
  const auto content_type = req.header("Content-Type");
  if (!content_type || content_type->substr(0, content_type->find(';')) != "application/jose+json")
    return fail(Problem{415, "malformed", "the Content-Type must be application/jose+json"}, out.base);
  auto jws = parse_jws(req.body());
  if (!jws) return fail(jws.error(), out.base);
  out.jws = std::move(*jws);
  if (out.jws.url != out.base + req.target())
    return fail(Problem{403, "unauthorized", "the JWS url is not the URL it was sent to"}, out.base);

  if (!out.jws.kid.empty()) {
    if (mode == KeyMode::jwk)
      return fail(Problem{400, "malformed", "this request must carry its key as jwk, not kid"}, out.base);
    const std::string id = account_id_from_url(out.base, out.jws.kid);
    if (id.empty()) return fail(Problem{400, "accountDoesNotExist", "kid is not an account URL of this server"}, out.base);
    auto account = m_s.store->get_acme_account(id);
    if (!account) {
      if (account.error().code == Errc::not_found)
        return fail(Problem{400, "accountDoesNotExist", "no account " + excerpt(id)}, out.base);
      return fail(account.error(), out.base);
    }
    if (account->status != "valid")
      return fail(Problem{403, "unauthorized", "the account is " + account->status}, out.base);
    auto key = parse_jwk_text(account->jwk_json);
    if (!key) return fail(key.error(), out.base);
    out.key = std::move(*key);
    out.account = std::move(*account);
  } else {
    if (mode == KeyMode::kid)
      return fail(Problem{400, "malformed", "this request must name its account with kid"}, out.base);
    out.key = std::move(*out.jws.jwk);
    out.jws.jwk.reset();
  }
  if (auto verified = verify_jws(out.jws, *out.key); !verified) {
    if (verified.error().code == Errc::not_supported) return fail(verified.error(), out.base);
    return fail(Problem{400, "malformed", "JWS verification failed: " + verified.error().message}, out.base);
  }
  // The nonce last: a forged request does not use up a client's nonce.
  auto fresh = m_nonces.redeem(out.jws.nonce);
  if (!fresh) return fail(fresh.error(), out.base);
  if (!*fresh) return fail(Problem{400, "badNonce", "the nonce is unknown, used or expired"}, out.base);

  if (!out.jws.post_as_get()) {
    if (!json_depth_within(out.jws.payload, kMaxPayloadDepth))
      return fail(Problem{400, "malformed", "the payload nests too deeply"}, out.base);
    out.payload = json::parse(out.jws.payload, nullptr, false);
    if (!out.payload.is_object()) return fail(Problem{400, "malformed", "the payload must be a JSON object"}, out.base);
  }
  return std::nullopt;
}

Response AcmeServer::Impl::directory(const Request& req) {
  auto b = base(req);
  if (!b) return problem_response(problem_for(b.error()));
  json j = {{"newNonce", url(*b, "new-nonce")},
            {"newAccount", url(*b, "new-account")},
            {"newOrder", url(*b, "new-order")},
            {"revokeCert", url(*b, "revoke-cert")},
            {"keyChange", url(*b, "key-change")},
            {"meta", {{"externalAccountRequired", m_o.require_eab}}}};
  return Response::json(j.dump());
}

Response AcmeServer::Impl::nonce(const Request& req) {
  auto b = base(req);
  if (!b) return problem_response(problem_for(b.error()));
  // HEAD answers 200, GET 204 (RFC 8555 7.2).
  Response r(req.method() == Method::head ? 200 : 204);
  return finish(std::move(r), *b);
}

Response AcmeServer::Impl::new_account(const Request& req) {
  Post p;
  if (auto refused = authenticate(req, KeyMode::jwk, p)) return std::move(*refused);
  if (p.payload.is_null()) return fail(Problem{400, "malformed", "newAccount needs a payload"}, p.base);
  const std::string& thumbprint = p.key->thumbprint;
  auto existing = m_s.store->find_acme_account_by_key(thumbprint);
  if (existing && existing->status != "valid")
    return fail(Problem{403, "unauthorized", "the account with this key is " + existing->status}, p.base);
  if (existing) return account_reply(*existing, p.base, 200);
  if (existing.error().code != Errc::not_found) return fail(existing.error(), p.base);
  const auto only_existing = p.payload.find("onlyReturnExisting");
  if (only_existing != p.payload.end() && !only_existing->is_boolean())
    return fail(Problem{400, "malformed", "onlyReturnExisting must be a boolean"}, p.base);
  if (only_existing != p.payload.end() && only_existing->get<bool>())
    return fail(Problem{400, "accountDoesNotExist", "no account has this key"}, p.base);

  json contact = json::array();
  if (p.payload.contains("contact")) {
    const auto& c = p.payload["contact"];
    if (!c.is_array() || c.size() > kMaxContacts)
      return fail(Problem{400, "invalidContact", "contact must be a list of at most 10 mailto: URLs"}, p.base);
    for (const auto& item : c) {
      if (!item.is_string()) return fail(Problem{400, "invalidContact", "contact entries are strings"}, p.base);
      const auto value = item.get<std::string>();
      if (value.rfind("mailto:", 0) != 0)
        return fail(Problem{400, "unsupportedContact", "only mailto: contacts are supported"}, p.base);
      if (!pki::is_valid_email(value.substr(7)))
        return fail(Problem{400, "invalidContact", "'" + excerpt(value) + "' is not a valid address"}, p.base);
      contact.push_back(value);
    }
  }

  std::string eab_kid;
  if (p.payload.contains("externalAccountBinding")) {
    const auto& binding = p.payload["externalAccountBinding"];
    if (!binding.is_object()) return fail(Problem{400, "malformed", "externalAccountBinding must be a JWS object"}, p.base);
    JwsParseOptions inner_options;
    inner_options.require_nonce = false;
    inner_options.allow_hmac = true;
    auto inner = parse_jws(binding.dump(), inner_options);
    if (!inner) return fail(inner.error(), p.base);
    if (inner->alg != "HS256" || inner->kid.empty())
      return fail(Problem{400, "malformed", "the binding must be HS256 with the EAB key id as kid"}, p.base);
    if (inner->url != p.jws.url)
      return fail(Problem{400, "malformed", "the binding's url must be the newAccount URL"}, p.base);
    auto bound_key = parse_jwk(json::parse(inner->payload, nullptr, false));
    if (!bound_key || bound_key->thumbprint != thumbprint)
      return fail(Problem{400, "malformed", "the binding must sign this account's key"}, p.base);
    auto hmac_key = m_s.eab_key ? m_s.eab_key(inner->kid) : core::Result<crypto::Bytes>(core::Error(Errc::not_found, ""));
    if (!hmac_key) {
      if (hmac_key.error().code != Errc::not_found) return fail(hmac_key.error(), p.base);
      return fail(Problem{403, "unauthorized", "unknown external account key id"}, p.base);
    }
    if (!verify_jws_hmac(*inner, *hmac_key))
      return fail(Problem{403, "unauthorized", "the external account binding does not verify"}, p.base);
    eab_kid = inner->kid;
  } else if (m_o.require_eab) {
    return fail(Problem{403, "externalAccountRequired", "this server registers accounts with an external account binding only"},
                p.base);
  }

  store::AcmeAccountRecord account;
  account.id = random_id();
  account.key_thumbprint = thumbprint;
  account.jwk_json = p.key->canonical_json;
  account.contact_json = contact.dump();
  account.eab_kid = eab_kid;
  account.created_at = now();
  const auto created_event =
      event(req, account.id, "acme.account.create", account.id, {{"key_thumbprint", thumbprint}, {"eab_kid", eab_kid}});
  if (auto created = m_s.store->create_acme_account(account, created_event); !created) {
    if (created.error().code == Errc::already_exists && !eab_kid.empty() &&
        !m_s.store->find_acme_account_by_key(thumbprint))
      return fail(Problem{403, "unauthorized", "this external account key is bound to another account"}, p.base);
    if (created.error().code == Errc::already_exists) {
      // Registered by a concurrent request with the same key: answer with that account.
      auto again = m_s.store->find_acme_account_by_key(thumbprint);
      if (!again) return fail(again.error(), p.base);
      return account_reply(*again, p.base, 200);
    }
    return fail(created.error(), p.base);
  }
  return account_reply(account, p.base, 201);
}

Response AcmeServer::Impl::account(const Request& req) {
  Post p;
  if (auto refused = authenticate(req, KeyMode::kid, p)) return std::move(*refused);
  if (p.account->id != req.param("id"))
    return fail(Problem{403, "unauthorized", "an account can only read or change itself"}, p.base);
  store::AcmeAccountRecord a = *p.account;
  if (!p.payload.is_null()) {
    bool changed = false;
    std::string action = "acme.account.update";
    if (p.payload.contains("contact")) {
      const auto& c = p.payload["contact"];
      if (!c.is_array() || c.size() > kMaxContacts)
        return fail(Problem{400, "invalidContact", "contact must be a list of at most 10 mailto: URLs"}, p.base);
      for (const auto& item : c)
        if (!item.is_string() || item.get<std::string>().rfind("mailto:", 0) != 0 ||
            !pki::is_valid_email(item.get<std::string>().substr(7)))
          return fail(Problem{400, "invalidContact", "contact entries are mailto: URLs"}, p.base);
      a.contact_json = c.dump();
      changed = true;
    }
    if (p.payload.contains("status")) {
      if (p.payload["status"] != "deactivated")
        return fail(Problem{400, "malformed", "an account's status can only be set to deactivated"}, p.base);
      a.status = "deactivated";
      action = "acme.account.deactivate";
      changed = true;
    }
    if (changed) {
      auto updated = m_s.store->update_acme_account(a, event(req, a.id, action, a.id, json::object()));
      if (!updated) return fail(updated.error(), p.base);
    }
  }
  return account_reply(a, p.base, 200);
}

Response AcmeServer::Impl::account_orders(const Request& req) {
  Post p;
  if (auto refused = authenticate(req, KeyMode::kid, p)) return std::move(*refused);
  if (p.account->id != req.param("id")) return fail(Problem{403, "unauthorized", "not this account's orders"}, p.base);
  auto ids = m_s.store->list_acme_order_ids(p.account->id, 1000);
  if (!ids) return fail(ids.error(), p.base);
  json orders = json::array();
  for (const auto& id : *ids) orders.push_back(url(p.base, "order/" + id));
  return finish_status(json{{"orders", orders}}, p.base, 200);
}

Response AcmeServer::Impl::key_change(const Request& req) {
  Post p;
  if (auto refused = authenticate(req, KeyMode::kid, p)) return std::move(*refused);
  if (p.payload.is_null()) return fail(Problem{400, "malformed", "keyChange needs an inner JWS"}, p.base);
  JwsParseOptions inner_options;
  inner_options.require_nonce = false;
  inner_options.forbid_nonce = false;  // the inner JWS MAY omit it (RFC 8555 7.3.5)
  auto inner = parse_jws(p.payload.dump(), inner_options);
  if (!inner) return fail(inner.error(), p.base);
  if (!inner->jwk) return fail(Problem{400, "malformed", "the inner JWS must carry the new key as jwk"}, p.base);
  if (inner->url != p.jws.url) return fail(Problem{400, "malformed", "the inner JWS url must be the keyChange URL"}, p.base);
  if (auto verified = verify_jws(*inner, *inner->jwk); !verified)
    return fail(Problem{400, "malformed", "the inner JWS does not verify with the new key"}, p.base);
  const json body = json::parse(inner->payload, nullptr, false);
  if (!body.is_object() || !body.contains("account") || !body.contains("oldKey") || !body["account"].is_string())
    return fail(Problem{400, "malformed", "the inner payload needs account and oldKey"}, p.base);
  if (body["account"].get<std::string>() != p.jws.kid)
    return fail(Problem{403, "unauthorized", "the inner payload names another account"}, p.base);
  auto old_key = parse_jwk(body["oldKey"]);
  if (!old_key || old_key->thumbprint != p.account->key_thumbprint)
    return fail(Problem{403, "unauthorized", "oldKey is not the account's key"}, p.base);
  const Jwk& new_key = *inner->jwk;
  if (auto owner = m_s.store->find_acme_account_by_key(new_key.thumbprint)) {
    Response r = fail(Problem{409, "conflict", "the new key belongs to another account"}, p.base);
    r.set_header("Location", url(p.base, "account/" + owner->id));
    return r;
  }
  store::AcmeAccountRecord a = *p.account;
  a.jwk_json = new_key.canonical_json;
  a.key_thumbprint = new_key.thumbprint;
  const auto changed = event(req, a.id, "acme.account.key_change", a.id,
                             {{"old_thumbprint", p.account->key_thumbprint}, {"new_thumbprint", new_key.thumbprint}});
  if (auto updated = m_s.store->update_acme_account(a, changed); !updated) {
    if (updated.error().code == Errc::already_exists)
      return fail(Problem{409, "conflict", "the new key belongs to another account"}, p.base);
    return fail(updated.error(), p.base);
  }
  return account_reply(a, p.base, 200);
}

Response AcmeServer::Impl::new_order(const Request& req) {
  Post p;
  if (auto refused = authenticate(req, KeyMode::kid, p)) return std::move(*refused);
  if (p.payload.is_null()) return fail(Problem{400, "malformed", "newOrder needs a payload"}, p.base);
  if (p.payload.contains("notBefore") || p.payload.contains("notAfter"))
    return fail(Problem{400, "malformed", "notBefore and notAfter are not supported: validity is the server's"}, p.base);
  const auto& identifiers = p.payload.contains("identifiers") ? p.payload["identifiers"] : json();
  if (!identifiers.is_array() || identifiers.empty() || identifiers.size() > kMaxIdentifiers)
    return fail(Problem{400, "malformed", "identifiers must be a list of 1 to 100 identifiers"}, p.base);
  std::vector<std::string> names;
  for (const auto& id : identifiers) {
    if (!id.is_object() || !id.contains("type") || !id.contains("value") || !id["type"].is_string() ||
        !id["value"].is_string())
      return fail(Problem{400, "malformed", "an identifier is {\"type\", \"value\"}"}, p.base);
    if (id["type"] != "dns")
      return fail(Problem{400, "unsupportedIdentifier", "only dns identifiers are supported"}, p.base);
    auto name = m_s.policy.check(id["value"].get<std::string>());
    if (!name) return fail(Problem{400, "rejectedIdentifier", name.error().message}, p.base);
    if (std::find(names.begin(), names.end(), *name) == names.end()) names.push_back(std::move(*name));
  }

  const double per_second = static_cast<double>(m_o.new_orders_per_hour) / 3600.0;
  auto grant = m_s.cache->take_token("acme:new-order:" + p.account->id,
                                     cache::TokenBucket{m_o.new_orders_per_hour, per_second});
  if (!grant) return fail(grant.error(), p.base);
  if (!grant->allowed) {
    Response r = fail(Problem{429, "rateLimited", "too many new orders for this account"}, p.base);
    r.set_header("Retry-After",
                 std::to_string(std::chrono::duration_cast<std::chrono::seconds>(grant->retry_after).count() + 1));
    return r;
  }

  const std::int64_t t = now();
  const std::int64_t expires =
      t + std::chrono::duration_cast<std::chrono::seconds>(m_o.order_lifetime).count();
  store::AcmeOrderRecord order;
  order.id = random_id();
  order.account_id = p.account->id;
  order.expires_at = expires;
  order.created_at = t;
  json ids = json::array();
  std::vector<store::AcmeAuthorizationRecord> authorizations;
  for (const auto& name : names) {
    ids.push_back({{"type", "dns"}, {"value", name}});
    store::AcmeAuthorizationRecord a;
    a.id = random_id();
    a.account_id = p.account->id;
    a.identifier_value = name;
    a.expires_at = expires;
    for (const char* type : {"http-01", "tls-alpn-01"}) {
      store::AcmeChallengeRecord c;
      c.id = random_id(12);
      c.type = type;
      c.token = random_id(32);
      a.challenges.push_back(std::move(c));
    }
    order.authorization_ids.push_back(a.id);
    authorizations.push_back(std::move(a));
  }
  order.identifiers_json = ids.dump();
  if (auto created = m_s.store->create_acme_order(order, authorizations); !created) return fail(created.error(), p.base);
  Response r = finish_status(order_json(order, p.base), p.base, 201);
  r.set_header("Location", url(p.base, "order/" + order.id));
  return r;
}

core::Result<store::AcmeOrderRecord> AcmeServer::Impl::owned_order(const Post& p, std::string_view id) {
  auto order = m_s.store->get_acme_order(std::string(id));
  if (!order && order.error().code == Errc::not_found) return core::Error(Errc::not_found, "no such order");
  if (!order) return order.error();
  // Someone else's order is indistinguishable from none.
  if (order->account_id != p.account->id) return core::Error(Errc::not_found, "no such order");
  return refresh_order(std::move(*order));
}

core::Result<store::AcmeAuthorizationRecord> AcmeServer::Impl::owned_authorization(const Post& p, std::string_view id) {
  auto a = m_s.store->get_acme_authorization(std::string(id));
  if (!a && a.error().code == Errc::not_found) return core::Error(Errc::not_found, "no such authorization");
  if (!a) return a.error();
  if (a->account_id != p.account->id) return core::Error(Errc::not_found, "no such authorization");
  return a;
}

core::Result<store::AcmeOrderRecord> AcmeServer::Impl::refresh_order(store::AcmeOrderRecord order) {
  const std::int64_t t = now();
  if ((order.status == "pending" || order.status == "ready") && order.expires_at <= t) {
    store::AcmeOrderRecord next = order;
    next.status = "invalid";
    next.error_json = json{{"type", std::string(kErrorPrefix) + "malformed"}, {"detail", "the order expired"}}.dump();
    CARTORIO_TRY(bool moved, m_s.store->update_acme_order(next, order.status));
    if (moved) return next;
    return m_s.store->get_acme_order(order.id);
  }
  if (order.status != "pending") return order;
  bool all_valid = true;
  for (const auto& id : order.authorization_ids) {
    CARTORIO_TRY(auto a, m_s.store->get_acme_authorization(id));
    const auto status = authorization_status(a);
    if (status == "valid") continue;
    all_valid = false;
    if (status != "pending") {
      store::AcmeOrderRecord next = order;
      next.status = "invalid";
      next.error_json = json{{"type", std::string(kErrorPrefix) + "unauthorized"},
                             {"detail", "the authorization for " + a.identifier_value + " is " + status}}
                            .dump();
      CARTORIO_TRY(bool moved, m_s.store->update_acme_order(next, "pending"));
      if (moved) return next;
      return m_s.store->get_acme_order(order.id);
    }
  }
  if (!all_valid) return order;
  store::AcmeOrderRecord next = order;
  next.status = "ready";
  CARTORIO_TRY(bool moved, m_s.store->update_acme_order(next, "pending"));
  if (moved) return next;
  return m_s.store->get_acme_order(order.id);
}

Response AcmeServer::Impl::order(const Request& req) {
  Post p;
  if (auto refused = authenticate(req, KeyMode::kid, p)) return std::move(*refused);
  auto order = owned_order(p, req.param("id"));
  if (!order) return fail(order.error(), p.base);
  return finish_status(order_json(*order, p.base), p.base, 200);
}

Response AcmeServer::Impl::authorization(const Request& req) {
  Post p;
  if (auto refused = authenticate(req, KeyMode::kid, p)) return std::move(*refused);
  auto a = owned_authorization(p, req.param("id"));
  if (!a) return fail(a.error(), p.base);
  if (!p.payload.is_null() && p.payload.contains("status")) {
    if (p.payload["status"] != "deactivated")
      return fail(Problem{400, "malformed", "an authorization's status can only be set to deactivated"}, p.base);
    for (const char* from : {"pending", "valid"}) {
      auto moved = m_s.store->update_acme_authorization(a->id, from, "deactivated");
      if (!moved) return fail(moved.error(), p.base);
      if (*moved) break;
    }
    auto again = m_s.store->get_acme_authorization(a->id);
    if (!again) return fail(again.error(), p.base);
    a = std::move(again);
  }
  if (auto resumed = resume_stale(p, *a); !resumed) return fail(resumed.error(), p.base);
  return finish_status(authorization_json(*a, p.base), p.base, 200);
}

Response AcmeServer::Impl::challenge(const Request& req) {
  Post p;
  if (auto refused = authenticate(req, KeyMode::kid, p)) return std::move(*refused);
  auto a = owned_authorization(p, req.param("authz"));
  if (!a) return fail(a.error(), p.base);
  auto c = std::find_if(a->challenges.begin(), a->challenges.end(),
                        [&](const store::AcmeChallengeRecord& x) { return x.id == req.param("id"); });
  if (c == a->challenges.end()) return fail(core::Error(Errc::not_found, "no such challenge"), p.base);
  // A POST with a payload ("{}") asks for validation; POST-as-GET only reads.
  if (!p.payload.is_null() && c->status == "pending") {
    if (authorization_status(*a) != "pending")
      return fail(Problem{400, "malformed", "the authorization is " + authorization_status(*a)}, p.base);
    if (queue_full()) {
      Response busy = fail(Problem{429, "rateLimited", "validations are queued: try again shortly"}, p.base);
      busy.set_header("Retry-After", "10");
      return busy;
    }
    auto started = start_validation(p, *a, *c, "pending");
    if (!started) return fail(started.error(), p.base);
  }
  if (auto resumed = resume_stale(p, *a); !resumed) return fail(resumed.error(), p.base);
  Response r = finish_status(challenge_json(*c, a->id, p.base), p.base, 200);
  r.headers().add("Link", "<" + url(p.base, "authz/" + a->id) + ">;rel=\"up\"");
  return r;
}

core::Result<void> AcmeServer::Impl::start_validation(const Post& p, const store::AcmeAuthorizationRecord& a,
                                                      store::AcmeChallengeRecord& c, const std::string& from) {
  store::AcmeChallengeRecord next = c;
  next.status = "processing";
  next.validated_at = now();  // while processing: when it started (a stale one is resumed)
  CARTORIO_TRY(bool moved, m_s.store->update_acme_challenge(next, from));
  if (!moved) return core::ok();  // another request or instance took it
  enqueue(Validation{p.account->id, a.id, c.id, c.type, a.identifier_value, c.token, key_authorization(c.token, *p.key)});
  c = next;
  return core::ok();
}

core::Result<void> AcmeServer::Impl::resume_stale(const Post& p, store::AcmeAuthorizationRecord& a) {
  // A validation lost with its process (crash, restart: the queue is in memory) leaves its
  // challenge processing; whoever polls next starts it again.
  const auto stale_before = now() - std::chrono::duration_cast<std::chrono::seconds>(m_o.processing_timeout).count();
  for (auto& c : a.challenges) {
    if (c.status != "processing" || !c.validated_at || *c.validated_at > stale_before || queue_full()) continue;
    CARTORIO_TRY_VOID(start_validation(p, a, c, "processing"));
  }
  return core::ok();
}

bool AcmeServer::Impl::queue_full() {
  std::lock_guard lock(m_mutex);
  return m_queue.size() >= kMaxQueuedValidations;
}

void AcmeServer::Impl::enqueue(Validation v) {
  {
    std::lock_guard lock(m_mutex);
    m_queue.push_back(std::move(v));
  }
  m_wake.notify_one();
}

void AcmeServer::Impl::validation_loop() {
  for (;;) {
    Validation v;
    {
      std::unique_lock lock(m_mutex);
      m_wake.wait(lock, [this] { return m_stopping || !m_queue.empty(); });
      // Stopping: what is queued stays processing in the store and is resumed when polled.
      if (m_stopping) return;
      v = std::move(m_queue.front());
      m_queue.pop_front();
      ++m_running;
    }
    try {
      run_validation(v);
    } catch (const std::exception& e) {
      // Left processing: resumed when polled. One validation must not take the server down.
      core::log::error("acme.validation_failed", {{"name", v.name}, {"error", e.what()}});
    }
    {
      std::lock_guard lock(m_mutex);
      --m_running;
    }
    m_idle.notify_all();
  }
}

void AcmeServer::Impl::run_validation(const Validation& v) {
  const ValidationResult result = m_s.validator->validate(v.type, v.name, v.token, v.key_authorization);
  store::AcmeChallengeRecord next;
  next.id = v.challenge_id;
  next.authorization_id = v.authorization_id;
  if (result.ok()) {
    next.status = "valid";
    next.validated_at = now();
  } else {
    next.status = "invalid";
    next.validated_at.reset();
    next.error_json = json{{"type", std::string(kErrorPrefix) + result.failure.type},
                           {"detail", result.failure.detail},
                           {"status", 403}}
                          .dump();
  }
  // Each step is a compare-and-set from the state this validation found, so a crash or a
  // second instance leaves nothing half-moved beyond what a re-read sorts out.
  auto moved = m_s.store->update_acme_challenge(next, "processing");
  if (moved && *moved)
    (void)m_s.store->update_acme_authorization(v.authorization_id, "pending", result.ok() ? "valid" : "invalid");
  store::AuditEvent e;
  e.time = now();
  e.actor = "acme:account/" + v.account_id;
  e.action = "acme.challenge.validate";
  e.target = v.name;
  e.result = result.ok() ? "success" : "failure";
  e.source = "local";
  e.details = json{{"type", v.type}, {"address", result.address}, {"error", result.failure.detail}}.dump();
  if (auto r = m_s.store->append_audit_event(e); !r)
    core::log::warn("acme.audit_failed", {{"message", r.error().message}});
  core::log::info("acme.challenge", {{"type", v.type}, {"name", v.name}, {"result", e.result},
                                     {"address", result.address}, {"detail", result.failure.detail}});
}

Response AcmeServer::Impl::finalize(const Request& req) {
  Post p;
  if (auto refused = authenticate(req, KeyMode::kid, p)) return std::move(*refused);
  auto order = owned_order(p, req.param("id"));
  if (!order) return fail(order.error(), p.base);
  if (order->status != "ready")
    return fail(Problem{403, "orderNotReady", "the order is " + order->status + ", not ready"}, p.base);
  if (p.payload.is_null() || !p.payload.contains("csr") || !p.payload["csr"].is_string())
    return fail(Problem{400, "malformed", "finalize needs {\"csr\": base64url DER}"}, p.base);
  auto der = crypto::from_base64url(p.payload["csr"].get<std::string>());
  if (!der) return fail(Problem{400, "badCSR", "csr is not base64url"}, p.base);
  auto profile = pki::find_profile(kProfile);
  if (!profile) return fail(profile.error(), p.base);
  auto csr = pki::validate_csr(*der, **profile);
  if (!csr) return fail(csr.error(), p.base);

  // The CSR must ask for exactly the order's names (RFC 8555 7.4).
  std::set<std::string> wanted;
  for (const auto& id : json::parse(order->identifiers_json)) wanted.insert(id["value"].get<std::string>());
  std::set<std::string> asked;
  for (const auto& san : csr->sans) {
    if (san.kind != pki::SanKind::dns) return fail(Problem{400, "badCSR", "only DNS names may be requested"}, p.base);
    std::string n = san.value;
    std::transform(n.begin(), n.end(), n.begin(), [](unsigned char ch) { return static_cast<char>(std::tolower(ch)); });
    asked.insert(std::move(n));
  }
  if (asked != wanted) return fail(Problem{400, "badCSR", "the CSR's names are not the order's identifiers"}, p.base);
  if (auto csr_key = jwk_from_public_key(csr->public_key.get()); csr_key && csr_key->thumbprint == p.key->thumbprint)
    return fail(Problem{400, "badCSR", "the certificate key must not be the account key"}, p.base);
  // Every authorization must still be valid: one deactivated since the order became ready
  // withdraws the consent.
  for (const auto& id : order->authorization_ids) {
    auto a = m_s.store->get_acme_authorization(id);
    if (!a) return fail(a.error(), p.base);
    if (authorization_status(*a) != "valid")
      return fail(Problem{403, "unauthorized", "the authorization for " + a->identifier_value + " is " +
                                                   authorization_status(*a)},
                  p.base);
  }
  const int cn_at = X509_NAME_get_index_by_NID(csr->subject.get(), NID_commonName, -1);
  if (cn_at >= 0) {
    const ASN1_STRING* cn = X509_NAME_ENTRY_get_data(X509_NAME_get_entry(csr->subject.get(), cn_at));
    std::string value(reinterpret_cast<const char*>(ASN1_STRING_get0_data(cn)), static_cast<std::size_t>(ASN1_STRING_length(cn)));
    std::transform(value.begin(), value.end(), value.begin(), [](unsigned char ch) { return static_cast<char>(std::tolower(ch)); });
    if (!wanted.contains(value)) return fail(Problem{400, "badCSR", "the CSR's commonName is not an identifier"}, p.base);
  }

  store::AcmeOrderRecord processing = *order;
  processing.status = "processing";
  auto claimed = m_s.store->update_acme_order(processing, "ready");
  if (!claimed) return fail(claimed.error(), p.base);
  if (!*claimed) return fail(Problem{403, "orderNotReady", "the order is being finalized already"}, p.base);

  pki::IssueRequest ir;
  ir.profile = std::string(kProfile);
  ir.csr = *der;
  ir.issuer = std::string(kIssuer);
  ir.validity_days = m_o.validity_days;
  ir.requester = "acme:account/" + p.account->id;
  auto issued = m_s.issue(ir);
  store::AcmeOrderRecord done = processing;
  if (!issued) {
    const Problem problem = problem_for(issued.error());
    if (problem.status >= 500) {
      // The CA, not the request, failed (key store down, CA offline): the order stays ready
      // for another finalize.
      done.status = "ready";
      (void)m_s.store->update_acme_order(done, "processing");
      return fail(problem, p.base);
    }
    done.status = "invalid";
    done.error_json = json{{"type", std::string(kErrorPrefix) + problem.type}, {"detail", problem.detail}}.dump();
    (void)m_s.store->update_acme_order(done, "processing");
    return fail(problem, p.base);
  }
  done.status = "valid";
  done.certificate_serial = issued->record.serial;
  auto recorded = m_s.store->update_acme_order(done, "processing");
  if (!recorded) return fail(recorded.error(), p.base);
  core::log::info("acme.issued", {{"account", p.account->id}, {"order", order->id}, {"serial", done.certificate_serial}});
  Response r = finish_status(order_json(done, p.base), p.base, 200);
  r.set_header("Location", url(p.base, "order/" + order->id));
  return r;
}

Response AcmeServer::Impl::certificate(const Request& req) {
  Post p;
  if (auto refused = authenticate(req, KeyMode::kid, p)) return std::move(*refused);
  const std::string serial(req.param("serial"));
  auto order = m_s.store->find_acme_order_by_certificate(serial);
  if (!order || order->account_id != p.account->id)
    return fail(core::Error(Errc::not_found, "no such certificate"), p.base);
  auto cert = m_s.store->get_certificate(serial);
  if (!cert) return fail(cert.error(), p.base);
  auto chain = m_s.chain_pem();
  if (!chain) return fail(chain.error(), p.base);
  return finish(Response::bytes("application/pem-certificate-chain", cert->pem + *chain), p.base);
}

Response AcmeServer::Impl::revoke(const Request& req) {
  Post p;
  if (auto refused = authenticate(req, KeyMode::either, p)) return std::move(*refused);
  if (p.payload.is_null() || !p.payload.contains("certificate") || !p.payload["certificate"].is_string())
    return fail(Problem{400, "malformed", "revokeCert needs {\"certificate\": base64url DER}"}, p.base);
  int reason = 0;
  if (p.payload.contains("reason")) {
    const auto& r = p.payload["reason"];
    if (!r.is_number_integer() || r.get<std::int64_t>() < 0 || r.get<std::int64_t>() > 10)
      return fail(Problem{400, "badRevocationReason", "reason is an RFC 5280 code"}, p.base);
    reason = static_cast<int>(r.get<std::int64_t>());
  }
  if (!allowed_reason(reason))
    return fail(Problem{400, "badRevocationReason", "allowed reasons: 0, 1, 3, 4, 5"}, p.base);
  auto der = crypto::from_base64url(p.payload["certificate"].get<std::string>());
  if (!der) return fail(Problem{400, "malformed", "certificate is not base64url"}, p.base);
  auto cert = crypto::parse_certificate(*der);
  if (!cert) return fail(Problem{400, "malformed", "certificate is not a DER certificate"}, p.base);
  const std::string serial = crypto::serial_hex(X509_get0_serialNumber(cert->get()));
  auto record = m_s.store->get_certificate(serial);
  // Only what this CA issued, byte for byte: a look-alike with a copied serial revokes nothing.
  if (!record || record->issuer != kIssuer)
    return fail(Problem{404, "malformed", "this server did not issue that certificate"}, p.base);
  auto stored = crypto::parse_certificate(crypto::as_bytes(record->pem));
  if (!stored || crypto::to_der(stored->get()) != *der)
    return fail(Problem{404, "malformed", "this server did not issue that certificate"}, p.base);

  std::string actor;
  if (p.account) {
    auto order = m_s.store->find_acme_order_by_certificate(serial);
    if (!order || order->account_id != p.account->id)
      return fail(Problem{403, "unauthorized", "the account did not order this certificate"}, p.base);
    actor = "acme:account/" + p.account->id;
  } else {
    auto cert_key = jwk_from_public_key(X509_get0_pubkey(cert->get()));
    if (!cert_key || cert_key->thumbprint != p.key->thumbprint)
      return fail(Problem{403, "unauthorized", "the request is not signed by the certificate's key"}, p.base);
    actor = "acme:certificate-key/" + p.key->thumbprint;
  }
  auto revoked = m_s.revoke(serial, reason, actor, req.remote_address());
  if (!revoked) return fail(revoked.error(), p.base);
  return finish(Response(200), p.base);
}

core::Result<void> AcmeServer::Impl::add_routes(http::Router& router) {
  auto bind = [this](Response (Impl::*handler)(const Request&)) {
    return [this, handler](const Request& req) {
      try {
        return (this->*handler)(req);
      } catch (const std::exception& e) {
        // A client's JSON of an unexpected shape that a check missed: still an ACME problem
        // document with a fresh nonce, not the router's generic 500.
        core::log::error("acme.handler_exception", {{"route", req.path()}, {"error", e.what()}});
        auto b = base(req);
        return fail(Problem{500, "serverInternal", "the server could not complete the request"}, b ? *b : std::string());
      }
    };
  };
  CARTORIO_TRY_VOID(router.get("/acme/directory", bind(&Impl::directory)));
  CARTORIO_TRY_VOID(router.get("/acme/new-nonce", bind(&Impl::nonce)));
  CARTORIO_TRY_VOID(router.add(Method::head, "/acme/new-nonce", bind(&Impl::nonce)));
  CARTORIO_TRY_VOID(router.post("/acme/new-account", bind(&Impl::new_account)));
  CARTORIO_TRY_VOID(router.post("/acme/account/{id}", bind(&Impl::account)));
  CARTORIO_TRY_VOID(router.post("/acme/account/{id}/orders", bind(&Impl::account_orders)));
  CARTORIO_TRY_VOID(router.post("/acme/key-change", bind(&Impl::key_change)));
  CARTORIO_TRY_VOID(router.post("/acme/new-order", bind(&Impl::new_order)));
  CARTORIO_TRY_VOID(router.post("/acme/order/{id}", bind(&Impl::order)));
  CARTORIO_TRY_VOID(router.post("/acme/order/{id}/finalize", bind(&Impl::finalize)));
  CARTORIO_TRY_VOID(router.post("/acme/authz/{id}", bind(&Impl::authorization)));
  CARTORIO_TRY_VOID(router.post("/acme/challenge/{authz}/{id}", bind(&Impl::challenge)));
  CARTORIO_TRY_VOID(router.post("/acme/cert/{serial}", bind(&Impl::certificate)));
  CARTORIO_TRY_VOID(router.post("/acme/revoke-cert", bind(&Impl::revoke)));
  return core::ok();
}

AcmeServer::AcmeServer(AcmeServices services, AcmeOptions options)
    : m_impl(std::make_unique<Impl>(std::move(services), std::move(options))) {}
AcmeServer::~AcmeServer() = default;
core::Result<void> AcmeServer::add_routes(http::Router& router) { return m_impl->add_routes(router); }
void AcmeServer::wait_idle() { m_impl->wait_idle(); }

}  // namespace cartorio::acme
