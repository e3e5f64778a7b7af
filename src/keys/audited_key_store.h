// AuditedKeyStore: wraps any KeyStore so every key creation, private-key use and destruction
// is an audit event ("every key use audited" lives here, not in each backend; after step-ca's
// instrumented KeyManager).
//
// Events (store::AuditEvent), one per call, written after the inner call with its outcome:
//   key.create   actor = the store's actor  target = new key uri ("" on failure)
//                details {"label","algorithm","backend"}
//   key.use      actor = KeyUse.actor        target = key uri
//                details {"purpose","target"} (KeyUse.purpose / KeyUse.target)
//   key.destroy  actor = the store's actor  target = key uri   details {"backend"}
//   result: "success", or the error's stable code name ("keys.not_found", ...); source "local".
// public_key, list_keys and check touch no private key and are not audited.
//
// KeyUse::recorded_by_caller: a successful signer() writes nothing; the caller stores
// key_use_event() in the transaction that records what was signed (a signature whose
// record fails to commit is never released). A failed signer() is still recorded here.
//
// No unaudited use: when the audit append fails, signer() destroys the Signer it got and
// returns the append's error; create_key() destroys the key it just made (when the backend
// deletes keys) and returns the error; destroy_key() returns the error (the key is gone).
//
// Ownership: owns `inner`; `log` and `clock` are borrowed and must outlive this object.
// Thread-safety: as the inner store; the AuditLog must be thread-safe (store::Store is).
#pragma once

#include "core/clock.h"
#include "keys/key_store.h"
#include "store/store.h"

#include <memory>
#include <string>

namespace cartorio::keys {

// The key.use event AuditedKeyStore writes for `use` of `ref` (result "success").
store::AuditEvent key_use_event(const KeyRef& ref, const KeyUse& use, std::int64_t time);

class AuditedKeyStore final : public KeyStore {
 public:
  // `actor` is recorded for create_key/destroy_key through the KeyStore interface, which
  // carries no caller; the overloads below take it per call.
  AuditedKeyStore(std::unique_ptr<KeyStore> inner, store::AuditLog& log, const core::Clock& clock,
                  std::string actor = "system");

  std::string backend_name() const override { return m_inner->backend_name(); }
  Capabilities capabilities() const override { return m_inner->capabilities(); }
  core::Result<KeyInfo> create_key(const CreateKeyRequest& req) override;
  core::Result<crypto::PKey> public_key(const KeyRef& ref) override { return m_inner->public_key(ref); }
  core::Result<std::unique_ptr<Signer>> signer(const KeyRef& ref, const KeyUse& use) override;
  core::Result<std::vector<KeyInfo>> list_keys() override { return m_inner->list_keys(); }
  core::Result<void> destroy_key(const KeyRef& ref) override;
  core::Result<void> check() override { return m_inner->check(); }

  core::Result<KeyInfo> create_key(const CreateKeyRequest& req, const std::string& actor);
  core::Result<void> destroy_key(const KeyRef& ref, const std::string& actor);

  KeyStore& inner() { return *m_inner; }

 private:
  core::Result<std::int64_t> record(const std::string& action, const std::string& actor, const std::string& target,
                                    const std::string& result, const std::string& details);

  std::unique_ptr<KeyStore> m_inner;
  store::AuditLog& m_log;
  const core::Clock& m_clock;
  std::string m_actor;
};

}  // namespace cartorio::keys
