#include "keys/pkcs11/detail/pkcs11_session.h"

#include <cstring>

namespace cartorio::keys::detail {

using core::Errc;

AttributeTemplate& AttributeTemplate::add_bool(CK_ATTRIBUTE_TYPE type, bool value) {
  m_values.emplace_back(type, crypto::Bytes{static_cast<std::uint8_t>(value ? CK_TRUE : CK_FALSE)});
  return *this;
}

AttributeTemplate& AttributeTemplate::add_ulong(CK_ATTRIBUTE_TYPE type, CK_ULONG value) {
  crypto::Bytes b(sizeof value);
  std::memcpy(b.data(), &value, sizeof value);
  m_values.emplace_back(type, std::move(b));
  return *this;
}

AttributeTemplate& AttributeTemplate::add_bytes(CK_ATTRIBUTE_TYPE type, crypto::ByteView value) {
  m_values.emplace_back(type, crypto::Bytes(value.begin(), value.end()));
  return *this;
}

CK_ATTRIBUTE* AttributeTemplate::data() {
  m_attributes.clear();
  for (auto& [type, value] : m_values)
    m_attributes.push_back(CK_ATTRIBUTE{type, value.data(), static_cast<CK_ULONG>(value.size())});
  return m_attributes.data();
}

core::Result<Pkcs11Session> Pkcs11Session::open(std::shared_ptr<Pkcs11Module> module, CK_SLOT_ID slot) {
  CK_SESSION_HANDLE handle = CK_INVALID_HANDLE;
  CK_RV rv = module->fn()->C_OpenSession(slot, CKF_SERIAL_SESSION | CKF_RW_SESSION, nullptr, nullptr, &handle);
  if (rv != CKR_OK) return ck_error(Errc::key_backend, "C_OpenSession", rv);
  return Pkcs11Session(std::move(module), slot, handle);
}

void Pkcs11Session::reset() noexcept {
  if (m_handle == CK_INVALID_HANDLE) return;
  if (m_logged_in) m_module->release_login(m_slot, m_handle);
  m_module->fn()->C_CloseSession(m_handle);
  m_handle = CK_INVALID_HANDLE;
  m_logged_in = false;
}

Pkcs11Session::~Pkcs11Session() { reset(); }

Pkcs11Session::Pkcs11Session(Pkcs11Session&& other) noexcept
    : m_module(std::move(other.m_module)),
      m_slot(other.m_slot),
      m_handle(std::exchange(other.m_handle, CK_INVALID_HANDLE)),
      m_logged_in(std::exchange(other.m_logged_in, false)) {}

Pkcs11Session& Pkcs11Session::operator=(Pkcs11Session&& other) noexcept {
  if (this != &other) {
    reset();
    m_module = std::move(other.m_module);
    m_slot = other.m_slot;
    m_handle = std::exchange(other.m_handle, CK_INVALID_HANDLE);
    m_logged_in = std::exchange(other.m_logged_in, false);
  }
  return *this;
}

CK_SESSION_HANDLE Pkcs11Session::release() noexcept {
  m_logged_in = false;
  return std::exchange(m_handle, CK_INVALID_HANDLE);
}

core::Result<void> Pkcs11Session::login(const crypto::SecretBytes& pin) {
  if (m_logged_in) return core::ok();
  CARTORIO_TRY_VOID(m_module->acquire_login(m_slot, m_handle, pin));
  m_logged_in = true;
  return core::ok();
}

core::Result<std::vector<CK_OBJECT_HANDLE>> Pkcs11Session::find_objects(AttributeTemplate& templ) {
  CK_RV rv = fn()->C_FindObjectsInit(m_handle, templ.data(), templ.size());
  if (rv != CKR_OK) return ck_error(Errc::key_backend, "C_FindObjectsInit", rv);
  std::vector<CK_OBJECT_HANDLE> out;
  CK_OBJECT_HANDLE batch[32];
  for (;;) {
    CK_ULONG n = 0;
    rv = fn()->C_FindObjects(m_handle, batch, 32, &n);
    if (rv != CKR_OK) break;
    out.insert(out.end(), batch, batch + n);
    if (n < 32) break;
  }
  fn()->C_FindObjectsFinal(m_handle);  // always: an active search blocks the session
  if (rv != CKR_OK) return ck_error(Errc::key_backend, "C_FindObjects", rv);
  return out;
}

core::Result<crypto::Bytes> Pkcs11Session::get_bytes(CK_OBJECT_HANDLE object, CK_ATTRIBUTE_TYPE type) {
  CK_ATTRIBUTE attr{type, nullptr, 0};
  CK_RV rv = fn()->C_GetAttributeValue(m_handle, object, &attr, 1);
  if (rv != CKR_OK) return ck_error(Errc::key_backend, "C_GetAttributeValue", rv);
  if (attr.ulValueLen == CK_UNAVAILABLE_INFORMATION)
    return {Errc::key_backend, "C_GetAttributeValue failed: attribute unavailable"};
  crypto::Bytes value(attr.ulValueLen);
  attr.pValue = value.data();
  rv = fn()->C_GetAttributeValue(m_handle, object, &attr, 1);
  if (rv != CKR_OK) return ck_error(Errc::key_backend, "C_GetAttributeValue", rv);
  value.resize(attr.ulValueLen);
  return value;
}

core::Result<CK_ULONG> Pkcs11Session::get_ulong(CK_OBJECT_HANDLE object, CK_ATTRIBUTE_TYPE type) {
  CARTORIO_TRY(crypto::Bytes b, get_bytes(object, type));
  if (b.size() != sizeof(CK_ULONG)) return {Errc::key_backend, "PKCS#11 attribute has an unexpected size"};
  CK_ULONG v = 0;
  std::memcpy(&v, b.data(), sizeof v);
  return v;
}

core::Result<bool> Pkcs11Session::get_bool(CK_OBJECT_HANDLE object, CK_ATTRIBUTE_TYPE type) {
  CARTORIO_TRY(crypto::Bytes b, get_bytes(object, type));
  if (b.size() != sizeof(CK_BBOOL)) return {Errc::key_backend, "PKCS#11 attribute has an unexpected size"};
  return b[0] != CK_FALSE;
}

core::Result<crypto::Bytes> Pkcs11Session::sign(CK_OBJECT_HANDLE key, CK_MECHANISM_TYPE mechanism,
                                                crypto::ByteView input, std::size_t max_len) {
  CK_MECHANISM mech{mechanism, nullptr, 0};
  CK_RV rv = fn()->C_SignInit(m_handle, &mech, key);
  if (rv != CKR_OK) return ck_error(Errc::key_backend, "C_SignInit", rv);
  crypto::Bytes sig(max_len);
  CK_ULONG len = static_cast<CK_ULONG>(sig.size());
  rv = fn()->C_Sign(m_handle, const_cast<CK_BYTE*>(input.data()), static_cast<CK_ULONG>(input.size()),
                    sig.data(), &len);
  if (rv == CKR_BUFFER_TOO_SMALL) {
    // The only result that leaves the operation active; finish it, or the session is stuck
    // with CKR_OPERATION_ACTIVE.
    sig.resize(len);
    rv = fn()->C_Sign(m_handle, const_cast<CK_BYTE*>(input.data()), static_cast<CK_ULONG>(input.size()),
                      sig.data(), &len);
  }
  if (rv != CKR_OK) return ck_error(Errc::key_backend, "C_Sign", rv);
  sig.resize(len);
  return sig;
}

}  // namespace cartorio::keys::detail
