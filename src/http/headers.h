// HTTP header fields as an ordered list with case-insensitive names.
//
// Order and duplicates are kept (Set-Cookie, Vary may repeat); get() returns the first
// field of a name. Plain value type: not synchronised, copy freely.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace cartorio::http {

// ASCII case-insensitive equality, as RFC 9110 defines field-name comparison.
bool iequals(std::string_view a, std::string_view b) noexcept;

// RFC 9110 5.6.7 IMF-fixdate ("Sun, 06 Nov 1994 08:49:37 GMT") of Unix seconds, for Date,
// Last-Modified and Expires. Locale-independent.
std::string http_date(long long unix_seconds);

class Headers {
 public:
  using Field = std::pair<std::string, std::string>;  // name as given, value

  // First value of `name`, nullopt when absent. The view lives as long as the field.
  std::optional<std::string_view> get(std::string_view name) const;
  bool contains(std::string_view name) const { return get(name).has_value(); }
  // Replaces every field of that name with one field (appended when absent).
  void set(std::string name, std::string value);
  // Appends a field, keeping existing ones of the same name.
  void add(std::string name, std::string value);
  void remove(std::string_view name);

  auto begin() const { return m_fields.begin(); }
  auto end() const { return m_fields.end(); }
  std::size_t size() const { return m_fields.size(); }
  bool empty() const { return m_fields.empty(); }

 private:
  std::vector<Field> m_fields;
};

}  // namespace cartorio::http
