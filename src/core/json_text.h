// JSON text Kiln writes by hand (traces, the CLI's one-line reports, chat templates' tojson).
#pragma once

#include <string>
#include <string_view>

namespace kiln {

// `text` as a JSON string literal, quotes included: ", \\ and control characters escaped.
std::string json_quote(std::string_view text);

}  // namespace kiln
