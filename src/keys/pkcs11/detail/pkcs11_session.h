// A PKCS#11 session (after Botan's PKCS11::Session) and attribute templates. Internal to keys/.
#pragma once

#include "core/error.h"
#include "crypto/bytes.h"
#include "crypto/secret_bytes.h"
#include "keys/pkcs11/detail/pkcs11_module.h"

#include <memory>
#include <string_view>
#include <utility>
#include <vector>

namespace cartorio::keys::detail {

// Attribute values owned next to the CK_ATTRIBUTE array that points into them.
class AttributeTemplate {
 public:
  AttributeTemplate& add_bool(CK_ATTRIBUTE_TYPE type, bool value);
  AttributeTemplate& add_ulong(CK_ATTRIBUTE_TYPE type, CK_ULONG value);
  AttributeTemplate& add_bytes(CK_ATTRIBUTE_TYPE type, crypto::ByteView value);
  AttributeTemplate& add_string(CK_ATTRIBUTE_TYPE type, std::string_view value) {
    return add_bytes(type, crypto::as_bytes(value));
  }
  // Valid until the next add_*.
  CK_ATTRIBUTE* data();
  CK_ULONG size() const { return static_cast<CK_ULONG>(m_values.size()); }

 private:
  std::vector<std::pair<CK_ATTRIBUTE_TYPE, crypto::Bytes>> m_values;
  std::vector<CK_ATTRIBUTE> m_attributes;
};

class Pkcs11Session {
 public:
  // Opens a read-write serial session on `slot`. Errc::key_backend.
  static core::Result<Pkcs11Session> open(std::shared_ptr<Pkcs11Module> module, CK_SLOT_ID slot);

  ~Pkcs11Session();  // releases the login (see Pkcs11Module::acquire_login), C_CloseSession; noexcept
  Pkcs11Session(Pkcs11Session&& other) noexcept;
  Pkcs11Session& operator=(Pkcs11Session&& other) noexcept;
  // A copy would close the session and release the counted login twice.
  Pkcs11Session(const Pkcs11Session&) = delete;
  Pkcs11Session& operator=(const Pkcs11Session&) = delete;

  // Logs the user in (counted per module and slot). Errc::wrong_passphrase, Errc::key_backend.
  core::Result<void> login(const crypto::SecretBytes& pin);
  bool logged_in() const { return m_logged_in; }

  CK_SESSION_HANDLE handle() const { return m_handle; }
  CK_SLOT_ID slot() const { return m_slot; }
  CK_FUNCTION_LIST* fn() const { return m_module->fn(); }
  const std::shared_ptr<Pkcs11Module>& module() const { return m_module; }

  // Gives up the handle: the caller now owns the session and, when logged_in() was true, one
  // counted login (Pkcs11Module::release_login before C_CloseSession).
  CK_SESSION_HANDLE release() noexcept;

  // Objects matching `templ` (all of them, C_FindObjectsInit/C_FindObjects/C_FindObjectsFinal).
  core::Result<std::vector<CK_OBJECT_HANDLE>> find_objects(AttributeTemplate& templ);
  // One attribute's value. Errc::key_backend (e.g. CKR_ATTRIBUTE_SENSITIVE).
  core::Result<crypto::Bytes> get_bytes(CK_OBJECT_HANDLE object, CK_ATTRIBUTE_TYPE type);
  core::Result<CK_ULONG> get_ulong(CK_OBJECT_HANDLE object, CK_ATTRIBUTE_TYPE type);
  core::Result<bool> get_bool(CK_OBJECT_HANDLE object, CK_ATTRIBUTE_TYPE type);
  // C_SignInit + C_Sign with `mechanism` (no parameters). `max_len` bounds the signature.
  core::Result<crypto::Bytes> sign(CK_OBJECT_HANDLE key, CK_MECHANISM_TYPE mechanism, crypto::ByteView input,
                                   std::size_t max_len);

 private:
  Pkcs11Session(std::shared_ptr<Pkcs11Module> module, CK_SLOT_ID slot, CK_SESSION_HANDLE handle)
      : m_module(std::move(module)), m_slot(slot), m_handle(handle) {}
  void reset() noexcept;

  std::shared_ptr<Pkcs11Module> m_module;  // kept alive while the session is open
  CK_SLOT_ID m_slot = 0;
  CK_SESSION_HANDLE m_handle = CK_INVALID_HANDLE;
  bool m_logged_in = false;
};

}  // namespace cartorio::keys::detail
