#include "http/headers.h"

#include <algorithm>

namespace cartorio::http {

namespace {
char lower(char c) noexcept { return (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c; }
}  // namespace

bool iequals(std::string_view a, std::string_view b) noexcept {
  if (a.size() != b.size()) return false;
  for (std::size_t i = 0; i < a.size(); ++i)
    if (lower(a[i]) != lower(b[i])) return false;
  return true;
}

std::optional<std::string_view> Headers::get(std::string_view name) const {
  for (const auto& [n, v] : m_fields)
    if (iequals(n, name)) return std::string_view(v);
  return std::nullopt;
}

void Headers::set(std::string name, std::string value) {
  auto it = std::find_if(m_fields.begin(), m_fields.end(), [&](const Field& f) { return iequals(f.first, name); });
  if (it == m_fields.end()) {
    m_fields.emplace_back(std::move(name), std::move(value));
    return;
  }
  it->first = std::move(name);
  it->second = std::move(value);
  // Drop later duplicates so exactly one field of that name remains, where the first was.
  auto first_dup = std::remove_if(std::next(it), m_fields.end(),
                                  [&](const Field& f) { return iequals(f.first, it->first); });
  m_fields.erase(first_dup, m_fields.end());
}

void Headers::add(std::string name, std::string value) { m_fields.emplace_back(std::move(name), std::move(value)); }

void Headers::remove(std::string_view name) {
  std::erase_if(m_fields, [&](const Field& f) { return iequals(f.first, name); });
}

}  // namespace cartorio::http
