#include "api/detail/log_proofs.h"

#include "api/error_response.h"
#include "core/log.h"

#include <charconv>

namespace cartorio::api::detail {

using http::Response;

namespace {

nlohmann::json hashes_json(const std::vector<audit::Hash>& path) {
  nlohmann::json out = nlohmann::json::array();
  for (const auto& h : path) out.push_back(audit::to_hex(h));
  return out;
}

Response no_head() {
  return Response::problem(404, "audit.no_tree_head", "No tree head", "no tree head has been published yet");
}

}  // namespace

std::optional<std::int64_t> parse_int(const std::string& text) {
  std::int64_t v = 0;
  const auto* end = text.data() + text.size();
  auto [p, ec] = std::from_chars(text.data(), end, v);
  if (ec != std::errc() || p != end || text.empty()) return std::nullopt;
  return v;
}

Response log_unavailable(std::string_view what, const core::Error& e) {
  core::log::error("audit.read_failed", {{"what", std::string(what)}, {"error", e.to_string()}});
  if (e.code == core::Errc::audit_tampered) return error_response(e);
  return Response::problem(503, "audit.unavailable", "Log unavailable", "the log cannot be read right now");
}

Response latest_head(audit::TreeHeadPublisher& heads) {
  auto head = heads.latest();
  if (!head) return log_unavailable("tree-head", head.error());
  if (!*head) return no_head();
  return Response::json((*head)->to_json());
}

std::variant<nlohmann::json, Response> inclusion(audit::TreeHeadPublisher& heads, std::int64_t id,
                                                 std::uint64_t tree_size, const audit::LeafFields& fields) {
  if (tree_size == 0) {
    auto head = heads.latest();
    if (!head) return log_unavailable("tree-head", head.error());
    if (!*head) return no_head();
    tree_size = (*head)->tree_size;
  }
  if (auto s = heads.log().sync(); !s) return log_unavailable("log", s.error());
  auto proof = heads.log().inclusion_by_id(id, tree_size);
  if (!proof) {
    if (proof.error().code == core::Errc::not_found)
      return Response::problem(404, "audit.not_in_tree", "Not in that tree",
                               "entry " + std::to_string(id) + " is not among the first " +
                                   std::to_string(tree_size) + " entries (a newer tree head will include it)");
    return error_response(proof.error());
  }
  return nlohmann::json{{"id", id},
                        {"leaf_index", proof->index},
                        {"tree_size", proof->tree_size},
                        {"leaf_fields", fields},
                        {"leaf_hash", audit::to_hex(proof->leaf_hash)},
                        {"path", hashes_json(proof->path)}};
}

Response consistency(audit::TreeHeadPublisher& heads, const http::Request& req) {
  auto first = req.query_param("first");
  auto second = req.query_param("second");
  auto m = first ? parse_int(*first) : std::nullopt;
  auto n = second ? parse_int(*second) : std::nullopt;
  if (!m || !n || *m < 1 || *n < *m)
    return bad_request("request.invalid_field", "first and second must be integers with 0 < first <= second");
  if (auto s = heads.log().sync(); !s) return log_unavailable("log", s.error());
  auto path = heads.log().consistency(static_cast<std::uint64_t>(*m), static_cast<std::uint64_t>(*n));
  if (!path) return error_response(path.error());
  return Response::json(nlohmann::json{{"first", *m}, {"second", *n}, {"path", hashes_json(*path)}}.dump());
}

}  // namespace cartorio::api::detail
