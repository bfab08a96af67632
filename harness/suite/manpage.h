// gracecheck(1), the man page, generated from the same CLI11 tree as
// `--help` (`gracecheck manpage`; the build writes it to
// build/share/man/man1/gracecheck.1): every subcommand with its options,
// and the exit codes from exit_codes.h. Pure function of the tree.
#pragma once

#include <CLI/CLI.hpp>
#include <string>
#include <string_view>

namespace gracecheck {

std::string ManPage(const CLI::App& app, std::string_view version);

}  // namespace gracecheck
