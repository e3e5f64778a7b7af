// A loaded, initialised PKCS#11 module (after Botan's PKCS11::Module). Internal to keys/:
// it exposes <p11-kit/pkcs11.h>, which public headers never include.
#pragma once

#include "core/error.h"
#include "crypto/secret_bytes.h"

#include <p11-kit/pkcs11.h>

#include <array>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>

namespace cartorio::keys::detail {

// "CKR_PIN_INCORRECT", or "CKR_0x00000123" for codes without a name here.
std::string ckr_name(CK_RV rv);
// An Error whose message names the call and the CK_RV: "C_Login failed: CKR_PIN_INCORRECT".
core::Error ck_error(core::Errc code, std::string_view call, CK_RV rv);

class Pkcs11Module {
 public:
  // dlopen + C_GetFunctionList + C_Initialize(CKF_OS_LOCKING_OK). A module another component
  // of the process already initialised (CKR_CRYPTOKI_ALREADY_INITIALIZED) is used as is and
  // not finalised by us. Errc::key_backend.
  static core::Result<Pkcs11Module> load(const std::string& path);

  // The process-wide instance for `path`, loading it on first use. Cryptoki is initialised
  // once per process and logins belong to the application, not the session, so every store
  // and signer on a module must share one instance; the last owner finalises it, and a later
  // acquire() initialises it afresh (re-reading the module's configuration).
  static core::Result<std::shared_ptr<Pkcs11Module>> acquire(const std::string& path);

  ~Pkcs11Module();  // C_Finalize (if we initialised) + dlclose; noexcept
  Pkcs11Module(Pkcs11Module&& other) noexcept;
  Pkcs11Module& operator=(Pkcs11Module&& other) noexcept;
  // A copy would C_Finalize and dlclose twice, the second time under live sessions.
  Pkcs11Module(const Pkcs11Module&) = delete;
  Pkcs11Module& operator=(const Pkcs11Module&) = delete;

  CK_FUNCTION_LIST* fn() const { return m_fn; }
  const std::string& path() const { return m_path; }

  // The slot holding the token labelled `label` (the first one, in slot order).
  // Errc::key_backend, listing the labels present.
  core::Result<CK_SLOT_ID> find_token(std::string_view label) const;

  // Logins are counted per slot: C_Login on the first, C_Logout on the last release, because
  // C_Logout logs out every session of the application on that token, including those of
  // other stores and signers. A later login while logged in cannot ask the token (it answers
  // CKR_USER_ALREADY_LOGGED_IN whatever the PIN), so its PIN is compared, in constant time,
  // with a digest of the PIN the token accepted. Errc::wrong_passphrase, Errc::key_backend.
  core::Result<void> acquire_login(CK_SLOT_ID slot, CK_SESSION_HANDLE session, const crypto::SecretBytes& pin);
  void release_login(CK_SLOT_ID slot, CK_SESSION_HANDLE session) noexcept;

 private:
  Pkcs11Module(std::string path, void* handle, CK_FUNCTION_LIST* fn, bool finalize);
  void reset() noexcept;

  struct Login {
    int count = 0;
    std::array<std::uint8_t, 32> pin_digest{};  // SHA-256 of the PIN the token accepted
  };
  struct Logins {
    std::mutex mutex;
    std::map<CK_SLOT_ID, Login> slots;
  };

  std::string m_path;
  void* m_handle = nullptr;  // from dlopen
  CK_FUNCTION_LIST* m_fn = nullptr;
  bool m_finalize = false;   // we called C_Initialize, so we call C_Finalize
  std::unique_ptr<Logins> m_logins;  // behind a pointer so the module stays movable
};

// The token label as PKCS#11 stores it: 32 bytes, blank-padded.
std::string token_label_of(const CK_TOKEN_INFO& info);

}  // namespace cartorio::keys::detail
