// C++17-clean (see signed_pdf_reader.h): no std::span, no C++20 library features.
#include "signing/detail/revision_diff.h"

#include "signing/detail/pdf_file_impl.h"

#include <qpdf/Buffer.hh>
#include <qpdf/QPDFObjectHandle.hh>
#include <qpdf/QPDFXRefEntry.hh>

#include <algorithm>
#include <cstring>
#include <set>
#include <string>

namespace cartorio::signing::detail {

namespace {

constexpr int kMaxPageTreeDepth = 64;
constexpr std::size_t kMaxPages = 100000;
constexpr int kMaxDssDepth = 4;

// Objects of the earlier revision that later ones may change, and how.
struct Context {
  QPDFObjGen catalog, acroform, fields, info, metadata;
  std::set<QPDFObjGen> pages, annots, dss;
};

void add_dss_objects(QPDFObjectHandle h, int depth, std::set<QPDFObjGen>& out) {
  if (depth > kMaxDssDepth) return;
  if (h.isIndirect() && !out.insert(h.getObjGen()).second) return;
  if (h.isDictionary()) {
    for (const auto& key : h.getKeys()) add_dss_objects(h.getKey(key), depth + 1, out);
  } else if (h.isArray()) {
    const int n = h.getArrayNItems();
    for (int i = 0; i < n; ++i) {
      auto item = h.getArrayItem(i);
      // Stream items (certificates, responses) are replaced, never edited: not collected.
      if (!item.isStream()) add_dss_objects(item, depth + 1, out);
    }
  }
}

void add_pages(QPDFObjectHandle node, int depth, Context& c, std::set<QPDFObjGen>& seen) {
  if (depth > kMaxPageTreeDepth || c.pages.size() >= kMaxPages || !node.isDictionary()) return;
  if (node.isIndirect() && !seen.insert(node.getObjGen()).second) return;
  auto kids = node.getKey("/Kids");
  if (kids.isArray()) {
    const int n = kids.getArrayNItems();
    for (int i = 0; i < n; ++i) add_pages(kids.getArrayItem(i), depth + 1, c, seen);
    return;
  }
  if (node.isIndirect()) c.pages.insert(node.getObjGen());
  auto annots = node.getKey("/Annots");
  if (annots.isIndirect()) c.annots.insert(annots.getObjGen());
}

Context context_of(QPDF& q) {
  Context c;
  auto root = q.getRoot();
  if (root.isIndirect()) c.catalog = root.getObjGen();
  auto acroform = root.getKey("/AcroForm");
  if (acroform.isIndirect()) c.acroform = acroform.getObjGen();
  if (acroform.isDictionary()) {
    auto fields = acroform.getKey("/Fields");
    if (fields.isIndirect()) c.fields = fields.getObjGen();
  }
  auto info = q.getTrailer().getKey("/Info");
  if (info.isIndirect()) c.info = info.getObjGen();
  auto metadata = root.getKey("/Metadata");
  if (metadata.isIndirect()) c.metadata = metadata.getObjGen();
  add_dss_objects(root.getKey("/DSS"), 0, c.dss);
  std::set<QPDFObjGen> seen;
  add_pages(root.getKey("/Pages"), 0, c, seen);
  return c;
}

bool same_bytes(const std::shared_ptr<Buffer>& a, const std::shared_ptr<Buffer>& b) {
  if (!a || !b) return a == b;
  return a->getSize() == b->getSize() && (a->getSize() == 0 || std::memcmp(a->getBuffer(), b->getBuffer(), a->getSize()) == 0);
}

bool same_value(QPDFObjectHandle a, QPDFObjectHandle b) {
  if (a.isStream() != b.isStream()) return false;
  if (a.isStream())
    return a.getDict().unparse() == b.getDict().unparse() && same_bytes(a.getRawStreamData(), b.getRawStreamData());
  return a.unparseResolved() == b.unparseResolved();
}

std::set<std::string> changed_keys(QPDFObjectHandle a, QPDFObjectHandle b) {
  std::set<std::string> keys = a.getKeys(), out;
  for (const auto& k : b.getKeys()) keys.insert(k);
  for (const auto& k : keys)
    if (a.getKey(k).unparse() != b.getKey(k).unparse()) out.insert(k);
  return out;
}

bool only_keys(const std::set<std::string>& changed, std::initializer_list<const char*> allowed) {
  return std::all_of(changed.begin(), changed.end(), [&](const std::string& k) {
    return std::any_of(allowed.begin(), allowed.end(), [&](const char* a) { return k == a; });
  });
}

// A signature field or its widget: /FT /Sig on itself or its parent.
bool is_signature_field(QPDFObjectHandle h) {
  if (!h.isDictionary()) return false;
  if (auto ft = h.getKey("/FT"); ft.isName()) return ft.getName() == "/Sig";
  auto parent = h.getKey("/Parent");
  return parent.isDictionary() && parent.getKey("/FT").isName() && parent.getKey("/FT").getName() == "/Sig";
}

// `after` keeps every element of `before`, and whatever it adds is a signature field/widget.
bool appends_signature_fields(QPDFObjectHandle before, QPDFObjectHandle after) {
  if (!after.isArray()) return false;
  std::multiset<std::string> old_items;
  if (before.isArray())
    for (int i = 0; i < before.getArrayNItems(); ++i) old_items.insert(before.getArrayItem(i).unparse());
  else if (!before.isNull())
    return false;
  for (int i = 0; i < after.getArrayNItems(); ++i) {
    auto item = after.getArrayItem(i);
    auto it = old_items.find(item.unparse());
    if (it != old_items.end()) {
      old_items.erase(it);
    } else if (!is_signature_field(item)) {
      return false;
    }
  }
  return old_items.empty();
}

bool acroform_change_allowed(QPDFObjectHandle was, QPDFObjectHandle now) {
  if (was.isNull()) return now.isDictionary() && appends_signature_fields(was, now.getKey("/Fields"));
  if (!was.isDictionary() || !now.isDictionary()) return false;
  const auto keys = changed_keys(was, now);
  return only_keys(keys, {"/Fields", "/SigFlags", "/DR", "/DA"}) &&
         (!keys.count("/Fields") || appends_signature_fields(was.getKey("/Fields"), now.getKey("/Fields")));
}

bool is_signature_dictionary(QPDFObjectHandle h, bool& timestamp) {
  if (!h.isDictionary() || h.isStream()) return false;
  auto type = h.getKey("/Type");
  const std::string t = type.isName() ? type.getName() : "";
  auto sub = h.getKey("/SubFilter");
  timestamp = t == "/DocTimeStamp" || (sub.isName() && sub.getName() == "/ETSI.RFC3161");
  return t == "/Sig" || t == "/DocTimeStamp" || (h.getKey("/ByteRange").isArray() && h.getKey("/Contents").isString());
}

void add_unique(std::vector<std::string>& v, const char* s) {
  if (std::find(v.begin(), v.end(), s) == v.end()) v.emplace_back(s);
}

}  // namespace

RevisionHistory::RevisionHistory(std::string_view pdf, std::vector<RevisionEnd> ends)
    : m_pdf(pdf), m_ends(std::move(ends)) {}
RevisionHistory::RevisionHistory(RevisionHistory&&) noexcept = default;
RevisionHistory::~RevisionHistory() = default;

PdfFile* RevisionHistory::revision(int k) {
  if (auto it = m_loaded.find(k); it != m_loaded.end()) return &it->second;
  if (m_unreadable.count(k)) return nullptr;
  auto file = PdfFile::open(m_pdf.substr(0, m_ends[static_cast<std::size_t>(k - 1)].end), "revision " + std::to_string(k));
  if (!file) {
    m_unreadable[k] = true;
    return nullptr;
  }
  // Changes are asked for in order: only the previous revision is needed again.
  for (auto it = m_loaded.begin(); it != m_loaded.end();)
    it = it->first < k - 1 ? m_loaded.erase(it) : std::next(it);
  return &m_loaded.emplace(k, std::move(*file)).first->second;
}

const RevisionChange& RevisionHistory::change(int k) {
  if (auto it = m_changes.find(k); it != m_changes.end()) return it->second;
  RevisionChange c;
  try {
    c = diff(k);
  } catch (const std::exception&) {
    c = RevisionChange{};
    c.kind = "unknown";
  }
  c.revision = k;
  c.end_offset = m_ends[static_cast<std::size_t>(k - 1)].end;
  return m_changes.emplace(k, std::move(c)).first->second;
}

RevisionChange RevisionHistory::diff(int k) {
  RevisionChange out;
  PdfFile* before_file = revision(k - 1);
  PdfFile* after_file = revision(k);
  if (!before_file || !after_file) {
    out.kind = "unknown";
    return out;
  }
  QPDF* before = before_file->impl().qpdf.get();
  QPDF* after = after_file->impl().qpdf.get();
  const std::size_t start = m_ends[static_cast<std::size_t>(k - 2)].eof_end;
  const std::size_t end = m_ends[static_cast<std::size_t>(k - 1)].end;
  const auto old_xref = before->getXRefTable();
  const auto new_xref = after->getXRefTable();
  const Context ctx = context_of(*before);

  auto offset_of = [&](const QPDFXRefEntry& e) -> long long {
    if (e.getType() == 1) return e.getOffset();
    if (e.getType() == 2) {
      auto s = new_xref.find(QPDFObjGen(e.getObjStreamNumber(), 0));
      if (s != new_xref.end() && s->second.getType() == 1) return s->second.getOffset();
    }
    return -1;
  };

  std::set<int> added, modified, unexpected;
  for (const auto& [og, entry] : new_xref) {
    const long long off = offset_of(entry);
    if (off < 0 || static_cast<std::size_t>(off) < start || static_cast<std::size_t>(off) >= end) continue;
    auto now = after->getObjectByObjGen(og);
    if (now.isStream()) {
      auto type = now.getDict().getKey("/Type");
      if (type.isName() && (type.getName() == "/XRef" || type.getName() == "/ObjStm")) continue;  // file structure
    }
    auto old_entry = old_xref.find(og);
    if (old_entry == old_xref.end() || old_entry->second.getType() == 0) {
      added.insert(og.getObj());
      bool timestamp = false;
      if (is_signature_dictionary(now, timestamp)) add_unique(out.adds, timestamp ? "document_timestamp" : "signature");
      continue;
    }
    auto was = before->getObjectByObjGen(og);
    if (same_value(was, now)) continue;
    modified.insert(og.getObj());

    bool allowed = false;
    if (ctx.dss.count(og)) {
      allowed = true;
      add_unique(out.adds, "dss");
    } else if (og == ctx.info || og == ctx.metadata) {
      allowed = true;
      add_unique(out.adds, "metadata");
    } else if (was.isDictionary() && now.isDictionary() && !was.isStream() && !now.isStream()) {
      const auto keys = changed_keys(was, now);
      if (og == ctx.catalog) {
        // A new /AcroForm (object) is held to the rules of an edited one.
        allowed = only_keys(keys, {"/AcroForm", "/DSS", "/Extensions"}) &&
                  (!keys.count("/AcroForm") || acroform_change_allowed(was.getKey("/AcroForm"), now.getKey("/AcroForm")));
        if (keys.count("/DSS")) add_unique(out.adds, "dss");
      } else if (og == ctx.acroform) {
        allowed = acroform_change_allowed(was, now);
      } else if (ctx.pages.count(og)) {
        allowed = only_keys(keys, {"/Annots"}) &&
                  (!keys.count("/Annots") || appends_signature_fields(was.getKey("/Annots"), now.getKey("/Annots")));
      } else if (is_signature_field(was) && !was.getKey("/V").isDictionary()) {
        // An empty signature field being signed.
        allowed = only_keys(keys, {"/V", "/AP", "/AS", "/M", "/F", "/DA", "/MK", "/P"});
      }
    } else if (was.isArray() && now.isArray() && (og == ctx.fields || ctx.annots.count(og))) {
      allowed = appends_signature_fields(was, now);
    }
    if (!allowed) unexpected.insert(og.getObj());
  }
  // A catalog rewritten with a new /DSS is the usual way validation data arrives; a DSS
  // dictionary written as a new object is then among `added`.
  out.added_objects.assign(added.begin(), added.end());
  out.modified_objects.assign(modified.begin(), modified.end());
  out.unexpected_objects.assign(unexpected.begin(), unexpected.end());
  auto has = [&](const char* a) { return std::find(out.adds.begin(), out.adds.end(), a) != out.adds.end(); };
  if (!unexpected.empty()) out.kind = "other";
  else if (has("signature")) out.kind = "signature";
  else if (has("document_timestamp")) out.kind = "document_timestamp";
  else if (has("dss")) out.kind = "dss";
  else if (has("metadata")) out.kind = "metadata";
  else out.kind = "none";
  return out;
}

}  // namespace cartorio::signing::detail
