// SharedCounter: a 64-bit counter in a small file, mapped into memory, that every process
// of one installation on one machine sees. A writer bumps it; readers load it without a
// system call (an atomic load from the shared mapping), so a hot path can check it on
// every request.
//
// Used for local invalidation: `cartorio cert revoke` (one process) bumps the revocation
// epoch and the server (another process) stops using in-process cache entries made under
// the old epoch, at its next request.
//
// Thread- and process-safe. The file holds the counter in native byte order: it is local
// state of one machine, never copied elsewhere.
#pragma once

#include "core/error.h"

#include <cstdint>
#include <memory>
#include <string>

namespace cartorio::core {

class SharedCounter {
 public:
  // Opens (creating it, mode 0600, at 0 when absent) and maps `path`. Errc::io_error.
  static Result<std::unique_ptr<SharedCounter>> open(const std::string& path);
  ~SharedCounter();
  SharedCounter(const SharedCounter&) = delete;  // owns a mapping
  SharedCounter& operator=(const SharedCounter&) = delete;

  std::uint64_t load() const;
  // Adds one and returns the new value.
  std::uint64_t bump();

 private:
  explicit SharedCounter(void* mapping);
  void* m_mapping;
};

}  // namespace cartorio::core
