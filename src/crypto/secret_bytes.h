// Key material and passphrases: move-only, wiped on destruction, never printed.
#pragma once

#include <cstdint>
#include <span>
#include <string_view>
#include <vector>

namespace cartorio::crypto {

class SecretBytes {
 public:
  SecretBytes() = default;
  explicit SecretBytes(std::size_t n) : m_data(n) {}
  explicit SecretBytes(std::span<const std::uint8_t> b) : m_data(b.begin(), b.end()) {}
  explicit SecretBytes(std::string_view s) : m_data(s.begin(), s.end()) {}
  ~SecretBytes() { wipe(); }
  SecretBytes(const SecretBytes&) = delete;  // copies of secrets are how they leak
  SecretBytes& operator=(const SecretBytes&) = delete;
  SecretBytes(SecretBytes&& o) noexcept : m_data(std::move(o.m_data)) { o.m_data.clear(); }
  SecretBytes& operator=(SecretBytes&& o) noexcept {
    if (this != &o) {
      wipe();
      m_data = std::move(o.m_data);
      o.m_data.clear();
    }
    return *this;
  }

  std::uint8_t* data() { return m_data.data(); }
  const std::uint8_t* data() const { return m_data.data(); }
  std::size_t size() const { return m_data.size(); }
  bool empty() const { return m_data.empty(); }
  std::span<const std::uint8_t> view() const { return m_data; }
  std::string_view str() const { return {reinterpret_cast<const char*>(m_data.data()), m_data.size()}; }
  SecretBytes clone() const { return SecretBytes(view()); }

 private:
  void wipe() noexcept;
  std::vector<std::uint8_t> m_data;
};

}  // namespace cartorio::crypto
