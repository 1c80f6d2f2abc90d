// The tickets module's tables, indexes, full-text indexes and triggers, as ordered migrations.
#pragma once

#include <string>
#include <vector>

namespace tickets {

std::vector<std::string> migrations();

}  // namespace tickets
