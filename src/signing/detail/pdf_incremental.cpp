#include "signing/detail/pdf_incremental.h"

#include "signing/detail/pdf_number.h"
#include "signing/detail/utf8.h"

#include <qpdf/QPDF.hh>
#include <qpdf/QPDFExc.hh>
#include <qpdf/QPDFObjectHandle.hh>
#include <qpdf/QPDFPageObjectHelper.hh>

#include <algorithm>
#include <cstdio>
#include <exception>
#include <map>
#include <memory>
#include <set>
#include <utility>

namespace cartorio::signing::detail {
namespace {

using core::Errc;

constexpr std::string_view kByteRangePlaceholder = "0 0000000000 0000000000 0000000000";

// The offset the file's last "startxref" names, or -1.
long long last_startxref(std::string_view pdf) {
  const std::size_t tail = pdf.size() > 4096 ? pdf.size() - 4096 : 0;
  const std::size_t at = pdf.rfind("startxref", std::string_view::npos);
  if (at == std::string_view::npos || at < tail) return -1;
  std::size_t i = at + 9;
  while (i < pdf.size() && (pdf[i] == ' ' || pdf[i] == '\r' || pdf[i] == '\n' || pdf[i] == '\t')) ++i;
  long long v = 0;
  std::size_t digits = 0;
  while (i < pdf.size() && pdf[i] >= '0' && pdf[i] <= '9' && digits < 12) {
    v = v * 10 + (pdf[i++] - '0');
    ++digits;
  }
  if (digits == 0 || v >= static_cast<long long>(pdf.size())) return -1;
  return v;
}

bool is_xref_table_at(std::string_view pdf, long long offset) {
  std::size_t i = static_cast<std::size_t>(offset);
  while (i < pdf.size() && (pdf[i] == ' ' || pdf[i] == '\r' || pdf[i] == '\n')) ++i;
  return pdf.substr(i, 4) == "xref";
}

// UTF-8 -> a PDF text string in UTF-16BE with BOM, as hex (ISO 32000-1 7.9.2.2).
std::string pdf_text(std::string_view utf8) {
  std::string out = "<FEFF";
  char buf[8];
  auto put16 = [&](unsigned v) {
    std::snprintf(buf, sizeof buf, "%04X", v & 0xFFFF);
    out += buf;
  };
  detail::for_each_code_point(utf8, [&](unsigned cp) {
    if (cp >= 0x10000) {
      cp -= 0x10000;
      put16(0xD800 + (cp >> 10));
      put16(0xDC00 + (cp & 0x3FF));
    } else {
      put16(cp);
    }
  });
  return out + ">";
}

// An opened input: qpdf reads straight from the caller's buffer, which outlives it.
struct OpenPdf {
  std::unique_ptr<QPDF> qpdf;
  long long startxref = -1;
  bool xref_stream = false;
};

core::Error translate(const std::exception& e) {
  if (const auto* q = dynamic_cast<const QPDFExc*>(&e)) {
    if (q->getErrorCode() == qpdf_e_password) return {Errc::pdf_encrypted, "the PDF is encrypted"};
    return {Errc::pdf_malformed, "the PDF cannot be read: " + q->getMessageDetail()};
  }
  return {Errc::pdf_malformed, std::string("the PDF cannot be read: ") + e.what()};
}

core::Result<OpenPdf> open_pdf(std::string_view pdf, std::size_t max_bytes) {
  if (pdf.size() > max_bytes)
    return core::Error{Errc::pdf_too_large, "the PDF is larger than " + std::to_string(max_bytes) + " bytes"};
  const std::size_t header = pdf.substr(0, 1024).find("%PDF-");
  if (header == std::string_view::npos) return core::Error{Errc::not_a_pdf, "not a PDF (no %PDF- header)"};
  OpenPdf out;
  out.startxref = last_startxref(pdf);
  if (out.startxref < 0)
    return core::Error{Errc::pdf_malformed, "the PDF has no valid startxref (truncated or damaged)"};
  out.xref_stream = !is_xref_table_at(pdf, out.startxref);
  try {
    out.qpdf = std::make_unique<QPDF>();
    out.qpdf->setSuppressWarnings(true);
    // An update appends a section whose /Prev must be a valid cross-reference: a file that
    // only opens by reconstructing its xref cannot be updated incrementally.
    out.qpdf->setAttemptRecovery(false);
    out.qpdf->processMemoryFile("input.pdf", pdf.data(), pdf.size());
    if (out.qpdf->isEncrypted()) return core::Error{Errc::pdf_encrypted, "the PDF is encrypted"};
    if (!out.qpdf->getRoot().isDictionary()) return core::Error{Errc::pdf_malformed, "the PDF has no catalog"};
  } catch (const std::exception& e) {
    return translate(e);
  }
  return out;
}

// Collects what an incremental update writes: objects changed through qpdf (written as
// qpdf unparses them) and objects with verbatim bodies (streams, placeholders).
class Update {
 public:
  Update(OpenPdf& doc, std::string_view original) : m_doc(doc), m_original(original) {
    QPDF& q = *doc.qpdf;
    m_size = q.getTrailer().getKey("/Size").isInteger() ? q.getTrailer().getKey("/Size").getIntValueAsInt() : 0;
    // New numbers start above every number in use and never below /Size (a free entry may
    // carry a newer generation). Numbered here rather than by makeIndirectObject, which
    // resolves every object of the file first (fixDanglingReferences).
    const auto xref = q.getXRefTable();
    m_next = std::max(m_size, xref.empty() ? 1 : xref.rbegin()->first.getObj() + 1);
  }

