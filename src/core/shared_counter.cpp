#include "core/shared_counter.h"

#include "core/files.h"

#include <atomic>
#include <cerrno>
#include <cstring>
#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

namespace cartorio::core {

namespace {

// A page, so the mapping is aligned and an atomic on it is lock-free across processes.
constexpr std::size_t kFileSize = 4096;

std::atomic_ref<std::uint64_t> counter_at(void* mapping) {
  return std::atomic_ref<std::uint64_t>(*static_cast<std::uint64_t*>(mapping));
}

}  // namespace

Result<std::unique_ptr<SharedCounter>> SharedCounter::open(const std::string& path) {
  static_assert(std::atomic_ref<std::uint64_t>::is_always_lock_free, "a lock would not be shared across processes");
  UniqueFd fd(::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600));
  if (fd.get() < 0) return Error{Errc::io_error, "opening " + path + ": " + std::strerror(errno)};
  struct stat st{};
  if (::fstat(fd.get(), &st) != 0 || !S_ISREG(st.st_mode))
    return Error{Errc::io_error, path + " is not a regular file"};
  // ftruncate to the same size is a no-op; a new (empty) file grows to zeros.
  if (static_cast<std::size_t>(st.st_size) < kFileSize && ::ftruncate(fd.get(), kFileSize) != 0)
    return Error{Errc::io_error, "sizing " + path + ": " + std::strerror(errno)};
  void* mapping = ::mmap(nullptr, kFileSize, PROT_READ | PROT_WRITE, MAP_SHARED, fd.get(), 0);
  if (mapping == MAP_FAILED) return Error{Errc::io_error, "mapping " + path + ": " + std::strerror(errno)};
  return std::unique_ptr<SharedCounter>(new SharedCounter(mapping));
}

SharedCounter::SharedCounter(void* mapping) : m_mapping(mapping) {}

SharedCounter::~SharedCounter() { ::munmap(m_mapping, kFileSize); }

std::uint64_t SharedCounter::load() const { return counter_at(m_mapping).load(std::memory_order_acquire); }

std::uint64_t SharedCounter::bump() { return counter_at(m_mapping).fetch_add(1, std::memory_order_acq_rel) + 1; }

}  // namespace cartorio::core
