// A Nagios / Monitoring-Plugins plugin's output read as the plugin guidelines write it: the
// status line, the long text and the performance data
//
//   DISK OK - free space: / 3326 MB (56%); | /=2643MB;5948;5958;0;5968
//   long text line 1
//   long text line 2 | more=1;;; perfdata
//   still=2 perfdata
//
// Nothing in it is trusted: a bad item of performance data is skipped and the good ones kept,
// and every text that leaves here is valid UTF-8 without control characters. Pure.
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace lookout {

// The longest status line kept, in bytes (cut on a character boundary).
inline constexpr size_t kPluginLineMax = 200;
// The most performance data items one output gives; the rest are dropped.
inline constexpr size_t kPerfdataMaxItems = 100;
// The longest label kept, in bytes; an item with a longer one is skipped.
inline constexpr size_t kPerfdataMaxLabel = 128;

struct PluginOutput {
  std::string status_line;  // the first line before "|", trimmed, cleaned and capped
  std::string perfdata;     // every part of performance data, joined by spaces
};

// Splits a plugin's standard output into its status line and its performance data.
PluginOutput split_plugin_output(std::string_view out);

// `text` as a line a person may read anywhere (a cause, JSON, a log line): invalid UTF-8 bytes
// become U+FFFD, control characters spaces; trimmed; cut to `max` bytes on a character boundary.
std::string plugin_text(std::string_view text, size_t max = kPluginLineMax);

struct PerfdataItem {
  std::string label;  // without its single quotes; '' inside them is one '
  // In base units: seconds for s, ms and us, bytes for B, KB, MB, GB and TB (powers of 1024,
  // as the plugins count them); as written for %, c, no unit and a unit not known here.
  // nullopt for "U", a value the plugin could not measure.
  std::optional<double> value;
  std::string uom;                 // the unit as written: "ms", "%", "MB", "" ...
  std::string warn, crit;          // the threshold ranges as written ("10", "@5:10", "~:20"), or ""
  std::optional<double> min, max;  // in base units like the value
  bool operator==(const PerfdataItem&) const = default;
};

// The items of performance data in `text`, in order, at most `max_items`. Items are separated
// by white space; a label with spaces is quoted: 'label with spaces'=value[UOM];warn;crit;min;max.
std::vector<PerfdataItem> parse_perfdata(std::string_view text,
                                         size_t max_items = kPerfdataMaxItems);

// What one unit of `uom` is in base units (0.001 for "ms", 1024 for "KB"); 1 for a unit that
// is not converted.
double perfdata_unit_scale(std::string_view uom);

}  // namespace lookout