  QPDFObjectHandle make(const QPDFObjectHandle& direct) {
    auto h = allocate(direct);
    touch(h);
    return h;
  }
  QPDFObjectHandle reserve(std::string body) {
    // Not a null placeholder: qpdf drops dictionary keys whose value is null.
    auto h = allocate(QPDFObjectHandle::newDictionary());
    m_verbatim[h.getObjectID()] = std::move(body);
    return h;
  }
  int next_number() const { return m_next; }
  void touch(const QPDFObjectHandle& indirect) { m_touched.insert(indirect.getObjGen()); }

  // The new file and where each written object starts. The update is written apart and
  // the file assembled once at its final size: the input (megabytes) is copied only once.
  std::string finish(std::map<int, std::size_t>& offsets) {
    const bool newline = m_original.empty() || (m_original.back() != '\n' && m_original.back() != '\r');
    std::string update = newline ? "\n" : "";
    const std::size_t base = m_original.size();  // where `update` begins in the file
    write_update(update, base, offsets);
    std::string out;
    out.reserve(base + update.size());
    out.append(m_original).append(update);
    return out;
  }

 private:
  // Appends the objects, the cross-reference section and the trailer to `out`, which starts
  // `base` bytes into the file.
  void write_update(std::string& out, std::size_t base, std::map<int, std::size_t>& offsets) {
    QPDF& q = *m_doc.qpdf;
    std::map<int, std::pair<int, std::size_t>> entries;  // number -> (generation, offset)
    for (const auto& og : m_touched) {
      const std::size_t at = base + out.size();
      out += std::to_string(og.getObj()) + " " + std::to_string(og.getGen()) + " obj\n";
      out += q.getObject(og).unparseResolved();
      out += "\nendobj\n";
      entries[og.getObj()] = {og.getGen(), at};
      offsets[og.getObj()] = at;
    }
    for (const auto& [num, body] : m_verbatim) {
      const std::size_t at = base + out.size();
      out += std::to_string(num) + " 0 obj\n" + body + "\nendobj\n";
      entries[num] = {0, at};
      offsets[num] = at;
    }
    QPDFObjectHandle trailer = q.getTrailer();
    std::string common = " /Root " + trailer.getKey("/Root").unparse();
    if (trailer.getKey("/Info").isIndirect()) common += " /Info " + trailer.getKey("/Info").unparse();
    if (trailer.getKey("/ID").isArray()) {
      common += " /ID " + trailer.getKey("/ID").unparseResolved();
    } else {
      const std::string id = "<" + new_file_id() + ">";
      common += " /ID [" + id + " " + id + "]";
    }
    common += " /Prev " + std::to_string(m_doc.startxref);
    int last = entries.empty() ? 0 : entries.rbegin()->first;

    if (!m_doc.xref_stream) {
      const std::size_t xref_at = base + out.size();
      out += "xref\n";
      for (auto it = entries.begin(); it != entries.end();) {
        auto end = it;
        int count = 0;
        while (end != entries.end() && end->first == it->first + count) ++end, ++count;
        out += std::to_string(it->first) + " " + std::to_string(count) + "\n";
        for (; it != end; ++it) {
          char line[32];
          std::snprintf(line, sizeof line, "%010zu %05d n\r\n", it->second.second, it->second.first);
          out += line;
        }
      }
      const int size = std::max(m_size, last + 1);
      out += "trailer\n<< /Size " + std::to_string(size) + common + " >>\nstartxref\n" + std::to_string(xref_at) +
             "\n%%EOF\n";
      return;
    }
    // A cross-reference stream (7.5.8), uncompressed: W [1 4 2], one row per entry,
    // including its own.
    const int self = m_next;
    const std::size_t xref_at = base + out.size();
    entries[self] = {0, xref_at};
    last = std::max(last, self);
    std::string rows, index;
    for (auto it = entries.begin(); it != entries.end();) {
      auto end = it;
      int count = 0;
      while (end != entries.end() && end->first == it->first + count) ++end, ++count;
      index += (index.empty() ? "" : " ") + std::to_string(it->first) + " " + std::to_string(count);
      for (; it != end; ++it) {
        const auto off = static_cast<std::uint32_t>(it->second.second);
        const auto gen = static_cast<std::uint16_t>(it->second.first);
        const char row[7] = {1, static_cast<char>(off >> 24), static_cast<char>(off >> 16), static_cast<char>(off >> 8),
                             static_cast<char>(off), static_cast<char>(gen >> 8), static_cast<char>(gen)};
        rows.append(row, 7);
      }
    }
    const int size = std::max(m_size, last + 1);
    out += std::to_string(self) + " 0 obj\n<< /Type /XRef /Size " + std::to_string(size) + " /W [1 4 2] /Index [" +
           index + "]" + common + " /Length " + std::to_string(rows.size()) + " >>\nstream\n" + rows +
           "\nendstream\nendobj\nstartxref\n" + std::to_string(xref_at) + "\n%%EOF\n";
  }

