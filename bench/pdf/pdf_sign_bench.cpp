// Documents per second through flow 1 in process (DocumentService::sign: per-document key,
// CSR, certificate from the Document Signing CA recorded in the store, PAdES at the asked
// level with a time-stamp from the own TSA, the signed PDF in the object store, the record
// and its audit event) — what POST /api/v1/documents does behind HTTP. Run by
// bench/pdf/run.sh, which makes the installation and the input PDFs:
//   CARTORIO_DATA_DIR=... pdf_sign_bench --input=FILE [--level=B-T] [google benchmark flags]
#include "app/document_stack.h"
#include "app/runtime.h"
#include "core/config.h"
#include "core/log.h"

#include <benchmark/benchmark.h>

#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <iterator>
#include <memory>
#include <optional>
#include <string>

namespace {

std::string g_input;
std::string g_level = "B-T";

// One installation opened once and shared by the benchmark's threads, as a server's
// worker threads share it.
struct Shared {
  std::optional<cartorio::app::Runtime> rt;
  std::unique_ptr<cartorio::app::DocumentStack> stack;
  std::string pdf;
  std::string error;
};

Shared& shared() {
  static Shared s = [] {
    Shared out;
    const char* dir = std::getenv("CARTORIO_DATA_DIR");
    if (!dir) return out.error = "CARTORIO_DATA_DIR is not set", std::move(out);
    auto cfg = cartorio::core::load_config(dir);
    if (!cfg) return out.error = cfg.error().to_string(), std::move(out);
    auto rt = cartorio::app::open_runtime(*cfg, "bench", cartorio::app::OpenMode::existing);
    if (!rt) return out.error = rt.error().to_string(), std::move(out);
    out.rt.emplace(std::move(*rt));
    auto stack = cartorio::app::open_document_stack(*out.rt, nullptr);
    if (!stack) return out.error = stack.error().to_string(), std::move(out);
    out.stack = std::move(*stack);
    std::ifstream in(g_input, std::ios::binary);
    out.pdf.assign(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
    if (out.pdf.empty()) out.error = "cannot read --input";
    return out;
  }();
  return s;
}

void BM_SignDocument(benchmark::State& state) {
  Shared& s = shared();
  if (!s.error.empty()) return state.SkipWithError(s.error.c_str());
  const std::string& pdf = s.pdf;
  auto level = cartorio::signing::parse_pades_level(g_level);
  if (!level) return state.SkipWithError(level.error().to_string().c_str());

  cartorio::documents::SignDocumentRequest req;
  req.pdf = pdf;
  req.title = "bench";
  req.owner = "bench";
  req.signer_name = "Bench Tabeliao";
  req.level = *level;
  std::size_t out_bytes = 0;
  for (auto _ : state) {
    auto signed_doc = s.stack->service->sign(req);
    if (!signed_doc) return state.SkipWithError(signed_doc.error().to_string().c_str());
    out_bytes = signed_doc->pdf.size();
    benchmark::DoNotOptimize(out_bytes);
  }
  state.SetItemsProcessed(state.iterations());
  state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations() * pdf.size()));
  state.counters["input_bytes"] = static_cast<double>(pdf.size());
  state.counters["output_bytes"] = static_cast<double>(out_bytes);
}
BENCHMARK(BM_SignDocument)->Unit(benchmark::kMillisecond)->UseRealTime()->Threads(1)->Threads(2);

}  // namespace

int main(int argc, char** argv) {
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    if (a.rfind("--input=", 0) == 0) g_input = a.substr(8);
    if (a.rfind("--level=", 0) == 0) g_level = a.substr(8);
  }
  cartorio::core::log::init(cartorio::core::log::Level::error, cartorio::core::log::Sink::stderr_sink);
  benchmark::Initialize(&argc, argv);
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return 0;
}
