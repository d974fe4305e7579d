// A one-line progress bar on stderr for long model loads, drawn only when stderr is a terminal so
// that pipes, logs and tests see nothing of it.
#pragma once

#include "llm/nn/module.h"

namespace kiln::cli {

// A callback drawing "stage [#####.....] done/total", redrawn when the bar or stage changes and
// erased when a stage completes; empty when stderr is not a terminal.
llm::nn::Progress terminal_progress_bar();

}  // namespace kiln::cli
