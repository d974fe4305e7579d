// The inputs `kiln run` and `kiln bench` feed a model: .npy files named by `--input NAME=FILE.npy`,
// or, when none are given, random values of each input's declared shape (seeded, so every call
// makes the same ones).
#pragma once

#include <CLI/CLI.hpp>
#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "kiln/session.h"

namespace kiln::cli {

// `specs` are NAME=FILE.npy strings; with any given, the session itself reports unknown and
// missing names at run time. `free_dim` is the size given to unknown dims of random inputs.
std::map<std::string, Tensor> make_feeds(const Session& session, const std::vector<std::string>& specs,
                                         int64_t free_dim);

// Adds the `-i,--input NAME=FILE.npy` and `--free-dim N` options that fill make_feeds' arguments.
void add_feed_options(CLI::App& cmd, std::vector<std::string>& specs, int64_t& free_dim);

}  // namespace kiln::cli
