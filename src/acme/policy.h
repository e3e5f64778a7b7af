// What the ACME server may issue for, and where its validations may connect (docs/acme.md).
#pragma once

#include "core/error.h"

#include <netinet/in.h>
#include <sys/socket.h>

#include <array>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace cartorio::acme {

// The zones of acme.allowed_domains: a DNS name is allowed when it is a zone or under one.
class IdentifierPolicy {
 public:
  // "corp.example, internal" -> two zones. Errc::config_invalid for a zone that is not a DNS name.
  static core::Result<IdentifierPolicy> parse(std::string_view comma_separated);
  bool empty() const { return m_zones.empty(); }
  // The name lowercased when allowed. Errc::invalid_san for a name that is not a valid DNS
  // name (wildcards are refused: only dns-01 could prove them); Errc::permission_denied for a
  // valid name outside every zone.
  core::Result<std::string> check(std::string_view name) const;

 private:
  std::vector<std::string> m_zones;
};

// acme.validation_networks: the CIDRs validation may connect to. Link-local (cloud metadata
// endpoints), multicast, unspecified and broadcast addresses are refused whatever it says.
class NetworkPolicy {
 public:
  // "10.0.0.0/8,::1/128". Errc::config_invalid for a malformed CIDR.
  static core::Result<NetworkPolicy> parse(std::string_view comma_separated);
  bool allows(const sockaddr* address) const;

 private:
  struct Network {
    int family = AF_INET;
    std::array<std::uint8_t, 16> bytes{};
    int prefix = 0;
  };
  std::vector<Network> m_networks;
};

// Splits on commas and trims spaces; empty items are dropped.
std::vector<std::string> split_list(std::string_view comma_separated);

}  // namespace cartorio::acme
