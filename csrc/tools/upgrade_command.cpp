#include "commands.h"

#include <fcnlab/io/model_file.h>

#include <iostream>

namespace fcnlab {
namespace tools {

void add_upgrade_command(CLI::App& app) {
  auto files = std::make_shared<std::vector<std::string>>();
  auto* command = app.add_subcommand(
      "upgrade",
      "Convert model files and snapshots of fcnlab 0.1 (zip archives) to "
      "today's format, in place. Reads them through LibTorch's TorchScript "
      "importer, which trusts its input: only for files you wrote");
  command->add_option("FILE", *files, "model files or snapshots")
      ->required()
      ->check(CLI::ExistingFile);
  command->callback([files] {
    for (const auto& file : *files) {
      const std::string kind = io::upgrade_legacy_file(file);
      std::cout << "upgraded " << kind << " " << file << "\n";
    }
  });
}

} // namespace tools
} // namespace fcnlab
