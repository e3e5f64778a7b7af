// C++17-clean (see signed_pdf_reader.h): no std::span, no C++20 library features.
#include "signing/detail/signed_pdf_reader.h"

#include "signing/detail/pdf_file_impl.h"

#include <qpdf/Pipeline.hh>
#include <qpdf/QPDFExc.hh>
#include <qpdf/QPDFObjectHandle.hh>

#include <algorithm>
#include <new>
#include <cstring>
#include <set>
#include <stdexcept>
#include <string_view>

namespace cartorio::signing::detail {

using core::Errc;

namespace {

// Bounds on what a hostile file can make us walk.
constexpr int kMaxFieldDepth = 32;
constexpr std::size_t kMaxFields = 10000;
constexpr std::size_t kMaxDssItems = 2000;
constexpr std::size_t kMaxDssStreamBytes = std::size_t{1} << 20;
constexpr std::size_t kMaxDamageFindings = 5;

bool is_space(char ch) {
  const auto c = static_cast<unsigned char>(ch); return c == ' ' || c == '\t' || c == '\r' || c == '\n' || c == '\f' || c == 0; }

// Collects decoded stream data, refusing more than a limit (so a small Flate stream cannot
// expand into gigabytes). Throws std::length_error, caught by the caller.
class LimitedBuffer final : public Pipeline {
 public:
  explicit LimitedBuffer(std::size_t limit) : Pipeline("limited buffer", nullptr), m_limit(limit) {}
  void write(unsigned char const* data, size_t len) override {
    if (len > m_limit - m_data.size()) throw std::length_error("stream larger than the limit");
    m_data.append(reinterpret_cast<const char*>(data), len);
  }
  void finish() override {}
  std::string take() { return std::move(m_data); }

