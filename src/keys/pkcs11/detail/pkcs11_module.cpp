#include "keys/pkcs11/detail/pkcs11_module.h"

#include "crypto/bytes.h"
#include "crypto/primitives.h"

#include <dlfcn.h>

#include <cstdio>
#include <vector>

namespace cartorio::keys::detail {

using core::Errc;

std::string ckr_name(CK_RV rv) {
  switch (rv) {
#define CARTORIO_CKR(name) \
  case name: return #name;
    CARTORIO_CKR(CKR_OK)
    CARTORIO_CKR(CKR_GENERAL_ERROR)
    CARTORIO_CKR(CKR_HOST_MEMORY)
    CARTORIO_CKR(CKR_SLOT_ID_INVALID)
    CARTORIO_CKR(CKR_ARGUMENTS_BAD)
    CARTORIO_CKR(CKR_ATTRIBUTE_SENSITIVE)
    CARTORIO_CKR(CKR_ATTRIBUTE_TYPE_INVALID)
    CARTORIO_CKR(CKR_ATTRIBUTE_VALUE_INVALID)
    CARTORIO_CKR(CKR_DATA_LEN_RANGE)
    CARTORIO_CKR(CKR_DEVICE_ERROR)
    CARTORIO_CKR(CKR_DEVICE_REMOVED)
    CARTORIO_CKR(CKR_FUNCTION_FAILED)
    CARTORIO_CKR(CKR_KEY_HANDLE_INVALID)
    CARTORIO_CKR(CKR_KEY_TYPE_INCONSISTENT)
    CARTORIO_CKR(CKR_KEY_FUNCTION_NOT_PERMITTED)
    CARTORIO_CKR(CKR_MECHANISM_INVALID)
    CARTORIO_CKR(CKR_MECHANISM_PARAM_INVALID)
    CARTORIO_CKR(CKR_OBJECT_HANDLE_INVALID)
    CARTORIO_CKR(CKR_OPERATION_ACTIVE)
    CARTORIO_CKR(CKR_OPERATION_NOT_INITIALIZED)
    CARTORIO_CKR(CKR_PIN_INCORRECT)
    CARTORIO_CKR(CKR_PIN_LEN_RANGE)
    CARTORIO_CKR(CKR_PIN_LOCKED)
    CARTORIO_CKR(CKR_SESSION_CLOSED)
    CARTORIO_CKR(CKR_SESSION_COUNT)
    CARTORIO_CKR(CKR_SESSION_HANDLE_INVALID)
    CARTORIO_CKR(CKR_SESSION_READ_ONLY)
    CARTORIO_CKR(CKR_TEMPLATE_INCOMPLETE)
    CARTORIO_CKR(CKR_TEMPLATE_INCONSISTENT)
    CARTORIO_CKR(CKR_TOKEN_NOT_PRESENT)
    CARTORIO_CKR(CKR_TOKEN_NOT_RECOGNIZED)
    CARTORIO_CKR(CKR_TOKEN_WRITE_PROTECTED)
    CARTORIO_CKR(CKR_USER_ALREADY_LOGGED_IN)
    CARTORIO_CKR(CKR_USER_NOT_LOGGED_IN)
    CARTORIO_CKR(CKR_USER_PIN_NOT_INITIALIZED)
    CARTORIO_CKR(CKR_USER_TYPE_INVALID)
    CARTORIO_CKR(CKR_BUFFER_TOO_SMALL)
    CARTORIO_CKR(CKR_CRYPTOKI_NOT_INITIALIZED)
    CARTORIO_CKR(CKR_CRYPTOKI_ALREADY_INITIALIZED)
    CARTORIO_CKR(CKR_CANT_LOCK)
#undef CARTORIO_CKR
    default: {
      char buf[32];
      std::snprintf(buf, sizeof buf, "CKR_0x%08lx", static_cast<unsigned long>(rv));
      return buf;
    }
  }
}

core::Error ck_error(Errc code, std::string_view call, CK_RV rv) {
  return core::Error(code, std::string(call) + " failed: " + ckr_name(rv));
}

std::string token_label_of(const CK_TOKEN_INFO& info) {
  std::string label(reinterpret_cast<const char*>(info.label), sizeof info.label);
  while (!label.empty() && (label.back() == ' ' || label.back() == '\0')) label.pop_back();
  return label;
}

Pkcs11Module::Pkcs11Module(std::string path, void* handle, CK_FUNCTION_LIST* fn, bool finalize)
    : m_path(std::move(path)), m_handle(handle), m_fn(fn), m_finalize(finalize), m_logins(std::make_unique<Logins>()) {}

core::Result<Pkcs11Module> Pkcs11Module::load(const std::string& path) {
  if (path.empty()) return {Errc::config_invalid, "PKCS#11 module path is not set"};
  void* handle = ::dlopen(path.c_str(), RTLD_NOW | RTLD_LOCAL);
  if (!handle) {
    const char* why = ::dlerror();
    return {Errc::key_backend, "cannot load PKCS#11 module " + path + ": " + (why ? why : "unknown error")};
  }
  // From here the handle must be closed on every error path.
  auto fail = [&](std::string message) -> core::Result<Pkcs11Module> {
    ::dlclose(handle);
    return {Errc::key_backend, std::move(message)};
  };
  auto get_list = reinterpret_cast<CK_C_GetFunctionList>(::dlsym(handle, "C_GetFunctionList"));
  if (!get_list) return fail(path + " is not a PKCS#11 module (no C_GetFunctionList)");
  CK_FUNCTION_LIST* fn = nullptr;
  if (CK_RV rv = get_list(&fn); rv != CKR_OK || !fn)
    return fail("C_GetFunctionList of " + path + " failed: " + ckr_name(rv));

  CK_C_INITIALIZE_ARGS args{};
  args.flags = CKF_OS_LOCKING_OK;  // we call it from several threads; let it use OS locks
  CK_RV rv = fn->C_Initialize(&args);
  if (rv != CKR_OK && rv != CKR_CRYPTOKI_ALREADY_INITIALIZED)
    return fail("C_Initialize of " + path + " failed: " + ckr_name(rv));
  return Pkcs11Module(path, handle, fn, /*finalize=*/rv == CKR_OK);
}

core::Result<std::shared_ptr<Pkcs11Module>> Pkcs11Module::acquire(const std::string& path) {
  // The registry lock is also taken by the deleter, so a module being finalised by its last
  // owner is never handed out, nor initialised again before C_Finalize has returned.
  static std::mutex registry_mutex;
  static std::map<std::string, std::weak_ptr<Pkcs11Module>> registry;

  std::lock_guard guard(registry_mutex);
  if (auto it = registry.find(path); it != registry.end()) {
    if (auto live = it->second.lock()) return live;
  }
  CARTORIO_TRY(Pkcs11Module module, load(path));
  auto owned = std::make_unique<Pkcs11Module>(std::move(module));
  std::shared_ptr<Pkcs11Module> shared(owned.release(), [](Pkcs11Module* m) {
    std::unique_ptr<Pkcs11Module> doomed(m);
    std::lock_guard lock(registry_mutex);
    doomed.reset();
  });
  registry[path] = shared;
  return shared;
}

void Pkcs11Module::reset() noexcept {
  if (m_fn && m_finalize) m_fn->C_Finalize(nullptr);
  if (m_handle) ::dlclose(m_handle);
  m_fn = nullptr;
  m_handle = nullptr;
  m_finalize = false;
}

Pkcs11Module::~Pkcs11Module() { reset(); }

Pkcs11Module::Pkcs11Module(Pkcs11Module&& other) noexcept
    : m_path(std::move(other.m_path)),
      m_handle(other.m_handle),
      m_fn(other.m_fn),
      m_finalize(other.m_finalize),
      m_logins(std::move(other.m_logins)) {
  other.m_handle = nullptr;
  other.m_fn = nullptr;
  other.m_finalize = false;
}

Pkcs11Module& Pkcs11Module::operator=(Pkcs11Module&& other) noexcept {
  if (this != &other) {
    reset();
    m_path = std::move(other.m_path);
    m_handle = other.m_handle;
    m_fn = other.m_fn;
    m_finalize = other.m_finalize;
    m_logins = std::move(other.m_logins);
    other.m_handle = nullptr;
    other.m_fn = nullptr;
    other.m_finalize = false;
  }
  return *this;
}

core::Result<CK_SLOT_ID> Pkcs11Module::find_token(std::string_view label) const {
  CK_ULONG count = 0;
  if (CK_RV rv = m_fn->C_GetSlotList(CK_TRUE, nullptr, &count); rv != CKR_OK)
    return ck_error(Errc::key_backend, "C_GetSlotList", rv);
  std::vector<CK_SLOT_ID> slots(count);
  if (count > 0) {
    if (CK_RV rv = m_fn->C_GetSlotList(CK_TRUE, slots.data(), &count); rv != CKR_OK)
      return ck_error(Errc::key_backend, "C_GetSlotList", rv);
    slots.resize(count);
  }
  std::string seen;
  for (CK_SLOT_ID slot : slots) {
    CK_TOKEN_INFO info{};
    if (m_fn->C_GetTokenInfo(slot, &info) != CKR_OK) continue;
    const std::string name = token_label_of(info);
    if (name == label) {
      if (!(info.flags & CKF_TOKEN_INITIALIZED))
        return {Errc::key_backend, "PKCS#11 token '" + name + "' is not initialised"};
      return slot;
    }
    if (!name.empty()) seen += (seen.empty() ? "'" : ", '") + name + "'";
  }
  return {Errc::key_backend, "no PKCS#11 token labelled '" + std::string(label) + "' in " + m_path +
                                 (seen.empty() ? " (no initialised token found)" : " (tokens: " + seen + ")")};
}

core::Result<void> Pkcs11Module::acquire_login(CK_SLOT_ID slot, CK_SESSION_HANDLE session,
                                               const crypto::SecretBytes& pin) {
  const auto digest = crypto::sha256(pin.view());
  std::lock_guard guard(m_logins->mutex);
  Login& login = m_logins->slots[slot];
  if (login.count > 0) {
    if (!crypto::constant_time_equal(digest, login.pin_digest))
      return {Errc::wrong_passphrase, "PKCS#11 login failed: the PIN is incorrect"};
  } else {
    CK_RV rv = m_fn->C_Login(session, CKU_USER, const_cast<CK_UTF8CHAR*>(pin.data()),
                             static_cast<CK_ULONG>(pin.size()));
    if (rv == CKR_PIN_INCORRECT) return {Errc::wrong_passphrase, "PKCS#11 login failed: the PIN is incorrect"};
    if (rv == CKR_PIN_LOCKED) return {Errc::key_backend, "PKCS#11 login failed: the user PIN is locked"};
    // CKR_USER_ALREADY_LOGGED_IN: another component of the process logged in; the token
    // cannot check this PIN now, and logging the other component out to check it would break it.
    if (rv != CKR_OK && rv != CKR_USER_ALREADY_LOGGED_IN) return ck_error(Errc::key_backend, "C_Login", rv);
    login.pin_digest = digest;
  }
  ++login.count;
  return core::ok();
}

void Pkcs11Module::release_login(CK_SLOT_ID slot, CK_SESSION_HANDLE session) noexcept {
  std::lock_guard guard(m_logins->mutex);
  auto it = m_logins->slots.find(slot);
  if (it == m_logins->slots.end() || it->second.count == 0) return;
  if (--it->second.count == 0) {
    m_fn->C_Logout(session);
    it->second.pin_digest.fill(0);
  }
}

}  // namespace cartorio::keys::detail
