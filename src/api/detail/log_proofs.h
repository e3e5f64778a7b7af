// Shared by the audit routes (auditors) and the transparency routes (public): tree heads
// and RFC 9162 proofs as JSON. Internal to api/.
#pragma once

#include "audit/leaf.h"
#include "audit/tree_head_publisher.h"
#include "http/request.h"
#include "http/response.h"

#include <nlohmann/json.hpp>

#include <optional>
#include <string>
#include <variant>

namespace cartorio::api::detail {

// A whole decimal integer, nothing else.
std::optional<std::int64_t> parse_int(const std::string& text);

// 503 audit.unavailable (the reason is logged, not sent), or the audit.tampered problem.
http::Response log_unavailable(std::string_view what, const core::Error& e);

// The latest signed head as published; 404 audit.no_tree_head before the first.
http::Response latest_head(audit::TreeHeadPublisher& heads);

// The inclusion proof of row `id` in the tree of `tree_size` leaves (0: the latest head's):
// {"id", "leaf_index", "tree_size", "leaf_fields", "leaf_hash", "path"}. A row not yet covered
// is 404 audit.not_in_tree (audit.no_tree_head before any head).
std::variant<nlohmann::json, http::Response> inclusion(audit::TreeHeadPublisher& heads, std::int64_t id,
                                                       std::uint64_t tree_size, const audit::LeafFields& fields);

// ?first=M&second=N -> {"first", "second", "path"}.
http::Response consistency(audit::TreeHeadPublisher& heads, const http::Request& req);

}  // namespace cartorio::api::detail
