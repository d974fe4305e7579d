// `kiln passes`: lists the optimizer's passes by level, in the order they run; the names are what
// `--disable-pass` and SessionOptions::disabled_passes take.
#include <iostream>

#include "commands.h"
#include "passes/pass_manager.h"

namespace kiln::cli {

void add_passes_command(CLI::App& app) {
  auto* cmd = app.add_subcommand("passes", "List the optimizer's passes by level, in the order they run");
  cmd->callback([] {
    for (const passes::PassListing& p : passes::list_passes()) std::cout << p.level << " " << p.name << "\n";
  });
}

}  // namespace kiln::cli
