#include "pii/reencrypt.h"

#include <algorithm>

namespace cartorio::pii {

using core::Errc;
using core::Error;

core::Result<ReencryptStats> reencrypt(const FieldCipher& cipher, std::string_view table_name, EncryptedTable& table,
                                       const ReencryptOptions& options) {
  if (options.page_size == 0) return Error(Errc::invalid_argument, "re-encryption page size must be positive");
  ReencryptStats stats;
  std::string after = options.start_after;
  for (;;) {
    std::size_t limit = options.page_size;
    if (options.max_rows != 0) {
      if (stats.rows_scanned >= options.max_rows) break;
      limit = std::min(limit, options.max_rows - stats.rows_scanned);
    }
    CARTORIO_TRY(std::vector<EncryptedTable::Row> page, table.rows_after(after, limit));
    if (page.empty()) {
      stats.complete = true;
      break;
    }
    if (page.size() > limit)
      return Error(Errc::invalid_argument, "re-encryption of " + std::string(table_name) + ": the source returned " +
                                               std::to_string(page.size()) + " rows for a page of " +
                                               std::to_string(limit));
    // One look at the ring per page: current tokens are skipped on their key id alone.
    CARTORIO_TRY(std::string active_id, cipher.active_key_id());
    for (const auto& row : page) {
      // Guards against a source that ignores the cursor: the pass would never end.
      if (row.id == after)
        return Error(Errc::invalid_argument, "re-encryption of " + std::string(table_name) + ": the source returned row " +
                                                 row.id + " again after it");
      ++stats.rows_scanned;
      EncryptedTable::Row resealed = row;
      std::size_t changed = 0;
      for (auto& [column, token] : resealed.tokens) {
        auto id = FieldCipher::key_id_of(token);
        if (id && *id == active_id) continue;
        const FieldContext ctx{table_name, column, row.id};
        auto next = cipher.reseal(ctx, token);  // asks the ring again: a newer key may be active
        if (!next) {
          if (next.error().code != Errc::store_error) return std::move(next).error();
          if (stats.tokens_unreadable++ == 0)
            stats.first_unreadable = "row " + row.id + " column " + column + ": " + next.error().to_string();
          continue;
        }
        if (!next->has_value()) continue;
        token = std::move(**next);
        ++changed;
      }
      if (changed != 0) {
        CARTORIO_TRY(bool written, table.replace(row, resealed));
        if (written) {
          ++stats.rows_updated;
          stats.tokens_resealed += changed;
        } else {
          ++stats.rows_changed_concurrently;
        }
      }
      after = row.id;
    }
    stats.last_row_id = after;
  }
  return stats;
}

}  // namespace cartorio::pii
