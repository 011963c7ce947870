#include "commands.h"
#include "interrupts.h"

#include <fcnlab/serve/server.h>

#include <iostream>

namespace fcnlab {
namespace tools {

void add_serve_command(CLI::App& app) {
  auto options = std::make_shared<serve::ServeOptions>();
  options->folders.clear();
  auto* command = app.add_subcommand(
      "serve",
      "Serve a live dashboard of the training runs below DIR... (default .): "
      "runs, charts, comparisons, the network and Test One, at "
      "http://127.0.0.1:8080/");
  command->add_option("DIR", options->folders, "run folders or folders of runs")
      ->check(CLI::ExistingDirectory);
  command->add_option("--port", options->port, "port (0: a free one)")
      ->check(CLI::Range(0, 65535));
  command->add_option(
      "--host",
      options->host,
      "address to listen on; 127.0.0.1 keeps the dashboard on this machine");
  command->add_option(
      "--allow-host",
      options->allowed_hosts,
      "a Host name to accept besides 127.0.0.1, localhost and [::1] (the "
      "machine's name when serving beyond it)");
  command->add_option(
      "--device", options->device, "where Test One runs models");
  command->callback([options] {
    if (options->folders.empty()) {
      options->folders = {"."};
    }
    if (options->host != "127.0.0.1" && options->host != "localhost" &&
        options->host != "::1") {
      std::cerr << "warning: serving on " << options->host
                << ": anyone who can reach this address sees your runs and "
                   "can run your models; the dashboard has no login";
      if (options->allowed_hosts.empty()) {
        std::cerr << ". Browsers elsewhere must name this machine as "
                     "--allow-host NAME";
      }
      std::cerr << "\n";
    }
    serve::Server server(*options);
    server.start();
    std::cout << "serving " << options->folders.size() << " folder(s) at "
              << server.url() << " (Ctrl-C stops)" << std::endl;
    serve_until_interrupted(server);
    std::cout << "stopped" << std::endl;
  });
}

} // namespace tools
} // namespace fcnlab
