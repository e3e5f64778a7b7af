#include "ocsp/presigner.h"

#include "core/log.h"

namespace cartorio::ocsp {

core::Result<PresignReport> presign_live(CachedSource& source, store::CertificateRepository& certificates,
                                         const core::Clock& clock) {
  PresignReport report;
  store::CertificateFilter filter;
  filter.issuer = source.ca();
  filter.not_after_after = core::to_unix(clock.now());
  filter.limit = 1000;
  for (;;) {
    CARTORIO_TRY(auto page, certificates.list_certificates(filter));
    for (const auto& rec : page) {
      if (auto r = source.refresh(rec.serial); r) {
        ++report.certificates;
      } else {
        ++report.failed;
        core::log::warn("ocsp.presign_failed",
                        {{"ca", source.ca()}, {"serial", rec.serial}, {"error", r.error().to_string()}});
      }
    }
    if (page.size() < static_cast<std::size_t>(filter.limit)) break;
    filter.offset += filter.limit;
  }
  return report;
}

}  // namespace cartorio::ocsp
