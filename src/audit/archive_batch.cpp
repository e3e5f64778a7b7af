#include "audit/archive_batch.h"

#include "audit/checkpoint.h"
#include "crypto/key_pair.h"
#include "crypto/primitives.h"

#include <nlohmann/json.hpp>

#include <cstdio>

namespace cartorio::audit {

using core::Errc;
using core::Error;

namespace {

constexpr std::size_t kIdDigits = 20;
constexpr std::string_view kBatchSuffix = ".jsonl";

// Replacing bad UTF-8 rather than throwing: a stored string is whatever a caller wrote.
std::string dump(const nlohmann::ordered_json& j) {
  return j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

nlohmann::ordered_json trailer_json(const BatchTrailer& t) {
  nlohmann::ordered_json inner;
  inner["format"] = std::string(kArchiveBatchFormat);
  inner["origin"] = t.origin;
  inner["first"] = t.first;
  inner["last"] = t.last;
  inner["count"] = t.count;
  inner["events_sha256"] = t.events_sha256;
  inner["previous_sha256"] = t.previous_sha256;
  inner["time"] = t.time;
  inner["key_id"] = t.key_id;
  inner["signature"] = crypto::to_base64(t.signature);
  nlohmann::ordered_json outer;
  outer["trailer"] = std::move(inner);
  return outer;
}

Error bad(std::size_t line, const std::string& why) {
  return Error(Errc::malformed_input, "audit batch line " + std::to_string(line) + ": " + why);
}

}  // namespace

std::string archive_batch_key(std::int64_t first_id) {
  char digits[32];
  std::snprintf(digits, sizeof digits, "%020lld", static_cast<long long>(first_id));
  return std::string(kArchiveBatchPrefix) + digits + std::string(kBatchSuffix);
}

bool is_archive_batch_key(std::string_view key) {
  if (key.size() != kArchiveBatchPrefix.size() + kIdDigits + kBatchSuffix.size()) return false;
  if (!key.starts_with(kArchiveBatchPrefix) || !key.ends_with(kBatchSuffix)) return false;
  const auto digits = key.substr(kArchiveBatchPrefix.size(), kIdDigits);
  return digits.find_first_not_of("0123456789") == std::string_view::npos;
}

std::string sha256_hex(std::string_view data) { return crypto::to_hex(crypto::sha256(crypto::as_bytes(data))); }

std::string BatchTrailer::body() const {
  return std::string(kArchiveBatchFormat) + "\n" + origin + "\n" + std::to_string(first) + "\n" +
         std::to_string(last) + "\n" + std::to_string(count) + "\n" + events_sha256 + "\n" + previous_sha256 +
         "\n" + std::to_string(time) + "\n";
}

std::string archive_event_line(const store::AuditEvent& e) {
  nlohmann::ordered_json j;
  j["id"] = e.id;
  j["time"] = e.time;
  j["actor"] = e.actor;
  j["action"] = e.action;
  j["target"] = e.target;
  j["result"] = e.result;
  j["source"] = e.source;
  j["request_id"] = e.request_id;
  j["details"] = e.details;  // verbatim text: re-serialising it could change its bytes
  return dump(j);
}

core::Result<std::string> make_archive_batch(const std::vector<store::AuditEvent>& events, BatchTrailer& trailer,
                                             EVP_PKEY* private_key) {
  if (events.empty()) return Error(Errc::invalid_argument, "an audit batch needs at least one event");
  std::string out;
  for (const auto& e : events) {
    out += archive_event_line(e);
    out += '\n';
  }
  trailer.first = events.front().id;
  trailer.last = events.back().id;
  trailer.count = static_cast<std::int64_t>(events.size());
  trailer.events_sha256 = sha256_hex(out);
  CARTORIO_TRY(trailer.key_id, key_id_of(private_key));
  CARTORIO_TRY(trailer.signature, crypto::sign_message(private_key, crypto::as_bytes(trailer.body())));
  out += dump(trailer_json(trailer));
  out += '\n';
  return out;
}

core::Result<ParsedBatch> parse_archive_batch(std::string_view data) {
  ParsedBatch batch;
  batch.sha256 = sha256_hex(data);
  if (data.size() < 2 || data.back() != '\n') return bad(0, "the object does not end in a line break (cut short?)");
  // The trailer is the last line; everything before it is event lines.
  const auto trailer_start = data.rfind('\n', data.size() - 2);
  const std::size_t events_end = trailer_start == std::string_view::npos ? 0 : trailer_start + 1;
  const std::string_view events = data.substr(0, events_end);
  batch.events_sha256 = sha256_hex(events);

  std::size_t line_no = 0;
  for (std::size_t pos = 0; pos < events.size();) {
    ++line_no;
    const auto end = events.find('\n', pos);
    const std::string_view line = events.substr(pos, end - pos);
    pos = end + 1;
    auto j = nlohmann::json::parse(line, nullptr, false);
    if (j.is_discarded() || !j.is_object()) return bad(line_no, "not a JSON object");
    store::AuditEvent e;
    try {
      e.id = j.at("id").get<std::int64_t>();
      e.time = j.at("time").get<std::int64_t>();
      e.actor = j.at("actor").get<std::string>();
      e.action = j.at("action").get<std::string>();
      e.target = j.at("target").get<std::string>();
      e.result = j.at("result").get<std::string>();
      e.source = j.at("source").get<std::string>();
      e.request_id = j.at("request_id").get<std::string>();
      e.details = j.at("details").get<std::string>();
    } catch (const nlohmann::json::exception& ex) {
      return bad(line_no, std::string("missing or mistyped event field: ") + ex.what());
    }
    batch.lines.emplace_back(line);
    batch.events.push_back(std::move(e));
  }

  ++line_no;
  const std::string_view trailer_line = data.substr(events_end, data.size() - 1 - events_end);
  auto j = nlohmann::json::parse(trailer_line, nullptr, false);
  if (j.is_discarded() || !j.is_object() || !j.contains("trailer") || !j["trailer"].is_object())
    return bad(line_no, "the last line is not a trailer");
  const auto& t = j["trailer"];
  try {
    if (t.at("format").get<std::string>() != kArchiveBatchFormat)
      return bad(line_no, "unknown format " + t.at("format").get<std::string>());
    batch.trailer.origin = t.at("origin").get<std::string>();
    batch.trailer.first = t.at("first").get<std::int64_t>();
    batch.trailer.last = t.at("last").get<std::int64_t>();
    batch.trailer.count = t.at("count").get<std::int64_t>();
    batch.trailer.events_sha256 = t.at("events_sha256").get<std::string>();
    batch.trailer.previous_sha256 = t.at("previous_sha256").get<std::string>();
    batch.trailer.time = t.at("time").get<std::int64_t>();
    batch.trailer.key_id = t.at("key_id").get<std::string>();
    auto sig = crypto::from_base64(t.at("signature").get<std::string>());
    if (!sig) return bad(line_no, "the signature is not base64");
    batch.trailer.signature = std::move(*sig);
  } catch (const nlohmann::json::exception& ex) {
    return bad(line_no, std::string("missing or mistyped trailer field: ") + ex.what());
  }
  if (batch.trailer.origin.find('\n') != std::string::npos ||
      batch.trailer.previous_sha256.find('\n') != std::string::npos ||
      batch.trailer.events_sha256.find('\n') != std::string::npos)
    return bad(line_no, "a trailer field holds a line break");
  return batch;
}

bool batch_signature_valid(const BatchTrailer& t, EVP_PKEY* public_key) {
  auto id = key_id_of(public_key);
  return id && *id == t.key_id && crypto::verify_message(public_key, crypto::as_bytes(t.body()), t.signature);
}

}  // namespace cartorio::audit
