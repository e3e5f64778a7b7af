// Prometheus metrics (text exposition format 0.0.4): counters and histograms with labels,
// kept in a process-wide registry as the Prometheus client libraries do, so any module can
// count what it does (key operations in keys/, issuances in pki/) without threading a
// registry through every constructor. Served at /metrics by `cartorio serve`.
//
// Label values are escaped on output; keep label sets small and bounded (route patterns,
// never raw paths or user input). Thread-safe.
#pragma once

#include <chrono>
#include <cstdint>
#include <map>
#include <mutex>
#include <string>
#include <vector>

namespace cartorio::metrics {

using Labels = std::vector<std::pair<std::string, std::string>>;

class Registry {
 public:
  // Declares a family once (later calls with the same name are no-ops).
  void describe_counter(const std::string& name, const std::string& help);
  void describe_histogram(const std::string& name, const std::string& help, std::vector<double> buckets);
  void describe_gauge(const std::string& name, const std::string& help);

  void increment(const std::string& name, const Labels& labels, std::uint64_t by = 1);
  void observe(const std::string& name, const Labels& labels, double value);
  void set(const std::string& name, const Labels& labels, double value);  // a gauge

  // The exposition text of every family, sorted by name then labels.
  std::string render() const;

 private:
  struct Histogram {
    std::vector<std::uint64_t> counts;  // per bucket (not cumulative)
    std::uint64_t count = 0;
    double sum = 0;
  };

 public:
  // A counter series and a histogram series found once by name and labels, for a hot path
  // that records the same pair again and again (the HTTP server, once per request): record()
  // then only takes the lock. Series are never erased, so the handle stays valid.
  class CounterAndHistogram {
    friend class Registry;
    std::uint64_t* m_counter = nullptr;
    Histogram* m_histogram = nullptr;
    const std::vector<double>* m_buckets = nullptr;
  };
  CounterAndHistogram series(const std::string& counter, const Labels& counter_labels, const std::string& histogram,
                             const Labels& histogram_labels);
  void record(const CounterAndHistogram& series, double value);

 private:
  static void observe_locked(Histogram& h, const std::vector<double>& buckets, double value);
  struct Family {
    std::string help;
    bool histogram = false;
    std::vector<double> buckets;
    std::map<Labels, std::uint64_t> counters;
    std::map<Labels, Histogram> histograms;
    bool gauge = false;
    std::map<Labels, double> gauges;
  };
  mutable std::mutex m_mutex;
  std::map<std::string, Family> m_families;
};

// The process-wide registry.
Registry& registry();

// Shorthands on the process-wide registry for the families every binary has.
void count_key_operation(const std::string& purpose);
void count_certificate_issued(const std::string& issuer, const std::string& profile);
void observe_http_request(const std::string& listener, const std::string& method, const std::string& route,
                          int status, std::chrono::microseconds duration);
void count_rate_limited(const std::string& scope);
// status: "granted" or "rejection" (the PKIStatus of the TimeStampResp).
void count_timestamp(const std::string& status);
// A scheduled job's run ended: result "success" | "failure" | "timeout".
void count_job_run(const std::string& job, const std::string& result, std::chrono::milliseconds duration);
// When `job` last succeeded, on any instance (Unix seconds): what a "job stopped running"
// alert compares with time().
void set_job_last_success(const std::string& job, std::int64_t unix_seconds);

}  // namespace cartorio::metrics
