#include "metrics/metrics.h"

#include <algorithm>
#include <cstdio>
#include <sstream>
#include <string_view>
#include <unordered_map>

namespace cartorio::metrics {

namespace {

std::string escape(const std::string& v) {
  std::string out;
  for (char c : v) {
    if (c == '\\' || c == '"') out += '\\';
    if (c == '\n') {
      out += "\\n";
      continue;
    }
    out += c;
  }
  return out;
}

std::string label_text(const Labels& labels, const std::string& extra = "") {
  std::string out;
  for (const auto& [k, v] : labels) out += (out.empty() ? "" : ",") + k + "=\"" + escape(v) + "\"";
  if (!extra.empty()) out += (out.empty() ? "" : ",") + extra;
  return out.empty() ? "" : "{" + out + "}";
}

std::string number(double v) {
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.17g", v);
  return buf;
}

const std::vector<double> kLatencyBuckets = {0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025,
                                             0.05,   0.1,   0.25,   0.5,   1,    2.5, 5, 10};

Registry& described() {
  static Registry& r = [] () -> Registry& {
    static Registry reg;
    reg.describe_counter("cartorio_http_requests_total", "HTTP requests answered, by listener, method, route and status");
    reg.describe_histogram("cartorio_http_request_duration_seconds", "HTTP request latency, by listener and route",
                           kLatencyBuckets);
    reg.describe_counter("cartorio_key_operations_total", "Private-key operations, by purpose");
    reg.describe_counter("cartorio_certificates_issued_total", "Certificates issued, by CA and profile");
    reg.describe_counter("cartorio_rate_limited_total", "Requests refused by rate limiting, by scope");
    reg.describe_counter("cartorio_timestamps_total", "RFC 3161 time-stamp requests answered by the own TSA, by status");
    reg.describe_counter("cartorio_job_runs_total", "Scheduled job runs ended in this process, by job and result");
    reg.describe_histogram("cartorio_job_duration_seconds", "Scheduled job run time, by job",
                           {0.01, 0.1, 1, 10, 60, 300, 1800});
    reg.describe_gauge("cartorio_job_last_success_timestamp_seconds",
                       "When each scheduled job last succeeded on any instance (Unix time)");
    return reg;
  }();
  return r;
}

}  // namespace

void Registry::describe_counter(const std::string& name, const std::string& help) {
  std::lock_guard lock(m_mutex);
  Family f;
  f.help = help;
  m_families.try_emplace(name, std::move(f));
}

void Registry::describe_histogram(const std::string& name, const std::string& help, std::vector<double> buckets) {
  std::lock_guard lock(m_mutex);
  Family f;
  f.help = help;
  f.histogram = true;
  f.buckets = std::move(buckets);
  m_families.try_emplace(name, std::move(f));
}

void Registry::describe_gauge(const std::string& name, const std::string& help) {
  std::lock_guard lock(m_mutex);
  Family f;
  f.help = help;
  f.gauge = true;
  m_families.try_emplace(name, std::move(f));
}

void Registry::set(const std::string& name, const Labels& labels, double value) {
  std::lock_guard lock(m_mutex);
  m_families[name].gauges[labels] = value;
}

void Registry::increment(const std::string& name, const Labels& labels, std::uint64_t by) {
  std::lock_guard lock(m_mutex);
  auto& f = m_families[name];
  f.counters[labels] += by;
}

void Registry::observe(const std::string& name, const Labels& labels, double value) {
  std::lock_guard lock(m_mutex);
  auto& f = m_families[name];
  observe_locked(f.histograms[labels], f.buckets, value);
}

void Registry::observe_locked(Histogram& h, const std::vector<double>& buckets, double value) {
  if (h.counts.size() != buckets.size()) h.counts.assign(buckets.size(), 0);
  for (std::size_t i = 0; i < buckets.size(); ++i)
    if (value <= buckets[i]) {
      ++h.counts[i];
      break;
    }
  ++h.count;
  h.sum += value;
}

Registry::CounterAndHistogram Registry::series(const std::string& counter, const Labels& counter_labels,
                                               const std::string& histogram, const Labels& histogram_labels) {
  std::lock_guard lock(m_mutex);
  CounterAndHistogram s;
  s.m_counter = &m_families[counter].counters[counter_labels];
  auto& f = m_families[histogram];
  s.m_histogram = &f.histograms[histogram_labels];
  s.m_buckets = &f.buckets;
  return s;
}

void Registry::record(const CounterAndHistogram& s, double value) {
  std::lock_guard lock(m_mutex);
  ++*s.m_counter;
  observe_locked(*s.m_histogram, *s.m_buckets, value);
}

std::string Registry::render() const {
  std::lock_guard lock(m_mutex);
  std::ostringstream os;
  for (const auto& [name, f] : m_families) {
    os << "# HELP " << name << " " << f.help << "\n# TYPE " << name
       << (f.histogram ? " histogram\n" : f.gauge ? " gauge\n" : " counter\n");
    for (const auto& [labels, value] : f.counters) os << name << label_text(labels) << " " << value << "\n";
    for (const auto& [labels, value] : f.gauges) os << name << label_text(labels) << " " << number(value) << "\n";
    for (const auto& [labels, h] : f.histograms) {
      std::uint64_t cumulative = 0;
      for (std::size_t i = 0; i < f.buckets.size(); ++i) {
        cumulative += h.counts[i];
        os << name << "_bucket" << label_text(labels, "le=\"" + number(f.buckets[i]) + "\"") << " " << cumulative
           << "\n";
      }
      os << name << "_bucket" << label_text(labels, "le=\"+Inf\"") << " " << h.count << "\n";
      os << name << "_sum" << label_text(labels) << " " << number(h.sum) << "\n";
      os << name << "_count" << label_text(labels) << " " << h.count << "\n";
    }
  }
  return os.str();
}

Registry& registry() { return described(); }

void count_key_operation(const std::string& purpose) {
  registry().increment("cartorio_key_operations_total", {{"purpose", purpose}});
}

void count_certificate_issued(const std::string& issuer, const std::string& profile) {
  registry().increment("cartorio_certificates_issued_total", {{"issuer", issuer}, {"profile", profile}});
}

void observe_http_request(const std::string& listener, const std::string& method, const std::string& route,
                          int status, std::chrono::microseconds duration) {
  // A client may send any method token: only the standard ones become label values.
  static constexpr std::string_view kMethods[] = {"GET", "HEAD", "POST", "PUT", "DELETE", "PATCH", "OPTIONS"};
  static const std::string kOther = "other";
  const bool standard = std::find(std::begin(kMethods), std::end(kMethods), method) != std::end(kMethods);
  const std::string& label_method = standard ? method : kOther;
  // The series of each (listener, method, route, status) are looked up once per thread.
  thread_local std::unordered_map<std::string, Registry::CounterAndHistogram> seen;
  std::string key = listener;
  key.append(1, '\n').append(label_method).append(1, '\n').append(route).append(1, '\n').append(std::to_string(status));
  auto it = seen.find(key);
  if (it == seen.end()) {
    if (seen.size() >= 4096) seen.clear();  // bounded, whatever the routes
    auto s = registry().series(
        "cartorio_http_requests_total",
        {{"listener", listener}, {"method", label_method}, {"route", route}, {"status", std::to_string(status)}},
        "cartorio_http_request_duration_seconds", {{"listener", listener}, {"route", route}});
    it = seen.emplace(std::move(key), s).first;
  }
  registry().record(it->second, static_cast<double>(duration.count()) / 1e6);
}

void count_rate_limited(const std::string& scope) {
  registry().increment("cartorio_rate_limited_total", {{"scope", scope}});
}

void count_timestamp(const std::string& status) {
  registry().increment("cartorio_timestamps_total", {{"status", status}});
}

void count_job_run(const std::string& job, const std::string& result, std::chrono::milliseconds duration) {
  auto& r = registry();
  r.increment("cartorio_job_runs_total", {{"job", job}, {"result", result}});
  r.observe("cartorio_job_duration_seconds", {{"job", job}}, static_cast<double>(duration.count()) / 1e3);
}

void set_job_last_success(const std::string& job, std::int64_t unix_seconds) {
  registry().set("cartorio_job_last_success_timestamp_seconds", {{"job", job}}, static_cast<double>(unix_seconds));
}

}  // namespace cartorio::metrics
