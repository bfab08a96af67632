// Shell completion scripts for gracecheck (`gracecheck completion bash|zsh|
// fish`), generated from the same CLI11 tree as `--help`: every subcommand
// with its description, each one's options (those that take a value then
// complete file names, as most of them are paths), and file names for the
// positionals (scenario files, reports, directories). Nothing is kept by
// hand beside the options themselves, so a new option completes at once.
//
// Pure function of the tree; any thread.
#pragma once

#include <CLI/CLI.hpp>
#include <string>
#include <string_view>
#include <vector>

namespace gracecheck {

// The program's name as a user types it: the basename of app.get_name()
// (CLI11 sets it from argv[0] when parsing), or "gracecheck".
std::string ProgramName(const CLI::App& app);

// The shells a script can be made for, in the order `--help` lists them.
const std::vector<std::string>& CompletionShells();

// The script for `shell` (one of CompletionShells()), for the program named
// by app.get_name().
std::string CompletionScript(const CLI::App& app, std::string_view shell);

}  // namespace gracecheck
