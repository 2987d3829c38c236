#include "store/sketch.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <random>

namespace lookout {
namespace {

double exact_quantile(std::vector<double> v, double q) {
  std::sort(v.begin(), v.end());
  return v[static_cast<size_t>(q * static_cast<double>(v.size() - 1))];
}

void expect_accurate(const std::vector<double>& values, const char* what, double accuracy = 0.01) {
  LatencySketch s(accuracy);
  for (double v : values) s.add(v);
  ASSERT_EQ(s.count(), values.size());
  for (double q : {0.0, 0.5, 0.9, 0.95, 0.99, 0.999, 1.0}) {
    const double exact = exact_quantile(values, q);
    const double got = *s.quantile(q);
    EXPECT_LE(std::abs(got - exact), accuracy * exact * (1 + 1e-9))
        << what << ": q=" << q << " exact=" << exact << " sketch=" << got;
  }
}

std::vector<double> generate(const char* kind, size_t n, uint32_t seed) {
  std::mt19937_64 rng(seed);
  std::vector<double> out;
  out.reserve(n);
  const std::string k = kind;
  for (size_t i = 0; i < n; ++i) {
    if (k == "uniform") {
      out.push_back(std::uniform_real_distribution<double>(100, 1e6)(rng));
    } else if (k == "lognormal") {
      out.push_back(std::max(2.0, std::lognormal_distribution<double>(10, 1.5)(rng)));
    } else if (k == "bimodal") {
      out.push_back(i % 3 == 0 ? std::normal_distribution<double>(200'000, 5'000)(rng)
                               : std::max(2.0, std::normal_distribution<double>(1'000, 50)(rng)));
    } else if (k == "equal") {
      out.push_back(4242);
    } else if (k == "outlier") {
      out.push_back(i == n / 2 ? 3.6e9 : 500);
    }
  }
  return out;
}

TEST(Sketch, QuantilesWithinRelativeAccuracyOnEveryDistribution) {
  for (const char* kind : {"uniform", "lognormal", "bimodal", "equal", "outlier"}) {
    for (uint32_t seed : {1u, 2u, 3u}) {
      for (size_t n : {1u, 7u, 100u, 10'000u}) expect_accurate(generate(kind, n, seed), kind);
    }
  }
}

TEST(Sketch, AccuracyIsAParameter) {
  expect_accurate(generate("lognormal", 5000, 9), "lognormal at 5%", 0.05);
  expect_accurate(generate("uniform", 5000, 9), "uniform at 0.5%", 0.005);
}

TEST(Sketch, ValuesOnBucketBoundariesStayAccurate) {
  const double gamma = 1.01 / 0.99;
  std::vector<double> v;
  for (int i = 1; i < 1200; i += 7) {
    v.push_back(std::pow(gamma, i));
    v.push_back(std::nextafter(std::pow(gamma, i), 0.0));
    v.push_back(std::nextafter(std::pow(gamma, i), 1e300));
  }
  expect_accurate(v, "boundaries");
}

TEST(Sketch, MergeEqualsTheSketchOfTheUnion) {
  for (const char* kind : {"uniform", "lognormal", "bimodal", "outlier"}) {
    const auto a = generate(kind, 3000, 11);
    const auto b = generate(kind == std::string("uniform") ? "lognormal" : "uniform", 2000, 12);
    LatencySketch sa, sb, sab;
    for (double v : a) sa.add(v), sab.add(v);
    for (double v : b) sb.add(v), sab.add(v);
    ASSERT_TRUE(sa.merge(sb));
    EXPECT_EQ(sa, sab) << kind;
    EXPECT_EQ(*sa.quantile(0.95), *sab.quantile(0.95));
  }
  LatencySketch coarse(0.05);
  LatencySketch fine;
  EXPECT_FALSE(fine.merge(coarse)) << "different accuracies cannot merge exactly";
}

TEST(Sketch, SmallValuesCountAsZeroAndEmptyHasNoQuantile) {
  LatencySketch s;
  EXPECT_FALSE(s.quantile(0.5));
  s.add(0.5);
  s.add(0);
  s.add(1000);
  EXPECT_EQ(*s.quantile(0), 0.0);
  EXPECT_NEAR(*s.quantile(1), 1000, 10);
  EXPECT_FALSE(s.quantile(1.5));
}

TEST(Sketch, EncodingRoundTripsCompactly) {
  LatencySketch s;
  for (double v : generate("lognormal", 10'000, 5)) s.add(v);
  s.add(0.1);
  const std::string bytes = s.encode();
  const auto back = LatencySketch::decode(bytes);
  ASSERT_TRUE(back);
  EXPECT_EQ(*back, s);
  EXPECT_EQ(*back->quantile(0.99), *s.quantile(0.99));
  EXPECT_LT(bytes.size(), 1500u) << "10,000 samples should fit in well under a KiB or two";
  LatencySketch one;
  one.add(12'345);
  EXPECT_LE(one.encode().size(), 6u);
  // An hour of one-minute runs: 60 samples spread over ~180 buckets are written sparsely.
  LatencySketch hour;
  for (double v : generate("lognormal", 60, 6)) hour.add(v);
  EXPECT_LT(hour.encode().size(), 130u);
  EXPECT_EQ(*LatencySketch::decode(hour.encode()), hour);
  LatencySketch coarse(0.05);
  coarse.add(100);
  EXPECT_EQ(LatencySketch::decode(coarse.encode())->relative_accuracy(), 0.05);
  EXPECT_EQ(*LatencySketch::decode(LatencySketch().encode()), LatencySketch());
}

TEST(Sketch, DecodeRejectsGarbage) {
  std::mt19937 rng(3);
  for (int i = 0; i < 20'000; ++i) {
    std::string junk(static_cast<size_t>(rng() % 64), '\0');
    for (auto& c : junk) c = static_cast<char>(rng());
    if (i % 2 == 0 && !junk.empty()) junk[0] = 1;  // right version byte, wrong rest
    const auto s = LatencySketch::decode(junk);
    if (s) {
      EXPECT_EQ(LatencySketch::decode(s->encode()), s);  // whatever decodes is a valid sketch
    }
  }
  LatencySketch s;
  s.add(1000);
  std::string bytes = s.encode();
  EXPECT_FALSE(LatencySketch::decode(bytes.substr(0, bytes.size() - 1)));
  EXPECT_FALSE(LatencySketch::decode(bytes + "x"));
}

// Found by fuzzing: counts beyond 2^53 made quantiles drift between a decode and its re-encoding.
TEST(Sketch, DecodeRejectsCountsBeyondDoublePrecision) {
  LatencySketch s;
  s.add(1000, uint64_t{1} << 52);
  ASSERT_TRUE(LatencySketch::decode(s.encode()));
  s.add(1000, uint64_t{1} << 52);
  s.add(2000, 1);
  EXPECT_FALSE(LatencySketch::decode(s.encode()));
}

TEST(Sketch, BucketCountIsBounded) {
  LatencySketch s;
  for (double v = 1.5; v < 1e300; v *= 1.01) s.add(v);
  EXPECT_LE(s.encode().size(), 16 + LatencySketch::kMaxBuckets * 2);
  // The largest values keep their accuracy.
  EXPECT_NEAR(*s.quantile(1.0) / 1e300, 1.0, 0.02);
}

}  // namespace
}  // namespace lookout