  QPDFObjectHandle allocate(const QPDFObjectHandle& direct) {
    const QPDFObjGen og(m_next++, 0);
    m_doc.qpdf->replaceObject(og, direct);
    return m_doc.qpdf->getObject(og);
  }

  OpenPdf& m_doc;
  std::string_view m_original;
  int m_size = 0;
  int m_next = 1;
  std::set<QPDFObjGen> m_touched;
  std::map<int, std::string> m_verbatim;
};

std::string stream_body(std::string_view dict_entries, std::string_view data) {
  return "<<" + std::string(dict_entries) + " /Length " + std::to_string(data.size()) + " >>\nstream\n" +
         std::string(data) + "\nendstream";
}

// The indirect object that holds `value` (itself when indirect, else its container).
QPDFObjectHandle holder(const QPDFObjectHandle& value, const QPDFObjectHandle& container) {
  return value.isIndirect() ? value : container;
}

std::array<double, 4> visible_box(const QPDFObjectHandle& page) {
  QPDFPageObjectHelper helper(page);
  auto box = helper.getCropBox();
  if (!box.isRectangle()) box = helper.getMediaBox();
  if (!box.isRectangle()) return {0, 0, 612, 792};
  const auto r = box.getArrayAsRectangle();
  return {std::min(r.llx, r.urx), std::min(r.lly, r.ury), std::max(r.llx, r.urx), std::max(r.lly, r.ury)};
}

}  // namespace

core::Result<PdfInfo> inspect_pdf(std::string_view pdf, std::size_t max_bytes) {
  CARTORIO_TRY(auto doc, open_pdf(pdf, max_bytes));
  try {
    PdfInfo info;
    info.xref_stream = doc.xref_stream;
    const auto& pages = doc.qpdf->getAllPages();
    if (pages.empty()) return core::Error{Errc::pdf_malformed, "the PDF has no pages"};
    info.pages = static_cast<int>(pages.size());
    for (const auto& p : pages) info.page_boxes.push_back(visible_box(p));
    auto acro = doc.qpdf->getRoot().getKey("/AcroForm");
    if (acro.isDictionary() && acro.getKey("/Fields").isArray()) {
      for (auto& f : acro.getKey("/Fields").aitems())
        if (f.isDictionary() && f.getKey("/FT").isNameAndEquals("/Sig")) ++info.signature_fields;
    }
    return info;
  } catch (const std::exception& e) {
    return translate(e);
  }
}

core::Result<PreparedSignature> prepare_signature(std::string_view pdf, const SignatureField& field,
                                                  std::size_t max_bytes) {
  if (field.contents_bytes == 0) return core::Error{Errc::invalid_argument, "no room reserved for the signature"};
  CARTORIO_TRY(auto doc, open_pdf(pdf, max_bytes));
  PreparedSignature prepared;
  std::map<int, std::size_t> offsets;
  int value_number = 0;
  std::string value_body;
  try {
    QPDF& q = *doc.qpdf;
    const auto& pages = q.getAllPages();
    if (pages.empty()) return core::Error{Errc::pdf_malformed, "the PDF has no pages"};
    const int page_number = field.appearance ? field.appearance->page : 1;
    if (page_number < 1 || page_number > static_cast<int>(pages.size()))
      return core::Error{Errc::invalid_argument, "page " + std::to_string(page_number) + " does not exist (the PDF has " +
                                                     std::to_string(pages.size()) + ")"};
    QPDFObjectHandle page = pages[static_cast<std::size_t>(page_number - 1)];
    QPDFObjectHandle root = q.getRoot();
    Update update(doc, pdf);

    // The signature dictionary, with placeholders filled in once offsets are known.
    value_body = field.document_timestamp
                     ? "<< /Type /DocTimeStamp /Filter /Adobe.PPKLite /SubFilter /ETSI.RFC3161"
                     : "<< /Type /Sig /Filter /Adobe.PPKLite /SubFilter /ETSI.CAdES.detached";
    value_body += " /ByteRange [" + std::string(kByteRangePlaceholder) + "] /Contents <" +
                  std::string(field.contents_bytes * 2, '0') + ">";
    if (!field.document_timestamp) {
      if (!field.signing_time.empty()) value_body += " /M (" + field.signing_time + ")";
      if (!field.name.empty()) value_body += " /Name " + pdf_text(field.name);
      if (!field.reason.empty()) value_body += " /Reason " + pdf_text(field.reason);
      if (!field.location.empty()) value_body += " /Location " + pdf_text(field.location);
      if (!field.contact_info.empty()) value_body += " /ContactInfo " + pdf_text(field.contact_info);
    }
    value_body += " >>";
    QPDFObjectHandle value = update.reserve(value_body);
    value_number = value.getObjectID();

    // The AcroForm and its field list, created when absent.
    QPDFObjectHandle acro = root.getKey("/AcroForm");
    if (!acro.isDictionary()) {
      acro = update.make(QPDFObjectHandle::parse("<< /Fields [] >>"));
      root.replaceKey("/AcroForm", acro);
      update.touch(root);
    }
    update.touch(holder(acro, root));
    QPDFObjectHandle fields = acro.getKey("/Fields");
    if (!fields.isArray()) {
      fields = QPDFObjectHandle::newArray();
      acro.replaceKey("/Fields", fields);
    }
    std::set<std::string> names;
    for (auto& f : fields.aitems())
      if (f.isDictionary() && f.getKey("/T").isString()) names.insert(f.getKey("/T").getUTF8Value());
    const std::string base = field.document_timestamp ? "DocumentTimestamp" : "Signature";
    for (int n = 1;; ++n) {
      prepared.field_name = base + std::to_string(n);
      if (!names.count(prepared.field_name)) break;
    }
    acro.replaceKey("/SigFlags", QPDFObjectHandle::newInteger(3));  // signatures exist, append only

    // The field merged with its widget annotation (12.7.3.1, 12.5.6.19).
    QPDFObjectHandle widget = QPDFObjectHandle::parse("<< /Type /Annot /Subtype /Widget /FT /Sig /F 132 /T (" +
                                                      prepared.field_name + ") /Rect [0 0 0 0] >>");
    widget.replaceKey("/V", value);
    widget.replaceKey("/P", page);
    if (field.appearance) {
      const auto& a = *field.appearance;
      const double w = a.rect[2] - a.rect[0], h = a.rect[3] - a.rect[1];
      if (w <= 0 || h <= 0) return core::Error{Errc::invalid_argument, "the stamp's rectangle is empty"};
      widget.replaceKey("/Rect", QPDFObjectHandle::parse("[" + pdf_number(a.rect[0]) + " " + pdf_number(a.rect[1]) +
                                                         " " + pdf_number(a.rect[2]) + " " + pdf_number(a.rect[3]) +
                                                         "]"));
      QPDFObjectHandle font =
          update.reserve("<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica /Encoding /WinAnsiEncoding >>");
      QPDFObjectHandle form = update.reserve(stream_body(
          " /Type /XObject /Subtype /Form /BBox [0 0 " + pdf_number(w) + " " + pdf_number(h) +
              "] /Resources << /Font << " + a.font_resource + " " + font.unparse() + " >> /ProcSet [/PDF /Text] >>",
          a.content));
      QPDFObjectHandle ap = QPDFObjectHandle::newDictionary();
      ap.replaceKey("/N", form);
      widget.replaceKey("/AP", ap);
    }
    QPDFObjectHandle widget_ref = update.make(widget);
    fields.appendItem(widget_ref);
    if (fields.isIndirect()) update.touch(fields);

    QPDFObjectHandle annots = page.getKey("/Annots");
    if (!annots.isArray()) {
      annots = QPDFObjectHandle::newArray();
      page.replaceKey("/Annots", annots);
    }
    annots.appendItem(widget_ref);
    update.touch(holder(annots, page));
    update.touch(page);

    prepared.pdf = update.finish(offsets);
  } catch (const std::exception& e) {
    return translate(e);
  }

  // Locate the placeholders in the written signature dictionary and fill /ByteRange.
  const std::size_t object_at = offsets.at(value_number);
  const std::size_t body_at = object_at + std::to_string(value_number).size() + 7;  // "N 0 obj\n"
  const std::size_t range_at = body_at + value_body.find(kByteRangePlaceholder);
  prepared.hole_begin = body_at + value_body.find("/Contents <") + 10;
  prepared.hole_end = prepared.hole_begin + 2 + field.contents_bytes * 2;
  const std::string ranges = "0 " + std::to_string(prepared.hole_begin) + " " + std::to_string(prepared.hole_end) +
                             " " + std::to_string(prepared.pdf.size() - prepared.hole_end);
  if (ranges.size() > kByteRangePlaceholder.size())
    return core::Error{Errc::pdf_too_large, "the PDF is too large for a /ByteRange"};
  std::string padded = ranges + std::string(kByteRangePlaceholder.size() - ranges.size(), ' ');
  prepared.pdf.replace(range_at, padded.size(), padded);
  return prepared;
}

core::Result<std::string> append_dss(std::string_view pdf, const DerList& certificates, const DerList& ocsp_responses,
                                     const DerList& crls, std::size_t max_bytes) {
  CARTORIO_TRY(auto doc, open_pdf(pdf, max_bytes));
  try {
    QPDF& q = *doc.qpdf;
    QPDFObjectHandle root = q.getRoot();
    Update update(doc, pdf);
    QPDFObjectHandle dss = root.getKey("/DSS");
    if (!dss.isDictionary()) {
      dss = update.make(QPDFObjectHandle::newDictionary());
      root.replaceKey("/DSS", dss);
      update.touch(root);
    }
    update.touch(holder(dss, root));
    auto add = [&](const char* key, const DerList& items) {
      if (items.empty()) return;
      QPDFObjectHandle array = dss.getKey(key);
      if (!array.isArray()) {
        array = QPDFObjectHandle::newArray();
        dss.replaceKey(key, array);
      }
      // What the store already holds is not added twice (re-signing a B-LT document).
      std::set<std::string> present;
      for (auto& s : array.aitems()) {
        if (!s.isStream()) continue;
        const auto buf = s.getStreamData(qpdf_dl_all);
        present.emplace(reinterpret_cast<const char*>(buf->getBuffer()), buf->getSize());
      }
      for (const auto& item : items) {
        std::string der(item.begin(), item.end());
        if (!present.insert(der).second) continue;
        array.appendItem(update.reserve(stream_body("", der)));
      }
      if (array.isIndirect()) update.touch(array);
    };
    add("/Certs", certificates);
    add("/OCSPs", ocsp_responses);
    add("/CRLs", crls);
    std::map<int, std::size_t> offsets;
    return update.finish(offsets);
  } catch (const std::exception& e) {
    return translate(e);
  }
}

}  // namespace cartorio::signing::detail
