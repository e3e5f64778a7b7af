#include "acme/policy.h"

#include "acme/jws.h"

#include "pki/csr_validator.h"

#include <arpa/inet.h>

#include <algorithm>
#include <cstring>

namespace cartorio::acme {

using core::Errc;
using core::Error;

std::vector<std::string> split_list(std::string_view comma_separated) {
  std::vector<std::string> out;
  std::size_t pos = 0;
  while (pos <= comma_separated.size()) {
    auto end = comma_separated.find(',', pos);
    if (end == std::string_view::npos) end = comma_separated.size();
    auto item = comma_separated.substr(pos, end - pos);
    while (!item.empty() && (item.front() == ' ' || item.front() == '\t')) item.remove_prefix(1);
    while (!item.empty() && (item.back() == ' ' || item.back() == '\t')) item.remove_suffix(1);
    if (!item.empty()) out.emplace_back(item);
    pos = end + 1;
  }
  return out;
}

namespace {

std::string lower(std::string_view s) {
  std::string out(s);
  std::transform(out.begin(), out.end(), out.begin(), [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return out;
}

}  // namespace

core::Result<IdentifierPolicy> IdentifierPolicy::parse(std::string_view comma_separated) {
  IdentifierPolicy p;
  for (auto& zone : split_list(comma_separated)) {
    zone = lower(zone);
    if (!zone.empty() && zone.back() == '.') zone.pop_back();
    if (!pki::is_valid_dns_name(zone, false))
      return Error(Errc::config_invalid, "acme.allowed_domains: '" + zone + "' is not a DNS name");
    p.m_zones.push_back(std::move(zone));
  }
  return p;
}

core::Result<std::string> IdentifierPolicy::check(std::string_view name) const {
  std::string n = lower(name);
  if (n.rfind("*.", 0) == 0)
    return Error(Errc::invalid_san, "wildcard names need dns-01 validation, which this server does not offer");
  if (n.empty() || n.size() > 253 || n.back() == '.' || !pki::is_valid_dns_name(n, false))
    return Error(Errc::invalid_san, "'" + excerpt(name) + "' is not a valid DNS name");
  for (const auto& zone : m_zones) {
    if (n == zone) return n;
    if (n.size() > zone.size() && n.compare(n.size() - zone.size(), zone.size(), zone) == 0 &&
        n[n.size() - zone.size() - 1] == '.')
      return n;
  }
  return Error(Errc::permission_denied, "'" + excerpt(n) + "' is outside the domains this server issues for");
}

core::Result<NetworkPolicy> NetworkPolicy::parse(std::string_view comma_separated) {
  NetworkPolicy p;
  for (const auto& cidr : split_list(comma_separated)) {
    const auto slash = cidr.find('/');
    const std::string address = cidr.substr(0, slash);
    Network n;
    int max_prefix = 32;
    if (inet_pton(AF_INET, address.c_str(), n.bytes.data()) == 1) {
      n.family = AF_INET;
    } else if (inet_pton(AF_INET6, address.c_str(), n.bytes.data()) == 1) {
      n.family = AF_INET6;
      max_prefix = 128;
    } else {
      return Error(Errc::config_invalid, "acme.validation_networks: '" + cidr + "' is not an address/prefix");
    }
    n.prefix = max_prefix;
    if (slash != std::string::npos) {
      const std::string digits = cidr.substr(slash + 1);
      if (digits.empty() || digits.size() > 3 || !std::all_of(digits.begin(), digits.end(), ::isdigit) ||
          std::stoi(digits) > max_prefix)
        return Error(Errc::config_invalid, "acme.validation_networks: bad prefix in '" + cidr + "'");
      n.prefix = std::stoi(digits);
    }
    p.m_networks.push_back(n);
  }
  return p;
}

namespace {

bool prefix_matches(const std::uint8_t* a, const std::uint8_t* b, int prefix) {
  const int whole = prefix / 8;
  if (std::memcmp(a, b, static_cast<std::size_t>(whole)) != 0) return false;
  const int rest = prefix % 8;
  if (rest == 0) return true;
  const auto mask = static_cast<std::uint8_t>(0xFF << (8 - rest));
  return (a[whole] & mask) == (b[whole] & mask);
}

// Never a validation target: 0.0.0.0/8, 169.254/16 (link-local: cloud metadata), 224/4
// (multicast) and above (reserved, broadcast), 100.100.100.200 (a cloud's metadata service
// inside 100.64/10); ::, fe80::/10, ff00::/8, fd00:ec2::254 (a cloud's IPv6 metadata).
bool always_refused(int family, const std::uint8_t* b) {
  if (family == AF_INET)
    return b[0] == 0 || (b[0] == 169 && b[1] == 254) || b[0] >= 224 ||
           (b[0] == 100 && b[1] == 100 && b[2] == 100 && b[3] == 200);
  static const std::uint8_t zero[16] = {};
  static const std::uint8_t ec2_metadata[16] = {0xfd, 0x00, 0x0e, 0xc2, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x02, 0x54};
  return std::memcmp(b, zero, 16) == 0 || (b[0] == 0xfe && (b[1] & 0xc0) == 0x80) || b[0] == 0xff ||
         std::memcmp(b, ec2_metadata, 16) == 0;
}

// An IPv6 address that carries an IPv4 one the network would reach: IPv4-mapped
// (::ffff:0:0/96), IPv4-compatible (::/96), NAT64 (64:ff9b::/96) and 6to4 (2002::/16).
// Writes the IPv4 address to `v4` and returns true for those.
bool embedded_ipv4(const std::uint8_t* b, std::uint8_t* v4) {
  static const std::uint8_t mapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
  static const std::uint8_t compatible[12] = {};
  static const std::uint8_t nat64[12] = {0, 0x64, 0xff, 0x9b, 0, 0, 0, 0, 0, 0, 0, 0};
  if (std::memcmp(b, mapped, 12) == 0 || std::memcmp(b, nat64, 12) == 0 ||
      (std::memcmp(b, compatible, 12) == 0 && !(b[12] == 0 && b[13] == 0 && b[14] == 0 && b[15] <= 1))) {
    std::memcpy(v4, b + 12, 4);
    return true;
  }
  if (b[0] == 0x20 && b[1] == 0x02) {
    std::memcpy(v4, b + 2, 4);
    return true;
  }
  return false;
}

}  // namespace

bool NetworkPolicy::allows(const sockaddr* address) const {
  int family = address->sa_family;
  std::uint8_t bytes[16] = {};
  if (family == AF_INET) {
    std::memcpy(bytes, &reinterpret_cast<const sockaddr_in*>(address)->sin_addr, 4);
  } else if (family == AF_INET6) {
    std::memcpy(bytes, &reinterpret_cast<const sockaddr_in6*>(address)->sin6_addr, 16);
    // Judged as the IPv4 address it carries (and refused if either form is).
    std::uint8_t v4[4];
    if (embedded_ipv4(bytes, v4)) {
      if (always_refused(AF_INET6, bytes)) return false;
      std::memset(bytes, 0, sizeof bytes);
      std::memcpy(bytes, v4, 4);
      family = AF_INET;
    }
  } else {
    return false;
  }
  if (always_refused(family, bytes)) return false;
  return std::any_of(m_networks.begin(), m_networks.end(), [&](const Network& n) {
    return n.family == family && prefix_matches(bytes, n.bytes.data(), n.prefix);
  });
}

}  // namespace cartorio::acme
