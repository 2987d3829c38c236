// The status page in a real browser (Debian's headless Chromium) against the real daemon with
// backfilled history: the DOM holds the groups, states and incidents; a private monitor is
// absent; the page asks no other host for anything and needs no script; at phone width nothing
// overflows, the states have their colours and a big group shows only its failing monitors; an
// open post and planned maintenance come first, wrap at phone width, and the post's monitor
// says its impact;
// screenshots are kept for a person to see.
#include <gtest/gtest.h>

#include <filesystem>
#include <regex>

#include "core/clock.h"
#include "tests/integration/harness.h"

namespace lookout::testing {
namespace {

std::string chromium(const std::vector<std::string>& extra, const std::string& url,
                     const TempDir& dir) {
  std::vector<std::string> args{"/usr/bin/chromium",
                                "--headless",
                                "--no-sandbox",
                                "--disable-gpu",
                                "--disable-quic",
                                "--no-first-run",
                                "--disable-background-networking",
                                "--disable-component-update",
                                "--disable-sync",
                                "--user-data-dir=" + dir.file("chromium-profile")};
  args.insert(args.end(), extra.begin(), extra.end());
  args.push_back(url);
  Process p(args, {}, dir.path());
  const auto code = p.wait(90'000ms);
  EXPECT_TRUE(code.has_value()) << "chromium did not finish";
  return p.out();
}

bool well_formed(const std::string& path) {
  const std::string cmd =
      "/usr/bin/python3 -c 'import sys,xml.etree.ElementTree as E; E.parse(sys.argv[1])' " + path;
  return std::system(cmd.c_str()) == 0;
}

TEST(StatusPage, RealBrowserRealHistory) {
  if (!std::filesystem::exists("/usr/bin/chromium"))
    GTEST_FAIL() << "chromium is not installed (scripts/install-deps.sh --test)";
  TempDir dir;
  TargetServer target;
  add_standard_routes(target);
  target.start();
  // A week of history for m0..m2 before the daemon starts.
  Process backfill({LOOKOUT_BACKFILL_BINARY, "--db", dir.file("lookout.db"), "--monitors", "3",
                    "--days", "7", "--raw-days", "1"},
                   {}, dir.path());
  ASSERT_EQ(backfill.wait(120'000ms), 0) << backfill.err();
  const std::string token = "admin-token-for-the-browser-test";
  // A group of 31 monitors, more than a group shows unfolded; w30 fails.
  std::string fleet;
  for (int i = 0; i < 31; ++i) {
    fleet += fmt::format(
        "[[monitor]]\nname = \"w{}\"\ntype = \"http\"\ngroup = \"Fleet\"\npublic = true\nurl = "
        "\"http://127.0.0.1:{}/{}\"\n",
        i, target.port(), i == 30 ? "fail" : "ok");
  }
  Daemon d(dir,
           fmt::format("[defaults]\ninterval = \"500ms\"\ntimeout = \"400ms\"\nfail_after = 1\n"
                       "[[monitor]]\nname = \"m0\"\ntype = \"http\"\ngroup = \"Portal\"\npublic = "
                       "true\nurl = \"http://127.0.0.1:{0}/ok\"\n"
                       "[[monitor]]\nname = \"m1\"\ntype = \"http\"\ngroup = \"Portal\"\npublic = "
                       "true\nurl = \"http://127.0.0.1:{0}/fail\"\n"
                       "[[monitor]]\nname = \"m2\"\ntype = \"http\"\ngroup = \"Internal\"\nurl = "
                       "\"http://127.0.0.1:{0}/ok\"\n{1}",
                       target.port(), fleet),
           "admin_token = \"${env:ADMIN}\"", {{"ADMIN", token}});
  d.start();
  // Every monitor judged, since the page counts those without data yet apart.
  ASSERT_TRUE(wait_until(
      [&] {
        for (int i = 0; i < 30; ++i) {
          if (d.monitor(fmt::format("w{}", i))["state"] != "up") return false;
        }
        return d.monitor("m1")["state"] == "down" && d.monitor("w30")["state"] == "down" &&
               d.monitor("m0")["uptime_90d"].is_number();
      },
      30'000ms));

  // A post about m0 with a long title and a long link (they must wrap at phone width), and a
  // maintenance window planned for w5.
  httplib::Client api("127.0.0.1", d.port());
  const httplib::Headers bearer{{"Authorization", "Bearer " + token}};
  const auto posted = api.Post(
      "/api/v1/posts", bearer,
      nlohmann::json{{"title", "Checkout is slow for some customers paying with cards abroad"},
                     {"status", "identified"},
                     {"impact", "major"},
                     {"monitors", {"m0"}},
                     {"body",
                      "The card processor is degraded, see https://status.processor.example/"
                      "incidents/0123456789abcdefghijklmnopqrstuvwxyz0123456789"}}
          .dump(),
      "application/json");
  ASSERT_TRUE(posted && posted->status == 201) << (posted ? posted->body : "no answer");
  const auto planned = api.Post(
      "/api/v1/maintenance", bearer,
      nlohmann::json{{"title", "Fleet kernel upgrade"},
                     {"monitors", {"w5"}},
                     {"start", rfc3339(std::chrono::system_clock::now() + std::chrono::hours(1))},
                     {"duration", "30m"}}
          .dump(),
      "application/json");
  ASSERT_TRUE(planned && planned->status == 201) << (planned ? planned->body : "no answer");

  const std::string base = fmt::format("http://127.0.0.1:{}", d.port());
  const std::string dom = chromium({"--dump-dom"}, base + "/", dir);
  // The post first, then the planned maintenance, then the monitors; m0's row says the impact.
  const size_t post_at = dom.find("class=\"posts\"");
  const size_t planned_at = dom.find("class=\"maintenance\"");
  ASSERT_NE(post_at, std::string::npos) << dom.substr(0, 2000);
  ASSERT_NE(planned_at, std::string::npos);
  EXPECT_LT(post_at, planned_at);
  EXPECT_LT(planned_at, dom.find("data-group=\"Portal\""));
  EXPECT_NE(dom.find("Fleet kernel upgrade"), std::string::npos);
  const size_t m0_row = dom.find("data-monitor=\"m0\"");
  EXPECT_LT(dom.find("Major impact</a>", m0_row), dom.find("</li>", m0_row))
      << "m0's own row names the post's impact";
  EXPECT_NE(dom.find("data-group=\"Portal\""), std::string::npos) << dom.substr(0, 2000);
  EXPECT_NE(dom.find("data-monitor=\"m0\" data-state=\"up\""), std::string::npos);
  EXPECT_NE(dom.find("data-monitor=\"m1\" data-state=\"down\""), std::string::npos);
  EXPECT_NE(dom.find("Partial outage"), std::string::npos) << "two of 33 public monitors are down";
  EXPECT_NE(dom.find("class=\"incident state-down\""), std::string::npos)
      << "the open incident of m1 is listed";
  EXPECT_EQ(dom.find("data-monitor=\"m2\""), std::string::npos)
      << "the private monitor is invisible without the token";
  EXPECT_EQ(dom.find("/monitor/m2"), std::string::npos);
  EXPECT_EQ(dom.find("Internal"), std::string::npos);
  EXPECT_EQ(dom.find("<script"), std::string::npos) << "the page needs no script";
  // Daily bars: one small SVG a monitor with history, one path per colour class; the backfilled
  // week's figures as text, a line per week, and the legend of the colours.
  EXPECT_NE(dom.find("<svg class=\"bars\" viewBox=\"0 0 90 1\""), std::string::npos);
  EXPECT_EQ(dom.find("<rect"), std::string::npos);
  EXPECT_NE(dom.find("<details class=\"weeks\"><summary>Uptime by week</summary>"),
            std::string::npos);
  EXPECT_TRUE(std::regex_search(
      dom, std::regex(R"(<li>\d\d-\d\d: \d+\.\d\d%(, lowest day \d+\.\d\d%)?</li>)")));
  EXPECT_NE(dom.find("class=\"bar-legend\""), std::string::npos);
  EXPECT_NE(dom.find("p95 "), std::string::npos);
  // The big group is folded but for its failing monitors: w30, and any healthy one whose run
  // timed out under a slow (sanitized) build just then. The counts and the fold agree.
  std::smatch counts;
  ASSERT_TRUE(std::regex_search(
      dom, counts,
      std::regex(R"(<p class="counts">31 monitors: (\d+) operational, (\d+) down</p>)")))
      << dom.substr(0, 2000);
  EXPECT_GE(std::stoi(counts[2]), 1) << "w30 is down";
  EXPECT_EQ(std::stoi(counts[1]) + std::stoi(counts[2]), 31);
  EXPECT_NE(dom.find(fmt::format("<summary>The other {} monitors</summary>", counts[1].str())),
            std::string::npos);
  // Nothing from elsewhere: every src and href stays on this host.
  const std::regex link(R"((src|href)=\"([^\"]*)\")");
  for (auto it = std::sregex_iterator(dom.begin(), dom.end(), link); it != std::sregex_iterator();
       ++it) {
    const std::string url = (*it)[2];
    // The post's own link is an anchor a reader may click, not something the page loads.
    if (url.rfind("https://status.processor.example/", 0) == 0) continue;
    EXPECT_TRUE(url.rfind('/', 0) == 0 || url.rfind(base, 0) == 0) << "external reference: " << url;
  }

  const std::string monitor_dom = chromium({"--dump-dom"}, base + "/monitor/m0", dir);
  size_t charts = 0;
  for (size_t p = monitor_dom.find("class=\"chart\""); p != std::string::npos;
       p = monitor_dom.find("class=\"chart\"", p + 1))
    ++charts;
  EXPECT_EQ(charts, 3u) << "24 hours, 7 days and 90 days";
  EXPECT_NE(monitor_dom.find(" ms</text>"), std::string::npos) << "the axis has units";

  // Laid out by the browser at phone width: no horizontal overflow, the colours of the states
  // from the stylesheet, and of the big group only the failing monitor is on screen. The page
  // refuses frames, so a local page fetches it (web security off for this one profile) and lays
  // it out in a frame 360 px wide, with its stylesheet from the daemon, then reads the layout.
  // What is on screen is checkVisibility(): a closed <details> hides its content with
  // content-visibility, under which Chromium still gives an element client rects.
  dir.write("frame.html", fmt::format(R"(<!DOCTYPE html><html><body style="margin:0">
<iframe id="f" style="width:360px;height:900px;border:0"></iframe><pre id="out"></pre>
<script>
const f = document.getElementById("f");
f.addEventListener("load", () => {{
  const d = f.contentDocument, w = d.defaultView, out = [];
  out.push("overflow=" + (d.documentElement.scrollWidth - d.documentElement.clientWidth));
  for (const c of ["up", "minor", "degraded", "down", "none"]) {{
    const p = d.querySelector("svg.bars path." + c);
    if (p) out.push("bar-" + c + "=" + w.getComputedStyle(p).stroke);
  }}
  for (const s of ["up", "down"]) {{
    const e = d.querySelector(".monitor.state-" + s + " .state");
    out.push("state-" + s + "=" + w.getComputedStyle(e).color);
  }}
  for (const m of ["w30", "w0", "m0"]) {{
    const e = d.querySelector("[data-monitor='" + m + "']");
    out.push("shown-" + m + "=" + (e && e.checkVisibility() ? "yes" : "no"));
  }}
  for (const s of ["posts", "maintenance"]) {{
    const e = d.querySelector("section." + s);
    out.push("shown-" + s + "=" + (e && e.checkVisibility() ? "yes" : "no"));
  }}
  document.getElementById("out").textContent = "LAYOUT " + out.join(" ") + " END";
}});
fetch("{0}/").then(r => r.text()).then(html => {{
  f.srcdoc = html.replace("<head>", "<head><base href=\"{0}/\"/>");
}});
</script></body></html>)",
                                      base));
  const std::string layout =
      chromium({"--dump-dom", "--disable-web-security", "--disable-site-isolation-trials",
                "--allow-file-access-from-files", "--virtual-time-budget=10000"},
               "file://" + dir.file("frame.html"), dir);
  const auto from = layout.find("<pre id=\"out\">LAYOUT "), to = layout.find(" END</pre>");
  ASSERT_NE(from, std::string::npos) << layout.substr(0, 3000);
  const std::string seen = layout.substr(from, to - from) + " ";
  EXPECT_NE(seen.find("overflow=0 "), std::string::npos) << seen;
  // The light scheme's colours, for the states and for every class of day on the page.
  EXPECT_NE(seen.find("state-up=rgb(26, 127, 55) "), std::string::npos) << seen;
  EXPECT_NE(seen.find("state-down=rgb(207, 34, 46) "), std::string::npos) << seen;
  EXPECT_NE(seen.find("bar-none=rgb(140, 149, 159) "), std::string::npos)
      << "the backfill covers a week of the 90 days: " << seen;
  EXPECT_TRUE(seen.find("bar-up=") != std::string::npos ||
              seen.find("bar-minor=") != std::string::npos)
      << "the backfilled days are up 99.5 % of the time: " << seen;
  const std::vector<std::pair<std::string, std::string>> colours = {
      {"up", "rgb(26, 127, 55)"},
      {"minor", "rgb(74, 194, 107)"},
      {"degraded", "rgb(154, 103, 0)"},
      {"down", "rgb(207, 34, 46)"}};
  for (const auto& [cls, rgb] : colours) {
    const auto at = seen.find("bar-" + cls + "=");
    if (at != std::string::npos) {
      EXPECT_EQ(seen.substr(at, seen.find(' ', seen.find(')', at)) - at), "bar-" + cls + "=" + rgb);
    }
  }
  EXPECT_NE(seen.find("shown-w30=yes "), std::string::npos) << seen;
  EXPECT_NE(seen.find("shown-w0=no "), std::string::npos) << seen;
  EXPECT_NE(seen.find("shown-m0=yes "), std::string::npos) << seen;
  EXPECT_NE(seen.find("shown-posts=yes "), std::string::npos) << seen;
  EXPECT_NE(seen.find("shown-maintenance=yes "), std::string::npos) << seen;

  // Screenshots for a person to look at, at desktop and phone width.
  const std::string shots = std::string(LOOKOUT_BUILD_DIR) + "/screenshots";
  std::filesystem::create_directories(shots);
  for (const auto& [name, size] :
       {std::pair{"status-1280.png", "1280,900"}, std::pair{"status-360.png", "360,900"}}) {
    chromium({"--screenshot=" + shots + "/" + name, std::string("--window-size=") + size,
              "--hide-scrollbars"},
             base + "/", dir);
    EXPECT_GT(std::filesystem::file_size(shots + "/" + name), 10'000u) << name;
  }
  chromium({"--screenshot=" + shots + "/monitor-1280.png", "--window-size=1280,1400"},
           base + "/monitor/m0", dir);

  // Well-formed HTML and SVG, also the private view through HTTP Basic.
  dir.write("index.html", http_get(d.port(), "/").body);
  const std::string m1 = http_get(d.port(), "/monitor/m1").body;
  EXPECT_NE(m1.find("<li class=\"event\">"), std::string::npos)
      << "the incident's events are listed";
  EXPECT_NE(m1.find("incident.opened"), std::string::npos);
  dir.write("monitor.html", m1);
  dir.write("badge.svg", http_get(d.port(), "/badge/m0.svg").body);
  // A browser's private view: HTTP Basic, any user name, the token as the password.
  const auto login = http_get(d.port(), "/login");
  EXPECT_EQ(login.status, 401);
  EXPECT_NE(login.headers.find("WWW-Authenticate")->second.find("Basic"), std::string::npos);
  const auto admin =
      http_get(d.port(), "/", {{"Authorization", "Basic " + base64("anyone:" + token)}});
  EXPECT_NE(admin.body.find("data-monitor=\"m2\""), std::string::npos);
  EXPECT_EQ(http_get(d.port(), "/login", {{"Authorization", "Basic " + base64("anyone:" + token)}})
                .status,
            303);
  EXPECT_EQ(http_get(d.port(), "/", {{"Authorization", "Basic " + base64("anyone:wrong")}})
                .body.find("data-monitor=\"m2\""),
            std::string::npos);
  dir.write("private.html",
            http_get(d.port(), "/monitor/m2", {{"Authorization", "Bearer " + token}}).body);
  for (const char* f : {"index.html", "monitor.html", "badge.svg", "private.html"})
    EXPECT_TRUE(well_formed(dir.file(f))) << f;
  EXPECT_EQ(http_get(d.port(), "/monitor/m2").status, 404);
  EXPECT_EQ(http_get(d.port(), "/badge/m2.svg").status, 404);
  EXPECT_EQ(http_get(d.port(), "/monitor/m2", {{"Authorization", "Bearer " + token}}).status, 200);
}

}  // namespace
}  // namespace lookout::testing
