// libFuzzer target: untrusted request targets and bodies through the HTTP parsers the server
// runs before any handler logic (src/http/request.cpp, detail/percent.cpp, multipart.cpp,
// headers.cpp) and the JSON body reader of every API route (src/api/json_body.cpp)
// (docs/fuzzing.md). No setup.
//
// The first byte chooses the parser, the rest is its input ('t', 'f', 'm', 'j', 'p', 'h';
// any other byte picks one by its value modulo six, so no mutation is wasted):
//   t  "METHOD target" (no space: GET): Request::create, then query_param and int_query on
//      its query. Refusals are malformed_input, and a target that starts with '/' and has no
//      '%' or NUL is never refused; an accepted one keeps the target and method token as given,
//      its raw path starts with '/' and has no '?', its path is the raw path percent-decoded
//      and has no NUL, target = raw path [? query] (origin form); when the query parses as a
//      form, query_param(k) is the first value of every key k and nullopt for a key not in
//      it; int_query gives its fallback when the parameter is absent, nullopt or a value in
//      range otherwise, and the value when the parameter is its decimal spelling.
//   f  a form body (parse_form): nullopt exactly when a '%' is not followed by two hex
//      digits; one pair per non-empty '&' segment; the pairs, percent-encoded again, parse
//      back to the same pairs.
//   m  "Content-Type\nbody" (multipart_boundary, then parse_multipart with that boundary, or
//      a fixed one when the type has none): a boundary only for multipart/form-data, 1..70
//      characters; refusals are malformed_input; the parts (at most max_parts) are named,
//      lie inside the body in order without overlapping, contain no delimiter, have a
//      lower-case content type; one part fewer in max_parts is refused, exactly as many
//      accepted; the parts written out again as a multipart body parse back the same.
//   j  a JSON body (parse_json_object): an object exactly when nlohmann parses the body as
//      one; it dumps without throwing and the dump parses back equal; string_field agrees
//      with every member. For an accepted body whose length is a multiple of 64 the size
//      limit is checked too: padded with spaces one byte past kMaxJsonBodyBytes it is refused
//      (and, the first time in a process, padded to exactly the limit it is accepted).
//   p  percent_decode, with and without '+' as space: nullopt exactly when an escape is
//      malformed; each escape shortens the text by two; encoding the result again decodes
//      to it.
//   h  "name:value" lines into Headers: get() is the first field of that name in any case,
//      iequals is ASCII case folding, set() leaves one field where the first was, remove()
//      leaves none; and http_date of a time from the first eight bytes (years 1..9999)
//      is an IMF-fixdate that reads back as the same time.
// A broken invariant prints what broke and aborts, which libFuzzer reports as a crash.
#include "api/json_body.h"
#include "core/error.h"
#include "http/detail/percent.h"
#include "http/headers.h"
#include "http/multipart.h"
#include "http/request.h"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <cerrno>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <exception>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace {

using namespace cartorio;
using core::Errc;
using Pairs = std::vector<std::pair<std::string, std::string>>;

[[noreturn]] void die(const std::string& what) {
  std::fprintf(stderr, "http_body_fuzzer: %s\n", what.c_str());
  std::fflush(stderr);
  std::abort();
}

// For messages: the first bytes, non-printable ones as \xNN.
std::string shown(std::string_view s) {
  std::string out;
  for (char c : s.substr(0, 200)) {
    const auto u = static_cast<unsigned char>(c);
    if (u >= 0x20 && u < 0x7f) {
      out += c;
    } else {
      char buf[8];
      std::snprintf(buf, sizeof buf, "\\x%02x", u);
      out += buf;
    }
  }
  return s.size() > 200 ? out + "..." : out;
}

bool is_hex(char c) { return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F'); }

// A '%' without two hex digits after it: what percent_decode must refuse.
bool has_bad_escape(std::string_view s) {
  for (std::size_t i = 0; i < s.size(); ++i)
    if (s[i] == '%' && (i + 2 >= s.size() || !is_hex(s[i + 1]) || !is_hex(s[i + 2]))) return true;
  return false;
}

// Everything but RFC 3986 unreserved characters escaped, so the text decodes back to `s` in
// a path, a query or a form alike.
std::string percent_encode(std::string_view s) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string out;
  for (char c : s) {
    const auto u = static_cast<unsigned char>(c);
    if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' || c == '.' ||
        c == '_' || c == '~') {
      out += c;
    } else {
      out += '%';
      out += kHex[u >> 4];
      out += kHex[u & 0xf];
    }
  }
  return out;
}

