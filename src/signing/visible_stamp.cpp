#include "signing/visible_stamp.h"

#include "signing/detail/pdf_number.h"
#include "signing/detail/utf8.h"

#include <qrencode.h>

#include <memory>

namespace cartorio::signing {
namespace {

using core::Errc;
using detail::pdf_number;

// A PDF literal string in WinAnsiEncoding (Latin-1 agrees with it from 0xA0 up).
std::string win_ansi_literal(std::string_view utf8) {
  std::string out = "(";
  detail::for_each_code_point(utf8, [&](unsigned cp) {
    if (cp < 0x20 || (cp >= 0x7F && cp < 0xA0) || cp > 0xFF) cp = '?';
    if (cp == '(' || cp == ')' || cp == '\\') out += '\\';
    out += static_cast<char>(cp);
  });
  return out + ")";
}

struct QrDeleter {
  void operator()(QRcode* q) const noexcept { QRcode_free(q); }
};

}  // namespace

core::Result<SignatureAppearance> make_stamp(const PdfInfo& info, int page, const StampText& text,
                                             std::optional<std::array<double, 4>> rect) {
  if (page < 1 || page > info.pages)
    return core::Error{Errc::invalid_argument,
                       "page " + std::to_string(page) + " does not exist (the PDF has " + std::to_string(info.pages) + ")"};
  const auto box = info.page_boxes.at(static_cast<std::size_t>(page - 1));
  SignatureAppearance a;
  a.page = page;
  if (rect) {
    a.rect = *rect;
    if (a.rect[2] <= a.rect[0] || a.rect[3] <= a.rect[1] || a.rect[0] < box[0] || a.rect[1] < box[1] ||
        a.rect[2] > box[2] || a.rect[3] > box[3])
      return core::Error{Errc::invalid_argument, "the stamp's rectangle is empty or not on the page"};
  } else {
    const double w = 252, h = 84, margin = 24;
    a.rect = {box[2] - margin - w, box[1] + margin, box[2] - margin, box[1] + margin + h};
    if (a.rect[0] < box[0]) a.rect[0] = box[0];
    if (a.rect[3] > box[3]) a.rect[3] = box[3];
  }
  const double w = a.rect[2] - a.rect[0], h = a.rect[3] - a.rect[1];

  std::string c;
  c += "q 0.96 0.97 1 rg 0 0 " + pdf_number(w) + " " + pdf_number(h) + " re f Q\n";
  c += "q 0.12 0.23 0.45 RG 0.8 w 0.4 0.4 " + pdf_number(w - 0.8) + " " + pdf_number(h - 0.8) + " re S Q\n";
  double text_x = 6;
  if (!text.verify_url.empty()) {
    std::unique_ptr<QRcode, QrDeleter> qr(QRcode_encodeString(text.verify_url.c_str(), 0, QR_ECLEVEL_M, QR_MODE_8, 1));
    if (!qr) return core::Error{Errc::invalid_argument, "the verification URL does not fit in a QR code"};
    const double side = h - 8;
    const double module = side / (qr->width + 2);  // one quiet module each side on the light background
    c += "q 1 1 1 rg 4 4 " + pdf_number(side) + " " + pdf_number(side) + " re f 0 0 0 rg\n";
    for (int y = 0; y < qr->width; ++y)
      for (int x = 0; x < qr->width; ++x)
        if (qr->data[y * qr->width + x] & 1)
          c += pdf_number(4 + module * (x + 1)) + " " + pdf_number(4 + side - module * (y + 2)) + " " +
               pdf_number(module) + " " + pdf_number(module) + " re\n";
    c += "f Q\n";
    text_x = side + 10;
  }
  const std::string lines[] = {"Assinado digitalmente por", text.signer, text.signed_at, "Documento " + text.document_id,
                               "Verifique pelo QR code"};
  c += "BT 0.1 0.1 0.1 rg\n";
  double y = h - 14;
  for (std::size_t i = 0; i < std::size(lines); ++i) {
    const double size = i == 1 ? 9 : 7;
    c += a.font_resource + " " + pdf_number(size) + " Tf 1 0 0 1 " + pdf_number(text_x) + " " + pdf_number(y) +
         " Tm " + win_ansi_literal(lines[i]) + " Tj\n";
    y -= i == 0 ? 12 : 13;
  }
  c += "ET\n";
  a.content = std::move(c);
  return a;
}

}  // namespace cartorio::signing
