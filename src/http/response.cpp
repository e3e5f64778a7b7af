#include "http/response.h"

#include <nlohmann/json.hpp>

namespace cartorio::http {

namespace {
constexpr std::string_view kProblemType = "application/problem+json";
}

Response Response::text(std::string body, int status) {
  return bytes("text/plain; charset=utf-8", std::move(body), status);
}

Response Response::json(std::string body, int status) { return bytes("application/json", std::move(body), status); }

Response Response::bytes(std::string content_type, std::string body, int status) {
  Response r(status);
  r.m_headers.set("Content-Type", std::move(content_type));
  r.m_body = std::move(body);
  return r;
}

Response Response::bytes(std::string content_type, std::span<const std::uint8_t> body, int status) {
  return bytes(std::move(content_type), std::string(reinterpret_cast<const char*>(body.data()), body.size()), status);
}

Response Response::problem(int status, std::string_view code, std::string_view title, std::string_view detail) {
  nlohmann::ordered_json j;
  j["type"] = "urn:cartorio:problem:" + std::string(code);
  j["title"] = std::string(title);
  j["status"] = status;
  j["detail"] = std::string(detail);
  j["code"] = std::string(code);
  // `replace`: a detail built from user input with invalid UTF-8 must not throw here.
  return bytes(std::string(kProblemType), j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace), status);
}

bool Response::is_problem() const {
  auto ct = m_headers.get("Content-Type");
  if (!ct) return false;
  auto media = ct->substr(0, ct->find(';'));
  while (!media.empty() && media.back() == ' ') media.remove_suffix(1);
  return iequals(media, kProblemType);
}

void Response::add_problem_request_id(std::string_view request_id) {
  if (!is_problem()) return;
  auto j = nlohmann::ordered_json::parse(m_body, nullptr, /*allow_exceptions=*/false);
  if (!j.is_object() || j.contains("request_id")) return;
  j["request_id"] = std::string(request_id);
  m_body = j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

}  // namespace cartorio::http
