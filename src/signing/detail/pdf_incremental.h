// The qpdf side of pdf_update.h: inspect_pdf, prepare_signature and append_dss as that
// header describes them, which pdf_update.cpp calls.
//
// Internal to cartorio_signing. C++17-clean like the verifier's qpdf files (qpdf 11.3's
// headers do not compile as C++20 with clang: pdf_update_types.h), so it cannot use the
// crypto headers (std::span): the DER lists are std::vector<crypto::Bytes> spelt out, and
// the file identifier comes from new_file_id(), defined in pdf_update.cpp.
#pragma once

#include "core/error.h"
#include "signing/pdf_update_types.h"

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace cartorio::signing::detail {

core::Result<PdfInfo> inspect_pdf(std::string_view pdf, std::size_t max_bytes);
core::Result<PreparedSignature> prepare_signature(std::string_view pdf, const SignatureField& field,
                                                  std::size_t max_bytes);
using DerList = std::vector<std::vector<std::uint8_t>>;  // std::vector<crypto::Bytes>
core::Result<std::string> append_dss(std::string_view pdf, const DerList& certificates, const DerList& ocsp_responses,
                                     const DerList& crls, std::size_t max_bytes);

// A new file identifier (ISO 32000-1 14.4) for a file that has none: 16 random bytes, hex.
std::string new_file_id();

}  // namespace cartorio::signing::detail
