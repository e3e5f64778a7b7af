// The re-encryption pass: after a data-key rotation, moves one table's personal-data tokens
// to the active key, a page at a time, while the service keeps running — readers open old
// and new tokens alike (retired keys stay in the ring), writers already seal under the new
// key, and each row is written back with compare-and-set so a concurrent update wins.
//
// Store-agnostic: the store implements EncryptedTable for one table. In SQL terms:
//
//   rows_after:  SELECT id, cpf, name, email FROM users WHERE id > ? ORDER BY id LIMIT ?
//   replace:     UPDATE users SET cpf = ?, ... WHERE id = ? AND cpf = ? AND ... AND email IS NULL
//                (only the columns that changed are set; every column of `current` is
//                compared, and the columns it lacks with IS NULL; 0 rows updated → false)
//
// Blind indexes are untouched: the plaintexts, hence their digests, stay the same.
//
// A token that does not open (damaged, moved, or under a key the ring lost) is left as it
// is and counted, so one bad row does not stop the rotation of the others; store and key
// ring failures end the pass with their error. A rotation during a pass leaves the rows
// already visited under the previous key: the next pass moves them.
#pragma once

#include "core/error.h"
#include "pii/field_cipher.h"

#include <cstddef>
#include <map>
#include <string>
#include <string_view>
#include <vector>

namespace cartorio::pii {

class EncryptedTable {
 public:
  struct Row {
    std::string id;                             // the FieldContext::row_id its tokens were sealed with
    std::map<std::string, std::string> tokens;  // column → token; NULL columns left out
  };

  virtual ~EncryptedTable() = default;
  // Up to `limit` rows whose id comes after `after_id` (empty: from the first) in the
  // table's own id order, that order ascending.
  virtual core::Result<std::vector<Row>> rows_after(std::string_view after_id, std::size_t limit) = 0;
  // Writes `resealed` (same id and columns as `current`, some tokens replaced) only if the
  // row still holds exactly `current`'s tokens (and still NULL where `current` has none).
  // false when it does not (updated or deleted since read): the row is then left as the
  // concurrent writer made it.
  virtual core::Result<bool> replace(const Row& current, const Row& resealed) = 0;
};

struct ReencryptOptions {
  std::size_t page_size = 200;
  // Resume after this row id (the last_row_id of an earlier, bounded run); empty: from the start.
  std::string start_after;
  // Stop after this many rows (0: the whole table), so a job can bound one run's work.
  std::size_t max_rows = 0;
};

struct ReencryptStats {
  std::size_t rows_scanned = 0;
  std::size_t rows_updated = 0;
  std::size_t tokens_resealed = 0;  // written back
  std::size_t rows_changed_concurrently = 0;  // compare-and-set lost; the writer's tokens stand
  std::size_t tokens_unreadable = 0;          // did not open; left alone
  std::string first_unreadable;  // "row <id> column <c>: <error>" (no plaintext), for the operator
  std::string last_row_id;       // where a bounded run stopped; resume with start_after
  bool complete = false;         // the end of the table was reached
};

// Re-seals, under the active data key, every token of `table` sealed under another key.
// `table_name` is the FieldContext::table the tokens were sealed with.
// Errc::invalid_argument for page_size 0 or a source that does not advance; otherwise the
// first store or key ring error.
core::Result<ReencryptStats> reencrypt(const FieldCipher& cipher, std::string_view table_name, EncryptedTable& table,
                                       const ReencryptOptions& options = {});

}  // namespace cartorio::pii
