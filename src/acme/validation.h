// Challenge validation (RFC 8555 8.3 http-01, RFC 8737 tls-alpn-01): connects to the name
// under validation only, at an address acme.validation_networks allows, with a time limit.
#pragma once

#include "acme/policy.h"
#include "core/error.h"

#include <chrono>
#include <string>
#include <vector>

namespace cartorio::acme {

struct ValidationFailure {
  std::string type;    // ACME error type without its prefix: "connection", "incorrectResponse", "tls", "dns"
  std::string detail;
};

// Empty `type` = validated.
struct ValidationResult {
  bool ok() const { return failure.type.empty(); }
  ValidationFailure failure;
  std::string address;  // the address connected to, for the audit trail
};

class ChallengeValidator {
 public:
  virtual ~ChallengeValidator() = default;
  // `challenge_type`: "http-01" | "tls-alpn-01". `name` is the (policy-checked) DNS name.
  virtual ValidationResult validate(const std::string& challenge_type, const std::string& name,
                                    const std::string& token, const std::string& key_authorization) = 0;
};

struct NetworkValidatorOptions {
  int http01_port = 80;
  int tls_alpn01_port = 443;
  std::chrono::seconds timeout{10};
  NetworkPolicy networks;
};

class NetworkValidator final : public ChallengeValidator {
 public:
  explicit NetworkValidator(NetworkValidatorOptions options) : m_options(std::move(options)) {}
  ValidationResult validate(const std::string& challenge_type, const std::string& name, const std::string& token,
                            const std::string& key_authorization) override;

  // The addresses of `name` this policy lets validation reach, in resolver order. Names
  // under .localhost are loopback (RFC 6761 6.3), without asking the resolver.
  core::Result<std::vector<std::string>> allowed_addresses(const std::string& name) const;

 private:
  ValidationResult http01(const std::string& name, const std::string& address, const std::string& token,
                          const std::string& key_authorization) const;
  ValidationResult tls_alpn01(const std::string& name, const std::string& address,
                              const std::string& key_authorization) const;

  NetworkValidatorOptions m_options;
};

}  // namespace cartorio::acme
