#include "keys/audited_key_store.h"

#include "metrics/metrics.h"

#include <nlohmann/json.hpp>

namespace cartorio::keys {

namespace {

std::string result_of(const core::Error* error) {
  return error ? std::string(core::errc_name(error->code)) : std::string("success");
}

core::Error audit_failure(const core::Error& e, const std::string& what) {
  return core::Error(e.code, what + ": the audit log did not record it: " + e.message);
}

std::string key_use_details(const KeyUse& use) {
  return nlohmann::json{{"purpose", use.purpose}, {"target", use.target}}.dump();
}

}  // namespace

store::AuditEvent key_use_event(const KeyRef& ref, const KeyUse& use, std::int64_t time) {
  store::AuditEvent e;
  e.time = time;
  e.actor = use.actor;
  e.action = "key.use";
  e.target = ref.uri;
  e.result = "success";
  e.source = "local";
  e.details = key_use_details(use);
  return e;
}

AuditedKeyStore::AuditedKeyStore(std::unique_ptr<KeyStore> inner, store::AuditLog& log, const core::Clock& clock,
                                 std::string actor)
    : m_inner(std::move(inner)), m_log(log), m_clock(clock), m_actor(std::move(actor)) {}

core::Result<std::int64_t> AuditedKeyStore::record(const std::string& action, const std::string& actor,
                                                   const std::string& target, const std::string& result,
                                                   const std::string& details) {
  store::AuditEvent e;
  e.time = core::to_unix(m_clock.now());
  e.actor = actor;
  e.action = action;
  e.target = target;
  e.result = result;
  e.source = "local";
  e.details = details;
  return m_log.append_audit_event(e);
}

core::Result<KeyInfo> AuditedKeyStore::create_key(const CreateKeyRequest& req) { return create_key(req, m_actor); }

core::Result<KeyInfo> AuditedKeyStore::create_key(const CreateKeyRequest& req, const std::string& actor) {
  auto created = m_inner->create_key(req);
  const std::string details = nlohmann::json{{"label", req.label},
                                             {"algorithm", std::string(crypto::key_algorithm_name(req.algorithm))},
                                             {"backend", m_inner->backend_name()}}
                                  .dump();
  auto logged = record("key.create", actor, created ? created->ref.uri : std::string(),
                       result_of(created ? nullptr : &created.error()), details);
  if (!logged && created) {
    // An unrecorded key must not stay usable: undo it when the backend can.
    if (m_inner->capabilities().deletes_keys) (void)m_inner->destroy_key(created->ref);
    return audit_failure(logged.error(), "key creation undone");
  }
  return created;
}

core::Result<std::unique_ptr<Signer>> AuditedKeyStore::signer(const KeyRef& ref, const KeyUse& use) {
  auto got = m_inner->signer(ref, use);
  if (got && use.recorded_by_caller) {
    metrics::count_key_operation(use.purpose);
    return got;
  }
  auto logged = record("key.use", use.actor, ref.uri, result_of(got ? nullptr : &got.error()), key_use_details(use));
  if (!got) return got;
  if (!logged) return audit_failure(logged.error(), "key use refused");  // the Signer dies unused
  metrics::count_key_operation(use.purpose);
  return got;
}

core::Result<void> AuditedKeyStore::destroy_key(const KeyRef& ref) { return destroy_key(ref, m_actor); }

core::Result<void> AuditedKeyStore::destroy_key(const KeyRef& ref, const std::string& actor) {
  auto destroyed = m_inner->destroy_key(ref);
  const std::string details = nlohmann::json{{"backend", m_inner->backend_name()}}.dump();
  auto logged = record("key.destroy", actor, ref.uri, result_of(destroyed ? nullptr : &destroyed.error()), details);
  if (!logged && destroyed) return audit_failure(logged.error(), "key destroyed");
  return destroyed;
}

}  // namespace cartorio::keys
