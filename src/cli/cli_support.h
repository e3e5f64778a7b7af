// What every subcommand shares: where the data dir is, how errors become exit codes and
// messages, reading inputs.
#pragma once

#include "core/config.h"
#include "core/error.h"
#include "crypto/ossl.h"

#include <cstddef>
#include <optional>
#include <string>

namespace cartorio::cli {

// Exit codes scripts can rely on (docs/cli.md).
enum ExitCode : int {
  kOk = 0,
  kFailure = 1,      // internal, I/O or crypto failure
  kUsage = 2,        // bad command line
  kBadInput = 3,     // invalid CSR, serial, reason, profile...
  kDenied = 4,       // wrong passphrase, not the root key
  kNotFound = 5,     // unknown serial, CA, key
  kConflict = 6,     // already revoked / initialised / exists
  kUnavailable = 7,  // store or key backend unreachable
  kNotReady = 8,     // bad configuration, or no installation in the data dir
  kSignatureInvalid = 9,        // `pdf verify`: a signature is invalid
  kSignatureIndeterminate = 10, // `pdf verify`: none invalid, but one cannot be confirmed, or none at all
  kTampered = 11,               // `audit verify`: a log no longer matches its signed tree heads
};

int exit_code_for(core::Errc code);
// Prints "error: <code name>: <message>" to stderr and returns the exit code.
int fail(const core::Error& e);

// "cli:<login name>" (or "cli:<uid>") of whoever runs the command: the actor audit events name.
std::string operator_name();

// --data-dir, else $CARTORIO_DATA_DIR, else ./cartorio-data.
std::string resolve_data_dir(const std::string& flag);

// Loads DATA_DIR/config.toml + env; logs go to stderr for CLI commands.
core::Result<core::Config> load_cli_config(const std::string& data_dir);

// Reads a file, or standard input for "-".
// A bound (1 MiB for CSRs and sealed keys) keeps `--csr /dev/zero` from eating memory.
core::Result<std::string> read_input(const std::string& path, std::size_t max_bytes = 1 << 20,
                                     core::Errc too_large = core::Errc::malformed_input);
// Writes to a file atomically, or to stdout when path is empty or "-".
core::Result<void> write_output(const std::string& path, const std::string& content, unsigned mode = 0644);

// "30d", "12h", "90m", "3600s" or plain seconds -> seconds. Errc::invalid_argument.
core::Result<long long> parse_duration(const std::string& text);

// A passphrase from a file (first line) or $CARTORIO_ROOT_PASSPHRASE.
core::Result<std::string> root_passphrase(const std::string& file_flag);

// The offline root key, brought to a ceremony: the sealed file and its passphrase.
core::Result<crypto::PKey> load_root_key(const std::string& sealed_file, const std::string& passphrase_file);

}  // namespace cartorio::cli