std::string ascii_lower(std::string_view s) {
  std::string out(s);
  for (auto& c : out)
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  return out;
}

void check_error(const core::Error& e, const char* what) {
  if (e.code != Errc::malformed_input) die(std::string(what) + " refused with an undocumented code: " + e.to_string());
}

// --- t: request targets and queries --------------------------------------------------------

void check_int_query(const http::Request& req, std::string_view name, int min, int max, int fallback) {
  const auto raw = req.query_param(name);
  const auto n = api::int_query(req, name, min, max, fallback);
  if (!raw) {
    if (n != fallback) die("int_query without the parameter is not the fallback: " + shown(req.target()));
    return;
  }
  if (n && (*n < min || *n > max)) die("int_query out of range: " + std::to_string(*n));
  // The parameter spelt as a decimal integer in range must be read as that integer.
  char* end = nullptr;
  errno = 0;
  const long long v = std::strtoll(raw->c_str(), &end, 10);
  const bool canonical = !raw->empty() && errno == 0 && end == raw->c_str() + raw->size() &&
                         *raw == std::to_string(v) && v >= min && v <= max;
  if (canonical && n != static_cast<int>(v)) die("int_query does not read \"" + shown(*raw) + "\"");
}

void check_target(std::string_view input) {
  const auto space = input.find(' ');
  const std::string method(space == std::string_view::npos ? "GET" : input.substr(0, space));
  const std::string target(space == std::string_view::npos ? input : input.substr(space + 1));
  auto r = http::Request::create(method, target);
  if (!r) {
    check_error(r.error(), "Request::create");
    if (!target.empty() && target.front() == '/' && target.find_first_of(std::string_view("%\0", 2)) == std::string::npos)
      die("a plain origin-form target refused: " + shown(target));
    return;
  }
  const http::Request& req = *r;
  if (req.target() != target || req.method_token() != method) die("target or method token not kept");
  if (req.method() != http::parse_method(method) ||
      (req.method() != http::Method::other && http::method_name(req.method()) != method))
    die("method " + shown(method) + " misread");
  const std::string& raw = req.raw_path();
  if (raw.empty() || raw.front() != '/' || raw.find('?') != std::string::npos) die("raw path " + shown(raw));
  const auto decoded = http::detail::percent_decode(raw, false);
  if (!decoded || *decoded != req.path()) die("path is not the raw path decoded: " + shown(raw));
  if (req.path().find('\0') != std::string::npos) die("NUL in an accepted path");
  if (!target.empty() && target.front() == '/' && target != raw && target != raw + "?" + req.query())
    die("origin-form target is not raw path [? query]: " + shown(target));
  if (!std::string_view(target).ends_with(req.query())) die("query is not the end of the target");

  if (const auto form = http::parse_form(req.query())) {
    // The first pairs only: each query_param call decodes the whole query again.
    for (std::size_t i = 0; i < std::min<std::size_t>(form->size(), 32); ++i) {
      const std::string& k = (*form)[i].first;
      const auto first = std::find_if(form->begin(), form->end(), [&](const auto& p) { return p.first == k; });
      if (req.query_param(k) != first->second) die("query_param(" + shown(k) + ") is not its first value");
    }
    const std::string absent = "\x01not-a-key";
    if (std::none_of(form->begin(), form->end(), [&](const auto& p) { return p.first == absent; }) &&
        req.query_param(absent))
      die("query_param found a key the query does not have");
  }
  // The bounds the routes use (certificate_routes.cpp, job_routes.cpp, secret_routes.cpp).
  check_int_query(req, "limit", 1, 1000, 100);
  check_int_query(req, "offset", 0, 1'000'000'000, 0);
  check_int_query(req, "expiring_within_days", 0, 36500, -1);
}

// --- f: form bodies ------------------------------------------------------------------------

void check_form(std::string_view input) {
  const auto form = http::parse_form(input);
  if (!form) {
    if (!has_bad_escape(input)) die("a form without a bad escape refused: " + shown(input));
    return;
  }
  if (has_bad_escape(input)) die("a form with a bad escape accepted: " + shown(input));
  std::size_t segments = 0;
  for (std::size_t at = 0; at <= input.size();) {
    const auto amp = std::min(input.find('&', at), input.size());
    if (amp > at) ++segments;
    at = amp + 1;
  }
  if (form->size() != segments) die(std::to_string(form->size()) + " pairs from " + std::to_string(segments) + " segments");
  std::string encoded;
  for (const auto& [k, v] : *form) encoded += (encoded.empty() ? "" : "&") + percent_encode(k) + "=" + percent_encode(v);
  const auto again = http::parse_form(encoded);
  if (!again || *again != *form) die("form pairs do not round-trip: " + shown(input) + " -> " + shown(encoded));
}

// --- m: multipart bodies -------------------------------------------------------------------

// A parameter value as a quoted-string: the parser takes the character after a backslash as
// is, and CR and LF escaped this way can never form the CRLF that ends a header line.
std::string quoted_string(std::string_view s) {
  std::string out = "\"";
  for (char c : s) {
    if (c == '"' || c == '\\' || c == '\r' || c == '\n') out += '\\';
    out += c;
  }
  return out + "\"";
}

// nullopt when a part's headers, written so, would pass the parser's 8 KiB limit (escaping
// can double a name).
std::optional<std::string> write_multipart(const std::vector<http::FormPart>& parts, std::string_view boundary) {
  std::string out;
  for (const auto& p : parts) {
    std::string headers = "Content-Disposition: form-data; name=" + quoted_string(p.name);
    if (p.filename) headers += "; filename=" + quoted_string(*p.filename);
    headers += "\r\nContent-Type: " + p.content_type;
    if (headers.size() > 8192) return std::nullopt;
    out += "--" + std::string(boundary) + "\r\n" + headers + "\r\n\r\n";
    out += p.data;
    out += "\r\n";
  }
  return out + "--" + std::string(boundary) + "--\r\n";
}

bool same_parts(const std::vector<http::FormPart>& a, const std::vector<http::FormPart>& b) {
  return std::equal(a.begin(), a.end(), b.begin(), b.end(), [](const http::FormPart& x, const http::FormPart& y) {
    return x.name == y.name && x.filename == y.filename && x.content_type == y.content_type && x.data == y.data;
  });
}

void check_multipart(std::string_view input) {
  const auto nl = input.find('\n');
  const std::string_view content_type = input.substr(0, nl);
  const std::string_view body = nl == std::string_view::npos ? std::string_view{} : input.substr(nl + 1);
  const auto boundary = http::multipart_boundary(content_type);
  if (boundary) {
    std::string_view media = content_type.substr(0, content_type.find(';'));
    while (!media.empty() && (media.front() == ' ' || media.front() == '\t')) media.remove_prefix(1);
    while (!media.empty() && (media.back() == ' ' || media.back() == '\t')) media.remove_suffix(1);
    if (ascii_lower(media) != "multipart/form-data") die("a boundary from " + shown(content_type));
    if (boundary->empty() || boundary->size() > 70) die("a boundary of " + std::to_string(boundary->size()) + " characters");
  }
  const std::string b = boundary.value_or("fuzz-boundary");
  constexpr std::size_t kMaxParts = 32;  // the default, what document_routes.cpp uses
  auto parts = http::parse_multipart(body, b, kMaxParts);
  if (!parts) {
    check_error(parts.error(), "parse_multipart");
    return;
  }
  if (parts->size() > kMaxParts) die(std::to_string(parts->size()) + " parts accepted");
  const std::string delimiter = "\r\n--" + b;
  const char* previous_end = body.data();
  for (const auto& p : *parts) {
    if (p.name.empty()) die("a part without a name");
    if (p.data.data() < previous_end || p.data.data() + p.data.size() > body.data() + body.size())
      die("part data outside the body or overlapping the previous part");
    previous_end = p.data.data() + p.data.size();
    if (p.data.find(delimiter) != std::string_view::npos) die("part data holds the delimiter");
    if (p.content_type != ascii_lower(p.content_type) || p.content_type.find(';') != std::string::npos)
      die("content type " + shown(p.content_type));
  }
  if (!parts->empty()) {
    auto fewer = http::parse_multipart(body, b, parts->size() - 1);
    if (fewer) die("max_parts " + std::to_string(parts->size() - 1) + " accepted " + std::to_string(fewer->size()) + " parts");
    check_error(fewer.error(), "parse_multipart (max_parts)");
    auto exact = http::parse_multipart(body, b, parts->size());
    if (!exact || !same_parts(*exact, *parts)) die("max_parts equal to the part count refused or different");
  }
  const auto written = write_multipart(*parts, b);
  if (!written) return;
  auto again = http::parse_multipart(*written, b, kMaxParts);
  if (!again) die("written parts do not parse back: " + again.error().to_string() + ": " + shown(*written));
  if (!same_parts(*again, *parts)) die("written parts parse back different: " + shown(*written));
}

// --- j: JSON bodies ------------------------------------------------------------------------

void check_json(std::string_view input) {
  auto req = http::Request::create("POST", "/api/v1/fuzz");
  if (!req) die("Request::create refused a fixed target");
  req->set_body(std::string(input));
  const auto object = api::parse_json_object(*req);
  const auto direct = nlohmann::json::parse(input, nullptr, false);
  if (object.has_value() != (!direct.is_discarded() && direct.is_object()))
    die(std::string(object ? "accepted" : "refused") + " against nlohmann: " + shown(input));
  if (!object) return;
  if (*object != direct) die("parsed object differs from nlohmann's");
  std::string dumped;
  try {
    dumped = object->dump();
  } catch (const std::exception& e) {
    die(std::string("an accepted body does not dump: ") + e.what());
  }
  const auto again = nlohmann::json::parse(dumped, nullptr, false);
  if (again.is_discarded() || again != *object) die("dump does not parse back equal: " + shown(dumped));
  for (const auto& [key, value] : object->items()) {
    // A key with a NUL cannot be asked for through a C string (the routes' names are literals).
    if (key.find('\0') != std::string::npos) continue;
    const auto s = api::string_field(*object, key.c_str());
    if (value.is_string() ? s != value.get<std::string>() : s.has_value()) die("string_field(" + shown(key) + ")");
  }
  // The size limit, on a sample (a 1 MiB body costs what a thousand small ones do): padded
  // with spaces one byte over the limit, the body is refused; padded to the limit exactly it
  // is still accepted, checked once per process (parsing 1 MiB takes about 40 ms here).
  if (input.size() % 64 == 0) {
    const auto padded = [&](std::size_t size) {
      std::string body(size, ' ');
      body.replace(0, input.size(), input);
      return body;
    };
    static bool at_limit_checked = false;
    if (!at_limit_checked) {
      at_limit_checked = true;
      req->set_body(padded(api::kMaxJsonBodyBytes));
      if (!api::parse_json_object(*req)) die("a body of exactly kMaxJsonBodyBytes refused");
    }
    req->set_body(padded(api::kMaxJsonBodyBytes + 1));
    if (api::parse_json_object(*req)) die("a body over kMaxJsonBodyBytes accepted");
  }
}

// --- p: percent-decoding -------------------------------------------------------------------

void check_percent(std::string_view input) {
  const bool bad = has_bad_escape(input);
  const auto escapes = static_cast<std::size_t>(std::count(input.begin(), input.end(), '%'));
  for (const bool plus : {false, true}) {
    const auto d = http::detail::percent_decode(input, plus);
    if (!d) {
      if (!bad) die("percent_decode refused " + shown(input));
      continue;
    }
    if (bad) die("percent_decode accepted a bad escape: " + shown(input));
    if (d->size() != input.size() - 2 * escapes) die("decoded length wrong for " + shown(input));
    if (escapes == 0 && (!plus || input.find('+') == std::string_view::npos) && *d != input)
      die("text without escapes changed: " + shown(input));
    const auto again = http::detail::percent_decode(percent_encode(*d), plus);
    if (!again || *again != *d) die("percent-encoding does not round-trip: " + shown(*d));
  }
}

// --- h: header fields and dates ------------------------------------------------------------

void check_headers(std::string_view input) {
  // The first 16 lines (enough for duplicates in every case): every name is checked against every
  // other one. Field i is line i.
  http::Headers headers;
  std::vector<std::string> names, lowered;
  for (std::size_t at = 0; at < input.size() && names.size() < 16;) {
    const auto nl = std::min(input.find('\n', at), input.size());
    const std::string_view line = input.substr(at, nl - at);
    const auto colon = line.find(':');
    names.emplace_back(line.substr(0, colon));
    lowered.push_back(ascii_lower(names.back()));
    headers.add(names.back(), std::string(colon == std::string_view::npos ? std::string_view{} : line.substr(colon + 1)));
    at = nl + 1;
  }
  const auto upper = [](std::string s) {
    for (auto& c : s)
      if (c >= 'a' && c <= 'z') c = static_cast<char>(c - 'a' + 'A');
    return s;
  };
  for (std::size_t i = 0; i < names.size(); ++i) {
    const std::string& name = names[i];
    std::size_t first = names.size(), count = 0;
    for (std::size_t j = 0; j < names.size(); ++j) {
      const bool same = http::iequals(name, names[j]);
      if (same != (lowered[i] == lowered[j]) || same != http::iequals(names[j], name))
        die("iequals(" + shown(name) + ", " + shown(names[j]) + ")");
      if (same && first == names.size()) first = j;
      count += same ? 1 : 0;
    }
    const std::string_view first_value = (headers.begin() + static_cast<std::ptrdiff_t>(first))->second;
    if (headers.get(name) != first_value || headers.get(upper(name)) != first_value)
      die("get(" + shown(name) + ") is not the first field of that name");
    http::Headers set = headers;
    set.set(name, "set");
    if (set.size() != headers.size() - count + 1 || set.get(name) != "set" ||
        std::count_if(set.begin(), set.end(), [&](const auto& f) { return http::iequals(f.first, name); }) != 1 ||
        (set.begin() + static_cast<std::ptrdiff_t>(first))->second != "set")
      die("set(" + shown(name) + ") does not leave one field where the first was");
    http::Headers removed = headers;
    removed.remove(name);
    if (removed.contains(name) || removed.size() != headers.size() - count) die("remove(" + shown(name) + ")");
  }

  // 0001-01-01T00:00:00Z .. 9999-12-31T23:59:59Z: what an ASN.1 time (the OCSP routes' source
  // of Last-Modified and Expires) can hold.
  constexpr long long kMin = -62'135'596'800, kMax = 253'402'300'799;
  std::uint64_t raw = 0;
  std::memcpy(&raw, input.data(), std::min<std::size_t>(input.size(), sizeof raw));
  const long long secs = kMin + static_cast<long long>(raw % static_cast<std::uint64_t>(kMax - kMin + 1));
  const std::string date = http::http_date(secs);
  char wday[4] = {}, mon[4] = {};
  int day = 0, year = 0, hh = 0, mm = 0, ss = 0, used = 0;
  if (date.size() != 29 || std::sscanf(date.c_str(), "%3s, %2d %3s %4d %2d:%2d:%2d GMT%n", wday, &day, mon, &year, &hh,
                                       &mm, &ss, &used) != 7 ||
      used != 29)
    die("http_date(" + std::to_string(secs) + ") = \"" + date + "\"");
  static constexpr const char* kMonths[] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                            "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
  static constexpr const char* kDays[] = {"Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"};
  const auto month = std::find_if(std::begin(kMonths), std::end(kMonths), [&](const char* m) { return std::strcmp(m, mon) == 0; });
  std::tm tm{};
  tm.tm_year = year - 1900;
  tm.tm_mon = static_cast<int>(month - std::begin(kMonths));
  tm.tm_mday = day;
  tm.tm_hour = hh;
  tm.tm_min = mm;
  tm.tm_sec = ss;
  if (month == std::end(kMonths) || timegm(&tm) != secs || std::strcmp(kDays[tm.tm_wday], wday) != 0)
    die("http_date(" + std::to_string(secs) + ") = \"" + date + "\" does not read back");
}

enum class Mode { target, form, multipart, json, percent, headers };
constexpr int kModes = 6;

Mode mode_of(std::uint8_t selector) {
  switch (selector) {
    case 't': return Mode::target;
    case 'f': return Mode::form;
    case 'm': return Mode::multipart;
    case 'j': return Mode::json;
    case 'p': return Mode::percent;
    case 'h': return Mode::headers;
    default: return static_cast<Mode>(selector % kModes);
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size == 0) return 0;
  const std::string_view input(reinterpret_cast<const char*>(data) + 1, size - 1);
  switch (mode_of(data[0])) {
    case Mode::target: check_target(input); break;
    case Mode::form: check_form(input); break;
    case Mode::multipart: check_multipart(input); break;
    case Mode::json: check_json(input); break;
    case Mode::percent: check_percent(input); break;
    case Mode::headers: check_headers(input); break;
  }
  return 0;
}
