#include "bindings.h"

#include <fcnlab/caffe/prototxt.h>
#include <fcnlab/models/fcn_net.h>
#include <fcnlab/serve/network_drawing.h>
#include <fcnlab/serve/server.h>

#include <pybind11/stl.h>

#include <chrono>
#include <thread>

namespace py = pybind11;

namespace fcnlab {
namespace bindings {

void bind_serve(py::module& m) {
  py::class_<serve::Server>(
      m,
      "Server",
      "A running `fcnlab serve` dashboard (fcnlab.serve(..., block=False)); "
      "stop() ends it.")
      .def_property_readonly("url", &serve::Server::url)
      .def_property_readonly("port", &serve::Server::port)
      .def_property_readonly("running", &serve::Server::running)
      .def(
          "stop",
          &serve::Server::stop,
          py::call_guard<py::gil_scoped_release>())
      .def("__repr__", [](const serve::Server& server) {
        return "fcnlab.Server(" + server.url() +
            (server.running() ? ", running)" : ", stopped)");
      });

  m.def(
      "serve",
      [](std::vector<std::string> folders,
         int port,
         std::string host,
         std::vector<std::string> allowed_hosts,
         std::string device,
         bool block) {
        serve::ServeOptions options;
        options.folders = folders.empty() ? std::vector<std::string>{"."}
                                          : std::move(folders);
        options.port = port;
        options.host = std::move(host);
        options.allowed_hosts = std::move(allowed_hosts);
        options.device = std::move(device);
        auto server = std::make_unique<serve::Server>(options);
        server->start();
        py::print("serving at", server->url());
        if (!block) {
          return py::cast(std::move(server));
        }
        // Ctrl-C reaches Python only while it holds the GIL: wait in steps.
        while (server->running()) {
          {
            py::gil_scoped_release release;
            std::this_thread::sleep_for(std::chrono::milliseconds(100));
          }
          if (PyErr_CheckSignals() != 0) {
            py::gil_scoped_release release;
            server->stop();
            break;
          }
        }
        if (PyErr_Occurred()) {
          throw py::error_already_set();
        }
        return py::object(py::none());
      },
      py::arg("folders") = std::vector<std::string>{},
      py::arg("port") = 8080,
      py::arg("host") = "127.0.0.1",
      py::arg("allowed_hosts") = std::vector<std::string>{},
      py::arg("device") = "cpu",
      py::arg("block") = true,
      "Serves the dashboard of the runs and datasets below `folders` (the "
      "current folder by default) at http://host:port/ (port 0: a free one). "
      "block=True serves until Ctrl-C; block=False returns the running "
      "Server at once (for a notebook): server.url, server.stop().");

  m.def(
      "draw_network",
      [](const py::object& network,
         const std::string& path,
         int64_t height,
         int64_t width) {
        const auto spec = py::isinstance<py::str>(network)
            ? caffe::network_spec(network.cast<std::string>(), 21)
            : network_of(network)->spec();
        py::gil_scoped_release release;
        serve::draw_network(spec, path, height, width);
      },
      py::arg("network"),
      py::arg("path"),
      py::arg("height") = 0,
      py::arg("width") = 0,
      "Draws the layer graph of `network` (an fcnlab network module, a "
      "built-in name or a prototxt file) into `path` (.svg or .png), with "
      "output shapes at a height x width input (default: the network's "
      "own size, or 500x500).");
}

} // namespace bindings
} // namespace fcnlab
