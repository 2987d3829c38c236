// GET /api/v1/cluster and the cluster metrics, rendered from the nodes and their counts.
#include <gtest/gtest.h>

#include "web/metrics.h"
#include "web/status_json.h"

namespace lookout {
namespace {

std::vector<ClusterNodeView> three_nodes() {
  return {{{"fra-1", "fra", "0.1.0", true, 1500, "h"}, 3, 2},
          {{"fra-2", "fra", "0.1.0", false, 90'000, "h"}, 0, 0},
          {{"nyc-\"1\"", "nyc", "0.2.0", true, 0, "h"}, 3, 1}};
}

TEST(ClusterApi, TheAnswerNamesTheEngineAndEveryNodeWithItsWork) {
  const WallTime now = parse_rfc3339("2026-12-06T12:00:00Z").value();
  const auto j = cluster_json(true, three_nodes(), now);
  EXPECT_EQ(j["storage"], nlohmann::json::parse(R"({"engine": "postgresql", "ok": true})"));
  ASSERT_EQ(j["nodes"].size(), 3U);
  EXPECT_EQ(j["nodes"][0], nlohmann::json::parse(R"({"node": "fra-1", "location": "fra",
      "version": "0.1.0", "alive": true, "last_seen": "2026-12-06T11:59:58.500Z",
      "probing": 3, "deciding": 2})"));
  EXPECT_EQ(j["nodes"][1]["alive"], false);
  EXPECT_EQ(j["nodes"][1]["last_seen"], "2026-12-06T11:58:30.000Z");
  EXPECT_EQ(cluster_json(false, {}, now)["storage"]["ok"], false);
  EXPECT_TRUE(cluster_json(false, {}, now)["nodes"].is_array());
}

TEST(ClusterApi, MetricsCountNodesByLocationAndEachNodesMonitorsByRole) {
  const std::string text = cluster_metrics_text(three_nodes(), 42);
  for (const char* line : {
           "lookout_cluster_nodes{location=\"fra\",alive=\"true\"} 1\n",
           "lookout_cluster_nodes{location=\"fra\",alive=\"false\"} 1\n",
           "lookout_cluster_nodes{location=\"nyc\",alive=\"true\"} 1\n",
           "lookout_cluster_nodes{location=\"nyc\",alive=\"false\"} 0\n",
           "lookout_cluster_monitors{node=\"fra-1\",role=\"probe\"} 3\n",
           "lookout_cluster_monitors{node=\"fra-1\",role=\"decide\"} 2\n",
           "lookout_cluster_monitors{node=\"nyc-\\\"1\\\"\",role=\"decide\"} 1\n",
           "# TYPE lookout_spool_rows gauge\nlookout_spool_rows 42\n",
       }) {
    EXPECT_NE(text.find(line), std::string::npos) << line << "\nin\n" << text;
  }
}

}  // namespace
}  // namespace lookout
