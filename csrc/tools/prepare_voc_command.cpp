#include "commands.h"

#include <fcnlab/data/prepare_voc.h>
#include <fcnlab/data/sbd.h>

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

void add_prepare_sbd_command(CLI::App& app) {
  struct Flags {
    std::string archive;
    std::string out;
    std::string fcn_val_ids;
    std::string voc;
  };
  auto flags = std::make_shared<Flags>();
  auto* command = app.add_subcommand(
      "prepare-sbd",
      "Turn SBD's benchmark.tgz into OUT/{train,val}/{images,labels} (reads "
      "the archive directly; cls/*.mat labels become paletted PNGs)");
  command->add_option("ARCHIVE", flags->archive, "benchmark.tgz")
      ->required()
      ->check(CLI::ExistingFile);
  command
      ->add_option("OUT", flags->out, "output folder (replaced when complete)")
      ->required();
  auto* ids = command
                  ->add_option(
                      "--fcn-val-ids",
                      flags->fcn_val_ids,
                      "FCN's split: validate on these VOC 2011 ids "
                      "(seg11valid.txt), train on SBD's train list")
                  ->check(CLI::ExistingFile);
  auto* voc = command
                  ->add_option(
                      "--voc",
                      flags->voc,
                      "the VOC trainval archive holding the val ids' images")
                  ->check(CLI::ExistingFile);
  ids->needs(voc);
  voc->needs(ids);
  command->callback([flags] {
    const auto report = data::prepare_sbd(
        flags->archive,
        flags->out,
        progress_line("prepare-sbd"),
        flags->fcn_val_ids,
        flags->voc);
    std::cout << "wrote " << flags->out << ": " << report.train << " train, "
              << report.val << " val images\n";
  });
}

} // namespace tools
} // namespace fcnlab