 private:
  std::size_t m_limit;
  std::string m_data;
};

std::optional<std::string> stream_bytes(QPDFObjectHandle s) {
  if (!s.isStream()) return std::nullopt;
  LimitedBuffer buf(kMaxDssStreamBytes);
  try {
    if (!s.pipeStreamData(&buf, 0, qpdf_dl_generalized, true, false)) return std::nullopt;
  } catch (const std::length_error&) {
    return std::nullopt;
  }
  return buf.take();
}

std::string name_of(QPDFObjectHandle dict, const char* key) {
  auto v = dict.getKey(key);
  return v.isName() ? v.getName() : std::string();
}

std::string text_of(QPDFObjectHandle dict, const char* key) {
  auto v = dict.getKey(key);
  return v.isString() ? v.getUTF8Value() : std::string();
}

SignatureDictionary read_signature_dictionary(QPDFObjectHandle v, const std::string& field) {
  SignatureDictionary d;
  d.field_name = field;
  if (v.isIndirect()) {
    d.object_number = v.getObjGen().getObj();
    d.generation = v.getObjGen().getGen();
  }
  d.type = name_of(v, "/Type");
  d.sub_filter = name_of(v, "/SubFilter");
  if (!d.sub_filter.empty() && d.sub_filter[0] == '/') d.sub_filter.erase(0, 1);
  // Types checked first: qpdf's lenient accessors would turn a wrong type into 0 or "".
  auto br = v.getKey("/ByteRange");
  if (br.isArray()) {
    d.byte_range_typed = true;
    const int n = std::min(br.getArrayNItems(), 16);
    for (int i = 0; i < n; ++i) {
      auto item = br.getArrayItem(i);
      if (!item.isInteger()) {
        d.byte_range_typed = false;
        break;
      }
      d.byte_range.push_back(item.getIntValue());
    }
    if (br.getArrayNItems() > n) d.byte_range_typed = false;
  }
  auto contents = v.getKey("/Contents");
  if (contents.isString()) d.contents = contents.getStringValue();
  auto m = v.getKey("/M");
  if (m.isString()) d.m = m.getStringValue();
  d.reason = text_of(v, "/Reason");
  d.location = text_of(v, "/Location");
  d.name = text_of(v, "/Name");
  return d;
}

struct FieldWalk {
  std::set<QPDFObjGen> seen_fields;
  std::set<QPDFObjGen> seen_signatures;
  std::size_t visited = 0;
  std::vector<SignatureDictionary> out;
};

void walk_field(FieldWalk& w, QPDFObjectHandle field, const std::string& parent_name, const std::string& inherited_ft,
                int depth) {
  if (depth > kMaxFieldDepth || w.visited >= kMaxFields || !field.isDictionary()) return;
  if (field.isIndirect() && !w.seen_fields.insert(field.getObjGen()).second) return;
  ++w.visited;
  std::string name = parent_name;
  if (auto t = field.getKey("/T"); t.isString()) name = parent_name.empty() ? t.getUTF8Value() : parent_name + "." + t.getUTF8Value();
  std::string ft = inherited_ft;
  if (auto f = field.getKey("/FT"); f.isName()) ft = f.getName();
  if (ft == "/Sig") {
    auto v = field.getKey("/V");
    if (v.isDictionary() && (!v.isIndirect() || w.seen_signatures.insert(v.getObjGen()).second))
      w.out.push_back(read_signature_dictionary(v, name));
  }
  auto kids = field.getKey("/Kids");
  if (!kids.isArray()) return;
  const int n = kids.getArrayNItems();
  for (int i = 0; i < n && w.visited < kMaxFields; ++i) walk_field(w, kids.getArrayItem(i), name, ft, depth + 1);
}

void collect_streams(QPDFObjectHandle array, std::vector<std::string>& out, std::set<QPDFObjGen>& seen) {
  if (!array.isArray()) return;
  const int n = array.getArrayNItems();
  for (int i = 0; i < n && out.size() < kMaxDssItems; ++i) {
    auto item = array.getArrayItem(i);
    if (item.isIndirect() && !seen.insert(item.getObjGen()).second) continue;
    if (auto bytes = stream_bytes(item)) out.push_back(std::move(*bytes));
  }
}

}  // namespace

std::vector<RevisionEnd> find_revision_ends(std::string_view pdf) {
  std::vector<RevisionEnd> ends;
  const std::string_view text = pdf;
  constexpr std::string_view kEof = "%%EOF", kStartxref = "startxref";
  for (std::size_t pos = text.find(kEof); pos != std::string_view::npos; pos = text.find(kEof, pos + 1)) {
    // Only an %%EOF right after "startxref <offset>" ends a revision; one inside a stream
    // (an embedded PDF, say) does not.
    std::size_t j = pos;
    while (j > 0 && is_space(pdf[j - 1])) --j;
    const std::size_t digits_end = j;
    while (j > 0 && pdf[j - 1] >= '0' && pdf[j - 1] <= '9') --j;
    if (j == digits_end) continue;
    const std::size_t digits_start = j;
    while (j > 0 && is_space(pdf[j - 1])) --j;
    if (j == digits_start || j < kStartxref.size() || text.substr(j - kStartxref.size(), kStartxref.size()) != kStartxref)
      continue;
    RevisionEnd r;
    r.eof_end = pos + kEof.size();
    r.end = r.eof_end;
    if (r.end < pdf.size() && pdf[r.end] == '\r') ++r.end;
    if (r.end < pdf.size() && pdf[r.end] == '\n') ++r.end;
    ends.push_back(r);
  }
  return ends;
}

core::Error error_from_exception(const std::exception& e) {
  if (const auto* q = dynamic_cast<const QPDFExc*>(&e)) {
    if (q->getErrorCode() == qpdf_e_password)
      return {Errc::pdf_encrypted, "the PDF is encrypted: decrypt it first (e.g. qpdf --decrypt)"};
    std::string where;
    if (!q->getObject().empty()) where += " (" + q->getObject() + ")";
    if (q->getFilePosition() > 0) where += " at offset " + std::to_string(q->getFilePosition());
    return {Errc::pdf_malformed, "the PDF cannot be read" + where + ": " + q->getMessageDetail()};
  }
  if (dynamic_cast<const std::bad_alloc*>(&e)) return {Errc::pdf_malformed, "the PDF cannot be read: out of memory"};
  return {Errc::pdf_malformed, std::string("the PDF cannot be read: ") + e.what()};
}

PdfFile::PdfFile(std::unique_ptr<Impl> impl) : m_impl(std::move(impl)) {}
PdfFile::PdfFile(PdfFile&&) noexcept = default;
PdfFile& PdfFile::operator=(PdfFile&&) noexcept = default;
PdfFile::~PdfFile() = default;

core::Result<PdfFile> PdfFile::open(std::string_view bytes, const std::string& description) {
  // qpdf accepts a header anywhere in the first 1024 bytes (as readers do); without one it
  // would try to reconstruct whatever it is given.
  if (bytes.substr(0, 1024).find("%PDF-") == std::string_view::npos)
    return core::Error{Errc::not_a_pdf, "not a PDF: no %PDF- header"};
  auto impl = std::make_unique<Impl>();
  impl->qpdf = std::make_unique<QPDF>();
  QPDF& q = *impl->qpdf;
  q.setSuppressWarnings(true);
  try {
    q.processMemoryFile(description.c_str(), bytes.data(), bytes.size());
  } catch (const std::exception& e) {
    return error_from_exception(e);
  }
  if (q.isEncrypted())
    return core::Error{Errc::pdf_encrypted, "the PDF is encrypted: signatures of encrypted PDFs are not validated"};
  return PdfFile(std::move(impl));
}

std::vector<Finding> PdfFile::damage() {
  std::vector<Finding> out;
  auto warnings = m_impl->qpdf->getWarnings();
  for (std::size_t i = 0; i < warnings.size() && i < kMaxDamageFindings; ++i)
    out.push_back({Severity::warning, "pdf_damaged", "qpdf repaired damage in the file: " + warnings[i].getMessageDetail()});
  if (warnings.size() > kMaxDamageFindings)
    out.push_back({Severity::warning, "pdf_damaged",
                   std::to_string(warnings.size() - kMaxDamageFindings) + " more damage warnings from qpdf"});
  return out;
}

std::vector<SignatureDictionary> PdfFile::signatures() {
  QPDF& q = *m_impl->qpdf;
  FieldWalk w;
  auto acroform = q.getRoot().getKey("/AcroForm");
  if (!acroform.isDictionary()) return {};
  auto fields = acroform.getKey("/Fields");
  if (!fields.isArray()) return {};
  const int n = fields.getArrayNItems();
  for (int i = 0; i < n && w.visited < kMaxFields; ++i) walk_field(w, fields.getArrayItem(i), "", "", 0);
  const auto xref = q.getXRefTable();
  for (auto& sig : w.out) {
    if (sig.object_number == 0) continue;
    auto it = xref.find(QPDFObjGen(sig.object_number, sig.generation));
    if (it != xref.end() && it->second.getType() == 1) sig.object_offset = it->second.getOffset();
  }
  return std::move(w.out);
}

DssData PdfFile::dss() {
  DssData d;
  auto dss = m_impl->qpdf->getRoot().getKey("/DSS");
  if (!dss.isDictionary()) return d;
  d.present = true;
  std::set<QPDFObjGen> seen;
  collect_streams(dss.getKey("/Certs"), d.certs, seen);
  collect_streams(dss.getKey("/OCSPs"), d.ocsps, seen);
  collect_streams(dss.getKey("/CRLs"), d.crls, seen);
  // VRI entries usually repeat the top-level arrays (same objects, skipped through `seen`).
  auto vri = dss.getKey("/VRI");
  if (vri.isDictionary()) {
    std::size_t entries = 0;
    for (const auto& key : vri.getKeys()) {
      if (++entries > kMaxDssItems) break;
      auto e = vri.getKey(key);
      if (!e.isDictionary()) continue;
      collect_streams(e.getKey("/Cert"), d.certs, seen);
      collect_streams(e.getKey("/OCSP"), d.ocsps, seen);
      collect_streams(e.getKey("/CRL"), d.crls, seen);
    }
  }
  return d;
}

}  // namespace cartorio::signing::detail
