// `--requests-out FILE`: every request record of a run as JSON lines, one
// object per request in the order they were recorded, for ad-hoc analysis
// (jq, pandas) of what the load saw. Fields are documented in
// reports/README.md; times are milliseconds (double) since the run's epoch,
// null for a moment that did not happen.
//
// Threading: pure functions of a read-only Timeline; WriteRequestRecords
// writes one file.
#pragma once

#include <nlohmann/json.hpp>
#include <ostream>
#include <string>

#include "timeline.h"

namespace gracecheck {

// One request as a JSON object; `write_key` is null when it asked no write.
nlohmann::json RequestRecordJson(std::uint32_t id, const RequestRecord& r,
                                 const std::string* write_key);

void WriteRequestRecords(std::ostream& out, const Timeline& tl);
// Throws std::runtime_error naming the path when it cannot write it.
void WriteRequestRecords(const std::string& path, const Timeline& tl);

}  // namespace gracecheck
