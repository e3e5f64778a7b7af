// The Prometheus text exposition (format 0.0.4) of counters and histograms.
#include "metrics/metrics.h"

#include <gtest/gtest.h>

#include <thread>
#include <vector>

namespace {

using cartorio::metrics::Registry;

TEST(Metrics, CountersRenderHelpTypeAndSortedLabelledSamples) {
  Registry r;
  r.describe_counter("demo_total", "Things done");
  r.increment("demo_total", {{"kind", "b"}});
  r.increment("demo_total", {{"kind", "a"}}, 3);
  r.increment("demo_total", {{"kind", "b"}});
  EXPECT_EQ(r.render(),
            "# HELP demo_total Things done\n"
            "# TYPE demo_total counter\n"
            "demo_total{kind=\"a\"} 3\n"
            "demo_total{kind=\"b\"} 2\n");
}

TEST(Metrics, LabelValuesAreEscaped) {
  Registry r;
  r.describe_counter("esc_total", "x");
  r.increment("esc_total", {{"v", "a\"b\\c\nd"}});
  EXPECT_NE(r.render().find(R"(esc_total{v="a\"b\\c\nd"} 1)"), std::string::npos) << r.render();
}

TEST(Metrics, HistogramBucketsAreCumulativeWithInfSumAndCount) {
  Registry r;
  r.describe_histogram("lat_seconds", "Latency", {0.1, 1});
  r.observe("lat_seconds", {{"route", "/x"}}, 0.05);
  r.observe("lat_seconds", {{"route", "/x"}}, 0.5);
  r.observe("lat_seconds", {{"route", "/x"}}, 7);
  const std::string text = r.render();
  EXPECT_NE(text.find("# TYPE lat_seconds histogram\n"), std::string::npos);
  EXPECT_NE(text.find("lat_seconds_bucket{route=\"/x\",le=\"0.10000000000000001\"} 1\n"), std::string::npos) << text;
  EXPECT_NE(text.find("lat_seconds_bucket{route=\"/x\",le=\"1\"} 2\n"), std::string::npos) << text;
  EXPECT_NE(text.find("lat_seconds_bucket{route=\"/x\",le=\"+Inf\"} 3\n"), std::string::npos) << text;
  EXPECT_NE(text.find("lat_seconds_sum{route=\"/x\"} 7.5"), std::string::npos) << text;
  EXPECT_NE(text.find("lat_seconds_count{route=\"/x\"} 3\n"), std::string::npos) << text;
}

TEST(Metrics, ConcurrentIncrementsAreNotLost) {
  Registry r;
  r.describe_counter("par_total", "x");
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t)
    threads.emplace_back([&r] {
      for (int i = 0; i < 1000; ++i) r.increment("par_total", {{"k", "v"}});
    });
  for (auto& t : threads) t.join();
  EXPECT_NE(r.render().find("par_total{k=\"v\"} 4000\n"), std::string::npos) << r.render();
}

TEST(Metrics, TheProcessRegistryDescribesTheServerFamilies) {
  cartorio::metrics::count_key_operation("issue-certificate");
  cartorio::metrics::observe_http_request("https", "GET", "/api/v1/ca", 200, std::chrono::microseconds(1500));
  const std::string text = cartorio::metrics::registry().render();
  for (const char* family : {"cartorio_http_requests_total counter", "cartorio_http_request_duration_seconds histogram",
                             "cartorio_key_operations_total counter", "cartorio_certificates_issued_total counter",
                             "cartorio_rate_limited_total counter"})
    EXPECT_NE(text.find(std::string("# TYPE ") + family), std::string::npos) << family;
  EXPECT_NE(text.find("cartorio_key_operations_total{purpose=\"issue-certificate\"} 1"), std::string::npos) << text;
}

TEST(Metrics, HttpRequestsAreCountedPerSeriesAndOddMethodsShareOneLabel) {
  using cartorio::metrics::observe_http_request;
  for (int i = 0; i < 3; ++i) observe_http_request("plain", "GET", "/ocsp/{ca}/{request...}", 200, std::chrono::microseconds(40));
  std::thread other([] { observe_http_request("plain", "GET", "/ocsp/{ca}/{request...}", 200, std::chrono::microseconds(40)); });
  other.join();
  observe_http_request("plain", "FOO", "unmatched", 405, std::chrono::microseconds(10));
  observe_http_request("plain", "BAR", "unmatched", 405, std::chrono::microseconds(10));
  const std::string text = cartorio::metrics::registry().render();
  EXPECT_NE(text.find("cartorio_http_requests_total{listener=\"plain\",method=\"GET\",route=\"/ocsp/{ca}/{request...}\","
                      "status=\"200\"} 4\n"),
            std::string::npos)
      << text;
  EXPECT_NE(text.find("cartorio_http_request_duration_seconds_count{listener=\"plain\",route=\"/ocsp/{ca}/{request...}\"} 4\n"),
            std::string::npos)
      << text;
  EXPECT_NE(text.find("method=\"other\",route=\"unmatched\",status=\"405\"} 2\n"), std::string::npos) << text;
  EXPECT_EQ(text.find("FOO"), std::string::npos);
}

}  // namespace
