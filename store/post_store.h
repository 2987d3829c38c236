// Posts in SQLite: every post with its updates, read whole at start-up (people write a few a
// week, so the loop keeps them all) and written whole whenever one changes.
#pragma once

#include <sqlite3.h>

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "store/records.h"

namespace lookout {

// Every post, oldest first, each with its updates oldest first.
std::vector<PostRecord> read_posts(sqlite3* db);
// Inside the caller's transaction: each post's row and all its updates as given.
bool write_posts(sqlite3* db, const std::map<int64_t, PostRecord>& posts, std::string& error);

}  // namespace lookout
