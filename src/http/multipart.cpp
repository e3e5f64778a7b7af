#include "http/multipart.h"

#include <algorithm>
#include <cctype>

namespace cartorio::http {
namespace {

using core::Errc;

std::string lower(std::string_view s) {
  std::string out(s);
  std::transform(out.begin(), out.end(), out.begin(), [](unsigned char c) { return std::tolower(c); });
  return out;
}

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

// The value of parameter `name` in a header value like `form-data; name="file"`.
std::optional<std::string> parameter(std::string_view value, std::string_view name) {
  std::size_t at = value.find(';');
  while (at != std::string_view::npos) {
    std::string_view rest = trim(value.substr(at + 1));
    const std::size_t eq = rest.find('=');
    if (eq == std::string_view::npos) return std::nullopt;
    const std::string key = lower(trim(rest.substr(0, eq)));
    std::string_view v = trim(rest.substr(eq + 1));
    std::string out;
    std::size_t consumed = 0;
    if (!v.empty() && v.front() == '"') {
      std::size_t i = 1;
      for (; i < v.size() && v[i] != '"'; ++i) {
        if (v[i] == '\\' && i + 1 < v.size()) ++i;
        out += v[i];
      }
      if (i >= v.size()) return std::nullopt;  // unterminated quote
      consumed = i + 1;
    } else {
      consumed = std::min(v.find(';'), v.size());
      out = std::string(trim(v.substr(0, consumed)));
    }
    if (key == name) return out;
    const std::size_t next = v.find(';', consumed);
    if (next == std::string_view::npos) return std::nullopt;
    at = static_cast<std::size_t>(v.data() - value.data()) + next;
  }
  return std::nullopt;
}

}  // namespace

std::optional<std::string> multipart_boundary(std::string_view content_type) {
  if (lower(trim(content_type.substr(0, content_type.find(';')))) != "multipart/form-data") return std::nullopt;
  auto b = parameter(content_type, "boundary");
  if (!b || b->empty() || b->size() > 70) return std::nullopt;
  return b;
}

core::Result<std::vector<FormPart>> parse_multipart(std::string_view body, std::string_view boundary,
                                                    std::size_t max_parts) {
  const std::string delimiter = "--" + std::string(boundary);
  const std::string next_delimiter = "\r\n" + delimiter;
  auto bad = [](const std::string& why) { return core::Error{Errc::malformed_input, "multipart body: " + why}; };
  // The preamble is ignored; the first delimiter may start the body.
  std::size_t at = body.rfind(delimiter, 0) == 0 ? 0 : body.find(next_delimiter);
  if (at == std::string_view::npos) return bad("no boundary");
  at += body.compare(at, 2, "\r\n") == 0 ? next_delimiter.size() : delimiter.size();
  std::vector<FormPart> parts;
  while (true) {
    if (body.compare(at, 2, "--") == 0) return parts;  // the close delimiter
    // Transport padding, then CRLF.
    while (at < body.size() && (body[at] == ' ' || body[at] == '\t')) ++at;
    if (body.compare(at, 2, "\r\n") != 0) return bad("a boundary is not followed by CRLF");
    at += 2;
    const std::size_t headers_end = body.find("\r\n\r\n", at);
    if (headers_end == std::string_view::npos || headers_end - at > 8192) return bad("part headers too long or unterminated");
    FormPart part;
    part.content_type = "text/plain";
    bool form_data = false;
    std::string_view headers = body.substr(at, headers_end - at);
    while (!headers.empty()) {
      const std::size_t eol = std::min(headers.find("\r\n"), headers.size());
      std::string_view line = headers.substr(0, eol);
      headers.remove_prefix(std::min(eol + 2, headers.size()));
      const std::size_t colon = line.find(':');
      if (colon == std::string_view::npos) return bad("a part header has no colon");
      const std::string field = lower(trim(line.substr(0, colon)));
      const std::string_view value = trim(line.substr(colon + 1));
      if (field == "content-disposition") {
        form_data = lower(trim(value.substr(0, value.find(';')))) == "form-data";
        if (auto n = parameter(value, "name")) part.name = *n;
        part.filename = parameter(value, "filename");
      } else if (field == "content-type") {
        part.content_type = lower(trim(value.substr(0, value.find(';'))));
      }
    }
    if (!form_data || part.name.empty()) return bad("a part is not form-data with a name");
    const std::size_t data_at = headers_end + 4;
    const std::size_t end = body.find(next_delimiter, data_at);
    if (end == std::string_view::npos) return bad("a part is not closed by the boundary");
    part.data = body.substr(data_at, end - data_at);
    if (parts.size() == max_parts) return bad("too many parts");
    parts.push_back(std::move(part));
    at = end + next_delimiter.size();
  }
}

}  // namespace cartorio::http
