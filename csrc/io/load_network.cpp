#include <fcnlab/io/model_file.h>

namespace fcnlab {
namespace io {

LoadedNetwork load_network(
    const std::string& path,
    const std::function<models::FcnNet()>& build,
    const caffe::ImportOptions& import_options) {
  LoadedNetwork loaded;
  if (is_model_file(path)) {
    auto file = load_model(path);
    loaded.model = std::move(file.model);
    loaded.class_names = std::move(file.class_names);
    return loaded;
  }
  loaded.model = build();
  loaded.report = caffe::load_caffemodel(loaded.model, path, import_options);
  return loaded;
}

LoadedNetwork load_network(
    const std::string& path,
    const models::NetSpec& spec,
    const caffe::ImportOptions& import_options) {
  return load_network(
      path, [&spec] { return models::FcnNet(spec); }, import_options);
}

} // namespace io
} // namespace fcnlab
