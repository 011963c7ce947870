#include "commands.h"

#include <fcnlab/data/prepare_voc.h>

#include <iostream>

namespace fcnlab {
namespace tools {

void add_prepare_voc_command(CLI::App& app) {
  struct Flags {
    std::string archive;
    std::string out;
  };
  auto flags = std::make_shared<Flags>();
  auto* command = app.add_subcommand(
      "prepare-voc",
      "Turn a VOC 2012 trainval archive into OUT/{train,val}/{images,labels} "
      "(reads the tar directly)");
  command->add_option("ARCHIVE", flags->archive, "VOCtrainval_11-May-2012.tar")
      ->required()
      ->check(CLI::ExistingFile);
  command
      ->add_option("OUT", flags->out, "output folder (replaced when complete)")
      ->required();
  command->callback([flags] {
    const auto report = data::prepare_voc(
        flags->archive, flags->out, progress_line("prepare-voc"));
    std::cout << "wrote " << flags->out << ": " << report.train << " train, "
              << report.val << " val images\n";
  });
}

} // namespace tools
} // namespace fcnlab
